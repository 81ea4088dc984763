"""A question analysed once (qa/analyzer.py): every reader of it (the retriever, each answerer) takes this, none
re-derives it.

Analysis costs one e5 encoding (the largest per-question cost after the searches) plus language detection,
tokenizing, the history resolution, the Persian pseudo-query and the ordinal, each done once per question.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from verbatim_qa.text.normalize import tokenize
from verbatim_qa.text.stopwords import is_stop


@dataclass(frozen=True, eq=False)
class Query:
    text: str  # the question as asked: what the answer is composed for
    lang: str  # detect_lang(text)
    vector: np.ndarray  # the e5 query embedding (normalized) of ``search``
    tokens: tuple[str, ...]  # tokenize(search): the search form's words
    translation: str = ""  # terms of the index's other languages for the question's words (qa/crosslingual.py)
    names: tuple[str, ...] = ()  # Persian spellings of the question's names the index never spells in Latin
    ordinal: int | None = None  # "the third goal" -> 3 (None when ordinals are off or there is none)
    search: str = ""  # the standalone search text (qa/history.py); '' = the question itself
    # a follow-up searched with earlier terms: its own content terms (and their Persian terms), what it asks anew
    focus: frozenset[str] = frozenset()
    evidence_lang: str | None = None  # the language of evidence asked for ("And in Persian sources?" -> "fa")
    answer_type: str | None = None  # the kind of answer the wording asks for (qa/answertype.py)
    roles: frozenset[str] = frozenset()  # non-body sentences the question asks for (bylines, references, ...)
    identifiers: tuple[str, ...] = ()  # code terms of the search text, search form (verbatim_qa/text/identifiers.py)
    content_terms: frozenset[str] = field(init=False)  # content words of the question and its translation

    def __post_init__(self) -> None:
        if not self.search:
            object.__setattr__(self, "search", self.text)
        terms = content(self.tokens, self.lang) | content(tokenize(self.translation))
        object.__setattr__(self, "content_terms", frozenset(terms))

    @property
    def pseudo(self) -> str:
        """The Persian pseudo-query searched with BM25: translated terms and bridged names."""
        return " ".join([self.translation, *self.names]).strip()


def content(tokens, lang: str | None = None) -> set[str]:
    """Content words of a token list: no stopwords (English, Persian and ``lang``'s), no one-letter tokens."""
    return {t for t in tokens if len(t) > 1 and not is_stop(t, lang)}

"""The one analysis of a question: ``Analyzer.analyze`` turns the question as asked (and the conversation before
it) into the ``Query`` that the retriever and every answerer take.

Each step runs once per question: language detection, tokenizing, the history resolution (the standalone search
text of a follow-up, qa/history.py; an LLM's condensed question when one is given), the e5 encoding of the search
text, the bridges into the index's other languages (term translation, qa/crosslingual.py; Persian spellings of
names, qa/names.py), and the wording's answer type, roles, evidence language and ordinal (qa/answertype.py,
qa/ordinals.py). The analyzer reads the index only for its bridges: BM25's idf and vocabulary, the term
translator, and the store's encoder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from verbatim_qa.settings import Settings
from verbatim_qa.text.identifiers import identifiers
from verbatim_qa.text.lang import detect_lang
from verbatim_qa.text.normalize import tokenize
from verbatim_qa.vectorstore.lexical import LexicalIndex
from verbatim_qa.vectorstore.store import Store

from .answertype import expected_type, requested_lang, requested_roles, without_lang_request
from .crosslingual import TermTranslator
from .history import carried, needs_history, turns_of
from .ordinals import question_ordinal
from .query import Query, content

# (question, earlier (question, answer) turns) -> a standalone question, or None to use the offline one
Condense = Callable[[str, list[tuple[str, str]]], str | None]


class Analyzer:
    def __init__(self, store: Store, settings: Settings, lexical: LexicalIndex | None = None,
                 translator: TermTranslator | None = None) -> None:
        """``store``: whose encoder embeds the search text (read at each question: the encoder loads lazily);
        ``lexical`` (BM25) and ``translator``: the index's, for the history's idf and the bridges (None: off)."""
        self.store = store
        self.settings = settings
        self.lexical = lexical
        self.translator = translator

    def analyze(self, question: str, history: Sequence = (), condense: Condense | None = None) -> Query:
        """``history``: the earlier turns (questions, ``{"question", "answer"?}`` objects or pairs; qa/history.py
        ``turns_of``; ValueError for anything else). A question that leans on them (``needs_history``) is searched
        with ``condense``'s standalone question when it gives one (an LLM's), else with the offline standalone text
        (its own words and the salient earlier terms). Everything searched (encoding, tokens, translation, names)
        reads the search text; the answer is composed for the question as asked."""
        s = self.settings
        lang = detect_lang(question)
        own = tuple(tokenize(question))
        turns = turns_of(history)
        earlier = tuple(q for q, _ in turns if q)
        search = question
        if turns and s.retrieval.use_history and needs_history(question, lang, own):
            search = (condense(question, turns) if condense is not None else None) or self._carried(
                question, earlier, lang, own)
        tokens = own if search == question else tuple(tokenize(search))
        translation, names = self._bridges(search, tokens, lang)
        focus: frozenset[str] = frozenset()
        if search != question:  # what the follow-up asks anew weighs more in choosing its quotes; when it asks
            asked = without_lang_request(question)  # nothing anew ("And in Persian sources?"), what it carried
            asked_tokens = own if asked == question else tuple(tokenize(asked))
            if not content(asked_tokens):
                asked = search[len(question):]
                asked_tokens = tuple(tokenize(asked))
            own_translation, own_names = self._bridges(asked, asked_tokens, lang)
            focus = frozenset(content(asked_tokens) | content(tokenize(" ".join([own_translation, *own_names]))))
        answer_type = expected_type(question, lang)
        if answer_type is None and search != question and earlier:  # "What about Turkmenistan?" asks what the
            answer_type = expected_type(earlier[-1], detect_lang(earlier[-1]))  # question before it asked
        return Query(text=question, lang=lang, vector=self.store.embedder.encode_queries([search])[0],
                     tokens=tokens, translation=translation, names=names,
                     ordinal=question_ordinal(question) if s.retrieval.use_ordinals else None,
                     answer_type=answer_type, roles=requested_roles(question), search=search,
                     focus=focus, evidence_lang=requested_lang(question), identifiers=identifiers(search))

    def _carried(self, question: str, earlier: Sequence[str], lang: str, tokens: Sequence[str]) -> str:
        """The offline standalone search text of a follow-up (qa/history.py), with the index's BM25 idf."""
        s = self.settings
        if not earlier or self.lexical is None:
            return question
        return carried(
            question,
            earlier,
            self.lexical.idf,
            lang,
            tokens,
            max_terms=s.retrieval.history_terms,
            decay=s.retrieval.history_decay,
            min_idf=s.retrieval.history_min_idf,
            turns=s.retrieval.history_turns,
        )

    def _bridges(self, text: str, tokens: Sequence[str], lang: str) -> tuple[str, tuple[str, ...]]:
        """The terms of the index's other languages for a text's words (qa/crosslingual.py) and the Persian
        spellings of a non-Persian text's names."""
        if self.translator is None:
            return "", ()
        names: tuple[str, ...] = ()
        lexical = self.lexical
        # names are bridged into Persian spellings; one the index spells in Latin script needs no bridge
        if lexical is not None and self.settings.retrieval.use_names and lang != "fa":
            names = tuple(self.translator.names.bridge(text, lambda w: bool(lexical.search(tokenize(w), 1))))
        return self.translator.translate(tokens, lang), names

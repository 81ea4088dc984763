"""The answer contract shared by CLI, API, UI and briefings, and quote verification.

Every citation is an exact span: ``document_text[char_start:char_end] == quote``. Quotes proposed by
anything (an LLM included) go through ``verify_quote``: exact after normalization -> replaced by the
original span; otherwise rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from verbatim_qa.text.normalize import find_span
from verbatim_qa.types import AnswerSpan, Chunk, Citation, ScoredChunk

if TYPE_CHECKING:
    from verbatim_qa.settings import Settings

    from .query import Query
    from .retriever import HybridRetriever

REFUSAL = "The documents do not answer this question."
UNSUPPORTED = "[unsupported]"  # a marker of the model's whose quotes all failed verification
# The label over a language model's own sentences in every rendering: they are its words, not the documents'
# (they may be wrong, or steered by an instruction injected into a document), unlike the verified quotes.
MODEL_WORDS = "Model's words (not a quote):"
QUOTES_ONLY_NOTE = "Quotes only: the language model's own sentences are not shown, only its verified quotes."


def key_fact_text(span: AnswerSpan) -> str:
    """The key fact as the answer text opens with it: bold, with its reading in another script when it has one."""
    return f"**{span.text}**" + (f" (reading: {span.reading})" if span.reading else "")


@dataclass(frozen=True)
class Marker:
    """A citation marker in the model's own words: the citation it points at, or None when none of the quotes the
    model gave for it could be verified (rendered ``[unsupported]``)."""

    n: int | None


@dataclass(frozen=True)
class ModelSentence:
    """A sentence the language model wrote itself, never a quote: its words and citation markers in order, and the
    break the model put before it ("" for the first, else " ", "\n" or "\n\n")."""

    pieces: tuple[str | Marker, ...]
    gap: str = ""

    @property
    def cites(self) -> tuple[int, ...]:
        """The citation numbers its markers point at, in order, each once."""
        return tuple(dict.fromkeys(p.n for p in self.pieces if isinstance(p, Marker) and p.n is not None))

    def text(self, mark: Callable[[int], str] = "[{}]".format) -> str:
        """Its words with each marker written by ``mark`` (a citation number to text), ``[unsupported]`` for a
        marker without a verified quote."""
        return "".join(p if isinstance(p, str) else UNSUPPORTED if p.n is None else mark(p.n) for p in self.pieces)

    def to_dict(self) -> dict:
        return {"text": self.text(), "citations": list(self.cites)}


@dataclass
class Answer:
    """An answer as a value; every rendering (text, Markdown, HTML, briefings, JSON) is made from its parts, in
    this order: the key fact, the caveat, the language note, the model's own sentences, the quotes."""

    question: str
    refused: bool = False
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[ScoredChunk] = field(default_factory=list)
    answerer: str = "extractive"
    notes: list[str] = field(default_factory=list)  # e.g. unsupported claims dropped from an LLM answer
    answer_span: AnswerSpan | None = None  # the key fact inside one of the quotes (a number, a date, a name)
    caveat: str | None = None  # what the quotes do not state ("… none states its GDP.")
    language_note: str | None = None  # "The evidence is in Persian; quoted verbatim, not translated:"
    sentences: tuple[ModelSentence, ...] = ()  # an LLM answer's own words, each pointing at its citations
    quoted: tuple[int, ...] = ()  # the citations shown as quote lines (“quote” [n]), in order
    nearest: tuple[tuple[str, str | None], ...] = ()  # a refusal's nearest passages: (file, section)
    search_query: str = ""  # the standalone text searched (a follow-up with its earlier terms); '' = the question

    @property
    def answer(self) -> str:
        """The answer as text with ``[n]`` markers (the contract's ``answer``)."""
        return self.text()

    def text(self, mark: Callable[[int], str] = "[{}]".format) -> str:
        """The answer as text, each citation marker written by ``mark``: paragraphs (blank-line separated) of the
        key fact in bold (with its reading), the caveat, the language note, the model's sentences under the
        ``MODEL_WORDS`` label, then one ``“quote” [n]`` line per quoted citation; a refusal says so and names the
        nearest passages."""
        if self.refused:
            nearest = "; ".join(source + (f" ({section})" if section else "") for source, section in self.nearest)
            return REFUSAL + (f" Nearest passages: {nearest}." if nearest else "")
        lines = []
        if self.answer_span is not None:
            lines.append(key_fact_text(self.answer_span))
        lines += [x for x in (self.caveat, self.language_note) if x]
        if self.sentences:
            lines += [MODEL_WORDS, "".join(s.gap + s.text(mark) for s in self.sentences)]
        by_n = {c.n: c for c in self.citations}
        lines += [f"“{by_n[n].quote}” {mark(n)}" for n in self.quoted]
        return "\n\n".join(lines)

    def only_quotes(self) -> Answer:
        """This answer without the model's own sentences: every citation shown as its verbatim quote line (the
        quotes-only mode: no words of the model, which a document's injected instructions could steer, reach the
        reader). An answer without such sentences is returned as it is."""
        if not self.sentences:
            return self
        return replace(self, sentences=(), quoted=tuple(c.n for c in self.citations),
                       notes=[*self.notes, QUOTES_ONLY_NOTE])

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "search_query": self.search_query or self.question,
            "answer": self.answer,
            "refused": self.refused,
            "answer_span": self.answer_span.to_dict() if self.answer_span else None,
            "caveat": self.caveat,
            "citations": [c.to_dict() for c in self.citations],
            "retrieved": [r.to_dict() for r in self.retrieved],
            "language_note": self.language_note,
            "model_sentences": [s.to_dict() for s in self.sentences],
        }


class Answerer(Protocol):
    """What the CLI, the API, the UI and the evals call: the extractive and the LLM answerer alike. A question is
    analysed once (``analyze``) into the ``Query`` that retrieval and ``answer_from`` read; ``answer`` does all
    three for a caller that has only the question."""

    name: str
    retriever: HybridRetriever
    settings: Settings

    def answer(self, question: str, k: int | None = None, sources: list[str] | None = None,
               history: Sequence = ()) -> Answer: ...

    def analyze(self, question: str, history: Sequence = ()) -> Query: ...

    def answer_from(self, query: Query, retrieved: list[ScoredChunk]) -> Answer: ...

    def stream_from(self, query: Query, retrieved: list[ScoredChunk]) -> Iterator[str | Answer]:
        """The model's text as it arrives (str pieces, LLM answerers only), then the finished Answer."""
        ...


class AnswererBase:
    """``answer`` for every answerer: analyse the question once, retrieve, then ``answer_from`` the same Query."""

    retriever: HybridRetriever
    settings: Settings

    def answer(self, question: str, k: int | None = None, sources: list[str] | None = None,
               history: Sequence = ()) -> Answer:
        query = self.analyze(question, history)
        return self.answer_from(query, self.retriever.retrieve(query, k or self.settings.retrieval.top_k, sources))

    def analyze(self, question: str, history: Sequence = ()) -> Query:
        """The one Query of a question (qa/analyzer.py); a follow-up's search text from its ``history``."""
        return self.retriever.analyzer.analyze(question, history)

    def answer_from(self, query: Query, retrieved: list[ScoredChunk]) -> Answer:
        raise NotImplementedError

    def stream_from(self, query: Query, retrieved: list[ScoredChunk]) -> Iterator[str | Answer]:
        """No model text to stream: the answer, once."""
        yield self.answer_from(query, retrieved)


def verify_quote(chunk: Chunk, quote: str) -> tuple[int, int] | None:
    """Absolute (char_start, char_end) of ``quote`` inside ``chunk`` when it matches after normalization."""
    span = find_span(chunk.text, quote)
    if span is None:
        return None
    return chunk.char_start + span[0], chunk.char_start + span[1]


def citation_for(n: int, chunk: Chunk, start: int, end: int) -> Citation:
    """A citation over absolute offsets ``start:end`` that lie inside ``chunk``."""
    if not (chunk.char_start <= start < end <= chunk.char_end):
        raise ValueError(f"span {start}:{end} is outside chunk {chunk.char_start}:{chunk.char_end}")
    quote = chunk.text[start - chunk.char_start : end - chunk.char_start]
    return Citation(n=n, source=chunk.source, title=chunk.title, section=chunk.section, page=chunk.page,
                    quote=quote, char_start=start, char_end=end, doc_id=chunk.doc_id)

"""The answer contract shared by CLI, API, UI and briefings, and quote verification.

Every citation is an exact span: ``document_text[char_start:char_end] == quote``. Quotes proposed by
anything (an LLM included) go through ``verify_quote``: exact after normalization -> replaced by the
original span; otherwise rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from verbatim_qa.text.normalize import find_span
from verbatim_qa.types import AnswerSpan, Chunk, Citation, ScoredChunk

if TYPE_CHECKING:
    from verbatim_qa.settings import Settings

    from .query import Query
    from .retriever import HybridRetriever

REFUSAL = "The documents do not answer this question."


@dataclass
class Answer:
    question: str
    answer: str  # text with [n] markers
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[ScoredChunk] = field(default_factory=list)
    answerer: str = "extractive"
    notes: list[str] = field(default_factory=list)  # e.g. unsupported claims dropped from an LLM answer
    answer_span: AnswerSpan | None = None  # the key fact inside one of the quotes (a number, a date, a name)
    caveat: str | None = None  # what the quotes do not state ("… none states its GDP.")
    search_query: str = ""  # the standalone text searched (a follow-up with its earlier terms); '' = the question

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


class AnswererBase:
    """``answer`` for every answerer: analyse the question once, retrieve, then ``answer_from`` the same Query."""

    retriever: HybridRetriever
    settings: Settings

    def answer(self, question: str, k: int | None = None, sources: list[str] | None = None,
               history: Sequence = ()) -> Answer:
        query = self.analyze(question, history)
        return self.answer_from(query, self.retriever.retrieve(query, k or self.settings.top_k, sources))

    def analyze(self, question: str, history: Sequence = ()) -> Query:
        """The one Query of a question (qa/analyzer.py); a follow-up's search text from its ``history``."""
        return self.retriever.analyzer.analyze(question, history)

    def answer_from(self, query: Query, retrieved: list[ScoredChunk]) -> Answer:
        raise NotImplementedError


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
                    quote=quote, char_start=start, char_end=end)

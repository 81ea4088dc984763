"""Question -> retrieve -> answer as a LangChain Runnable that streams.

Events (qa/events.py): ``Retrieved``, then on the LLM path ``Token`` pieces of the model's draft as its tokens
arrive, then ``Done`` with the verified answer; an extractive answer comes whole, in the one ``Done``. The UI,
the HTTP API and the OpenAI endpoint consume the same stream.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from langchain_core.runnables import Runnable, RunnableGenerator

from verbatim_qa.settings import Settings

from .answer import Answerer
from .events import Done, Event, Retrieved, Token
from .extractive import ExtractiveAnswerer
from .retriever import HybridRetriever

if TYPE_CHECKING:
    from verbatim_qa.vectorstore.store import Store


def build_answerer(settings: Settings, store: Store | None = None, answerer: str | None = None,
                   retriever: HybridRetriever | None = None) -> Answerer:
    """The answerer asked for (None: the ``answerer`` setting; "auto": the LLM one when an endpoint is set), on
    ``retriever`` when given, so every answerer of a process shares one retriever (BM25, term vocabulary)."""
    kind = settings.resolve_answerer(answerer)  # ValueError for an unknown kind or an LLM without an endpoint
    if retriever is None:
        retriever = HybridRetriever.open(settings, store)
    extractive = ExtractiveAnswerer(retriever)
    if kind == "extractive":
        return extractive
    from .llm import LLMAnswerer, make_chat_model  # only when an LLM is configured

    return LLMAnswerer(make_chat_model(settings), retriever, extractive, quotes_only=settings.llm.llm_quotes_only)


def answer_events(answerer: Answerer, question: str, k: int | None = None,
                  sources: list[str] | None = None, history: Sequence = (),
                  quotes_only: bool = False) -> Iterator[Event]:
    """``history``: the earlier turns of the conversation (questions, or {"question", "answer"?} objects).
    ``quotes_only`` (or the ``llm_quotes_only`` setting): no word of the model's own is sent, neither its draft
    (no ``Token``) nor its sentences (``Answer.only_quotes``); a request may turn it on, never off."""
    quotes_only = quotes_only or answerer.settings.llm.llm_quotes_only
    query = answerer.analyze(question, history)  # once: retrieval and the answer read the same analysis
    retrieved = answerer.retriever.retrieve(query, k or answerer.settings.retrieval.top_k, sources)
    yield Retrieved(retrieved)
    for item in answerer.stream_from(query, retrieved):
        if isinstance(item, str):
            if not quotes_only:
                yield Token(item)
        else:
            yield Done(item.only_quotes() if quotes_only else item)


def build_chain(answerer) -> Runnable:
    """Input: {"question": str, "k"?: int, "sources"?: [file names], "history"?: [earlier turns], "quotes_only"?:
    bool}. ``.stream`` yields the events."""

    def transform(inputs: Iterator[dict]) -> Iterator[Event]:
        for inp in inputs:
            yield from answer_events(answerer, inp["question"], inp.get("k"), inp.get("sources"),
                                     inp.get("history") or (), bool(inp.get("quotes_only")))

    return RunnableGenerator(transform)

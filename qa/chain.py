"""Question -> retrieve -> answer as a LangChain Runnable that streams.

Events: {"type": "retrieved", ...}, then {"type": "token", "text": ...} pieces of the answer text, then
{"type": "answer", "answer": Answer}. The UI and the HTTP API consume the same stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from langchain_core.runnables import Runnable, RunnableGenerator

from vectorstore.store import Store
from verbatim.settings import Settings

from .answer import Answer
from .extractive import ExtractiveAnswerer
from .retriever import HybridRetriever


def build_answerer(settings: Settings, store: Store | None = None, answerer: str = "auto"):
    """The configured answerer: the LLM one when an endpoint is set (and asked for), else extractive."""
    if answerer not in {"auto", "extractive", "llm"}:
        raise ValueError(f"unknown answerer {answerer!r}: use auto, extractive or llm")
    if answerer == "llm" and not settings.llm_base_url:
        raise ValueError("answerer 'llm' needs VERBATIM_LLM_BASE_URL and VERBATIM_LLM_MODEL")
    store = store or Store(settings)
    extractive = ExtractiveAnswerer(HybridRetriever.from_store(store, settings))
    if answerer == "extractive" or not settings.llm_base_url:
        return extractive
    from .llm import LLMAnswerer, make_chat_model  # only when an LLM is configured

    return LLMAnswerer(make_chat_model(settings), extractive.retriever, extractive)


def answer_events(answerer, question: str, k: int | None = None, sources: list[str] | None = None) -> Iterator[dict]:
    retrieved = answerer.retriever.retrieve(question, k or answerer.settings.top_k, sources)
    yield {"type": "retrieved", "retrieved": retrieved}
    answer: Answer = answerer.answer_from(question, retrieved)
    for piece in re.findall(r"\S+\s*|\s+", answer.answer):
        yield {"type": "token", "text": piece}
    yield {"type": "answer", "answer": answer}


def build_chain(answerer) -> Runnable:
    """Input: {"question": str, "k"?: int, "sources"?: [file names]}. ``.stream`` yields the events."""

    def transform(inputs: Iterator[dict]) -> Iterator[dict]:
        for inp in inputs:
            yield from answer_events(answerer, inp["question"], inp.get("k"), inp.get("sources"))

    return RunnableGenerator(transform)

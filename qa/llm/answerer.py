"""``LLMAnswerer``: the flow of an LLM answer (prompt, reply, verification, markers) and its fallback.

Same interface as ``ExtractiveAnswerer`` (``answer`` / ``answer_from``); see the package docstring for the
five steps. Expected failures of the model are caught here and answered extractively, with a note saying why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable
from langchain_openai.chat_models.base import BaseChatOpenAI

from verbatim_qa.text.lines import one_line
from verbatim_qa.types import Chunk, ScoredChunk

from ..answer import Answer, AnswererBase
from ..extractive import ExtractiveAnswerer
from ..query import Query
from ..retriever import HybridRetriever
from .markers import cited_text
from .prompt import build_messages, condense_messages, condensed_question
from .reply import CUT_REPLY_ERRORS, EMPTY_STREAM_MESSAGE, MODEL_ERRORS, REPLY_ERRORS, AnswerStream, parse_reply
from .verify import verify_quotes

log = logging.getLogger(__name__)


class LLMAnswerer(AnswererBase):
    name = "llm"

    def __init__(self, chat_model: BaseChatModel | Runnable, retriever: HybridRetriever,
                 fallback: ExtractiveAnswerer | None = None, json_mode: bool | None = None,
                 max_source_chars: int | None = None, quotes_only: bool = False) -> None:
        """``json_mode``: ask the server for a JSON object (``response_format``); default: for OpenAI clients.
        ``max_source_chars``: default ``settings.llm_max_source_chars``.
        ``quotes_only``: show only the verified quotes, never the model's own wording (the strictest mode)."""
        self.chat_model = chat_model
        self.retriever = retriever
        self.settings = retriever.settings
        self.fallback = fallback or ExtractiveAnswerer(retriever)
        self.max_source_chars = self.settings.llm.llm_max_source_chars if max_source_chars is None else max_source_chars
        self.quotes_only = quotes_only
        if json_mode is None:
            json_mode = isinstance(chat_model, BaseChatOpenAI)
        # JSON mode travels in ``extra_body``: given as ``response_format``, langchain-openai streams through
        # openai's beta helper, which dies on a bare AssertionError when a server ends the stream before any
        # chunk (llama.cpp does when the prompt overflows its context). The plain stream just ends empty,
        # which is handled below like any failed reply.
        extra_body = {**(getattr(chat_model, "extra_body", None) or {}), "response_format": {"type": "json_object"}}
        self._runnable = chat_model.bind(extra_body=extra_body) if json_mode else chat_model

    def answer_from(self, query: Query, retrieved: list[ScoredChunk]) -> Answer:
        *_, answer = self._answering(query, retrieved, stream=False)
        return answer

    def stream_from(self, query: Query, retrieved: list[ScoredChunk]) -> Iterator[str | Answer]:
        """The model's answer text as its tokens arrive (its unverified draft), then the verified Answer."""
        return self._answering(query, retrieved, stream=True)

    def _answering(self, query: Query, retrieved: list[ScoredChunk], stream: bool) -> Iterator[str | Answer]:
        """One flow for both: the model is asked (``.stream`` or ``.invoke``), its draft yielded as it grows when
        streaming, and the reply verified into the Answer, yielded last (an extractive one when the model fails)."""
        if not retrieved:
            yield self._fallback(query, retrieved, "nothing was retrieved", [])
            return
        shown = self._shown(retrieved)
        messages = build_messages(query.text, shown)
        draft, pieces, finish = AnswerStream(), [], None
        try:
            for chunk in self._runnable.stream(messages) if stream else [self._runnable.invoke(messages)]:
                pieces.append(chunk.text if isinstance(chunk, BaseMessage) else str(chunk))
                finish = getattr(chunk, "response_metadata", {}).get("finish_reason") or finish
                if stream and (grown := draft.feed(pieces[-1])):
                    yield grown
        except MODEL_ERRORS as exc:
            log.warning("LLM request failed: %s", _why(exc))
            yield self._fallback(query, retrieved, f"the language model failed ({_why(exc)})", [])
            return
        except CUT_REPLY_ERRORS as exc:
            log.warning("LLM reply cut off: %s", type(exc).__name__)
            yield self._fallback(query, retrieved, f"its reply was cut off ({type(exc).__name__})", [])
            return
        except ValueError as exc:  # only the empty stream, answered below like an empty reply
            if pieces or str(exc) != EMPTY_STREAM_MESSAGE:
                raise
        if finish == "length":
            log.warning("LLM reply cut off at the token limit")
            yield self._fallback(query, retrieved, "its reply was cut off (token limit)", [])
            return
        if not "".join(pieces).strip():
            log.warning("LLM sent an empty reply")
            yield self._fallback(query, retrieved, "it sent an empty reply (is the prompt over its context "
                                 "window? lower VERBATIM_LLM_MAX_SOURCE_CHARS)", [])
            return
        yield self._verified(query, retrieved, shown, "".join(pieces))

    def _verified(self, query: Query, retrieved: list[ScoredChunk], shown: list[Chunk], text: str) -> Answer:
        try:
            parsed = parse_reply(text)
        except REPLY_ERRORS as exc:
            log.warning("LLM reply is not the expected JSON: %s", _why(exc))
            return self._fallback(query, retrieved, f"its reply was not the expected JSON ({_why(exc)})", [])
        found = verify_quotes(parsed.quotes, shown, self.settings.llm.llm_min_quote_chars)
        if not found.spans:
            why = "none of its quotes could be verified in the sources" if parsed.quotes else "it quoted nothing"
            return self._fallback(query, retrieved, why, found.notes)
        cited = cited_text(parsed.answer, found, self.quotes_only, self.settings.llm.llm_min_support)
        return Answer(query.text, False, cited.citations, retrieved, answerer=self.name,
                      notes=[*found.notes, *cited.notes], sentences=cited.sentences, quoted=cited.quoted,
                      search_query=query.search)

    def analyze(self, question: str, history: Sequence = ()) -> Query:
        """A follow-up is condensed by the model into a standalone question, which is then retrieved (and its
        answer verified) as usual; a question that stands alone, or a failing model, gets the offline
        standalone text (qa/history.py)."""
        return self.retriever.analyzer.analyze(question, history, condense=self._condense)

    def _condense(self, question: str, turns: list[tuple[str, str]]) -> str | None:
        try:
            reply = self.chat_model.invoke(condense_messages(question, turns))
        except MODEL_ERRORS as exc:
            log.warning("LLM condensing failed, the offline standalone query is used: %s", _why(exc))
            return None
        return condensed_question(reply.text if isinstance(reply, BaseMessage) else str(reply)) or None

    # ---- internals -------------------------------------------------------------------------------------
    def _shown(self, retrieved: list[ScoredChunk]) -> list[Chunk]:
        shown: list[Chunk] = []
        total = 0
        for r in retrieved:
            total += len(r.chunk.text)
            if shown and total > self.max_source_chars:
                break
            shown.append(r.chunk)
        return shown

    def _fallback(self, query: Query, retrieved: list[ScoredChunk], why: str, notes: list[str]) -> Answer:
        answer = self.fallback.answer_from(query, retrieved)
        answer.notes = [*notes, f"LLM answer not used: {why}; extractive answer given instead.", *answer.notes]
        return answer


def _why(exc: BaseException) -> str:
    return one_line(exc, 160, kind=True)

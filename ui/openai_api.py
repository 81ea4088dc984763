"""An OpenAI-compatible chat API, so Open WebUI, AnythingLLM or any OpenAI client can ask Verbatim.

    GET  /v1/models             one model per collection the key may read: ``verbatim`` (the default collection)
                                and ``verbatim:<collection>`` for each other
    POST /v1/chat/completions   {"model": "verbatim", "messages": [...], "stream"?: bool,
                                 "k"?, "sources"?, "answerer"?, "quotes_only"? (as /api/ask)}

The model id names the collection asked; a collection the key may not read is a model that does not exist.
``verbatim:<a>+<b>`` asks several at once (``+`` is never part of a collection name): one answer, each citation
naming its collection (qa/several.py); it exists when the key may read every one of them (not listed by
``/v1/models``, which lists one model per collection).

The last user message is the question; the earlier user messages (with the replies that followed) are its
history: a follow-up is searched with them (``search_query`` in the answer object). The message content is the
answer with its ``[n]`` markers, then one footnote per citation (``[n] “quote” — title, section, p. (file,
chars a–b)``), so clients that show only the content still show every quote and its source. Beside
``choices`` the response carries the rest of the answer object (``Answer.to_dict()`` without ``answer``:
``citations`` with their offsets, ``refused``, ``retrieved``, and whatever fields the contract gains); a
stream carries them on its last chunk, the one with ``finish_reason``. Streams are server-sent events of
``chat.completion.chunk`` objects ending with ``data: [DONE]``: on the LLM path the model's draft token by token as
``reasoning_content`` (unchecked text, which clients show as thinking), then the verified content in one chunk.
Errors are OpenAI's shape: ``{"error": {"message": "one line", "type", "param", "code"}}``.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from verbatim_qa.contract import MAX_COLLECTIONS, MAX_K, QUOTES_ONLY_DOC, AnswererName
from verbatim_qa.qa.answer import Answer
from verbatim_qa.qa.events import Done, Event, Token
from verbatim_qa.qa.render import with_footnotes
from verbatim_qa.text.lines import one_line

from .access import NoAccess
from .service import Service

log = logging.getLogger(__name__)

MODEL = "verbatim"
CREATED = 1_767_225_600  # 2026-01-01: the model's fixed "created" date in /v1/models
ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "invalid_request_error",
               404: "invalid_request_error", 421: "invalid_request_error",
               413: "invalid_request_error", 422: "invalid_request_error", 429: "rate_limit_error"}
ERROR_CODES = {401: "invalid_api_key"}


def openai_error(status: int, message: str, headers: dict | None = None, code: str | None = None) -> JSONResponse:
    """An error as OpenAI returns it (the SDKs raise it with ``message``); request validation is a 400 there."""
    status = 400 if status == 422 else status
    body = {"message": message, "type": ERROR_TYPES.get(status, "server_error"), "param": None,
            "code": code or ERROR_CODES.get(status)}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls, ... are accepted and not used

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        """The message text; ValueError for a part that is not text (images, audio, files)."""
        if self.content is None or isinstance(self.content, str):
            return (self.content or "").strip()
        kinds = sorted({p.type for p in self.content if p.type != "text"})
        if kinds:
            raise ValueError(f"only text content is supported, not {', '.join(kinds)}")
        return "\n".join(p.text or "" for p in self.content).strip()


class ChatRequest(BaseModel):
    # Clients send temperature, top_p, max_tokens, user, stream_options...: accepted and not used (the answer is
    # extractive, or the LLM answerer's own settings apply).
    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    k: int | None = Field(None, ge=1, le=MAX_K)
    sources: list[str] | None = Field(None, description="Restrict to these file names (as listed by /api/sources).")
    answerer: AnswererName | None = None
    quotes_only: bool = Field(False, description=QUOTES_ONLY_DOC)

    def question_and_history(self) -> tuple[str, list[dict]]:
        """The last message's text (it must be the user's) and the earlier turns, oldest first: each user message
        with the assistant's reply that followed it, when there is one."""
        last = self.messages[-1]
        if last.role != "user":
            raise ValueError(f"the last message must be the user's question, not {last.role!r}")
        question = last.text()
        if not question:
            raise ValueError("the last user message is empty")
        history: list[dict] = []
        for m in self.messages[:-1]:
            if m.role == "user" and (t := m.text()):
                history.append({"question": t})
            elif m.role == "assistant" and history and "answer" not in history[-1] and (t := m.text()):
                history[-1]["answer"] = t
        return question, history


def model_id(collection: str, default: str) -> str:
    return MODEL if collection == default else f"{MODEL}:{collection}"


def collections_of(model: str, default: str) -> list[str] | None:
    """The collections a model id names (``verbatim``: the default; ``verbatim:<collection>``; several joined by
    ``+``: ``verbatim:<a>+<b>``), or None when it names none."""
    if model == MODEL:
        return [default]
    prefix, _, names = model.partition(":")
    parts = names.split("+")
    return parts if prefix == MODEL and names and all(parts) and len(parts) <= MAX_COLLECTIONS else None


def router(service: Service) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["openai"])

    @api.get("/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": model_id(name, service.default), "object": "model",
                                            "created": CREATED, "owned_by": "verbatim"}
                                           for name in service.collections()]}

    @api.post("/chat/completions", response_model=None)
    def chat_completions(req: ChatRequest) -> dict | JSONResponse | StreamingResponse:
        """The answer as an OpenAI chat completion (or its chunk stream), with footnoted quotes and ``citations``."""
        collections = collections_of(req.model, service.default)
        missing = openai_error(404, f"model {req.model!r} does not exist; see /v1/models", code="model_not_found")
        if collections is None:
            return missing
        try:
            question, history = req.question_and_history()
            events = service.events(question, req.k, req.sources, req.answerer, history=history,
                                    quotes_only=req.quotes_only, collections=collections)
            first = next(events)  # validation and retrieval happen here: a bad request is an error, not a stream
        except NoAccess:  # the same reply whether the collection exists or not
            return missing
        except ValueError as exc:
            return openai_error(400, one_line(exc))
        reply = Reply(req.model)
        if req.stream:
            return StreamingResponse(reply.stream(first, events), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        *_, done = itertools.chain([first], events)
        return reply.completion(done.answer)

    return api


class Reply:
    """One response: its id and time, shared by every chunk of a stream."""

    def __init__(self, model: str = MODEL) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def _head(self, kind: str) -> dict:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def completion(self, answer: Answer) -> dict:
        message = {"role": "assistant", "content": with_footnotes(answer)}
        return {**self._head("chat.completion"),
                "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
                **extras(answer)}

    def chunk(self, delta: dict, finish: str | None = None, **more) -> bytes:
        body = {**self._head("chat.completion.chunk"),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **more}
        return sse(body)

    def stream(self, first: Event, events: Iterator[Event]) -> Iterator[bytes]:
        """The role; on the LLM path the model's draft as it arrives, as ``reasoning_content`` (what clients show
        as the model's thinking: it is not yet checked); then the verified answer as the content, its footnotes,
        and the end."""
        yield self.chunk({"role": "assistant", "content": ""})
        try:
            for ev in itertools.chain([first], events):
                if isinstance(ev, Token):
                    yield self.chunk({"reasoning_content": ev.text})
                elif isinstance(ev, Done):
                    yield self.chunk({"content": with_footnotes(ev.answer)})
                    yield self.chunk({}, "stop", **extras(ev.answer))
        except Exception as exc:  # the headers are sent: the error becomes the last event, as OpenAI streams it
            log.error("chat completion stream failed", exc_info=exc)
            yield sse({"error": {"message": f"internal error ({type(exc).__name__}); see the server log",
                                 "type": "server_error", "param": None, "code": None}})
        yield b"data: [DONE]\n\n"


def extras(answer: Answer) -> dict:
    """The answer object beside ``choices``: everything ``Answer.to_dict()`` holds but the text itself."""
    return {k: v for k, v in answer.to_dict().items() if k != "answer"}


def sse(body: dict) -> bytes:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()

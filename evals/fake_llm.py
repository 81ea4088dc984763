"""A scripted, paced OpenAI-compatible chat server: the LLM path measured and tested without a model.

``fake_openai_app(reply, seconds_per_token)`` answers ``POST /v1/chat/completions`` with ``reply(messages)``, cut
into word tokens: streamed as ``chat.completion.chunk`` server-sent events one token every ``seconds_per_token``
(what a real server does), or, without ``stream``, as one completion after the time all tokens take. Verbatim's
real client (ChatOpenAI, JSON mode) talks to it over HTTP like to llama.cpp or Ollama.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

SOURCE = re.compile(r'<source n="(\d+)"[^>]*>\n(.*?)\n</source>', re.S)
SENTENCE = re.compile(r"[^.!?؟\n]{30,}?[.!?؟]")


def tokens(text: str) -> list[str]:
    """Word-sized pieces, whitespace attached (about what a tokenizer gives for English prose)."""
    return re.findall(r"\S+\s*|\s+", text)


def quoting_reply(messages: list[dict]) -> str:
    """What a well-behaved model replies: the first sentence of source 1 quoted and cited, a claim about it that
    cites it, and one uncited claim (which verification leaves out)."""
    prompt = messages[-1]["content"]
    found = SOURCE.search(prompt)
    if found is None:
        return json.dumps({"answer": "", "quotes": []})
    n, text = found.group(1), found.group(2)
    quote = (SENTENCE.search(text) or re.search(r".{1,200}", text)).group().strip()
    answer = (f"According to the first source, {quote[:1].lower()}{quote[1:]} [{n}] "
              "This is the passage that answers the question. It is not discussed elsewhere.")
    return json.dumps({"answer": answer, "quotes": [{"n": int(n), "quote": quote}]}, ensure_ascii=False)


def fake_openai_app(reply: Callable[[list[dict]], str] = quoting_reply, seconds_per_token: float = 0.0,
                    model: str = "fake") -> FastAPI:
    app = FastAPI()

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": model, "object": "model", "created": 0, "owned_by": "fake"}]}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: Request):
        body = await request.json()
        pieces = tokens(reply(body["messages"]))
        if not body.get("stream"):
            await asyncio.sleep(seconds_per_token * len(pieces))
            return {"id": "fake", "object": "chat.completion", "created": 0, "model": model,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "".join(pieces)}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": len(pieces), "total_tokens": len(pieces) + 1}}
        return StreamingResponse(_stream(pieces, seconds_per_token, model), media_type="text/event-stream")

    return app


def _stream(pieces: list[str], seconds_per_token: float, model: str) -> Iterator[bytes]:
    def chunk(delta: dict, finish: str | None = None) -> bytes:
        body = {"id": "fake", "object": "chat.completion.chunk", "created": 0, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()

    yield chunk({"role": "assistant", "content": ""})
    for piece in pieces:
        time.sleep(seconds_per_token)
        yield chunk({"content": piece})
    yield chunk({}, "stop")
    yield b"data: [DONE]\n\n"

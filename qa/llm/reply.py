"""The model's reply: the JSON object it must return, parsed leniently and validated with pydantic.

Code fences and chatter around the object are tolerated; broken JSON or a wrong shape is one of
``REPLY_ERRORS``. The other error tuples name the failures of the request itself that the answerer handles.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import openai
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# Errors that mean "the LLM could not give a usable reply", caught on purpose and reported in Answer.notes:
# no connection, timeout, an error status (e.g. the prompt overflows a small server's context), a bare httpx
# error from a custom client; the OpenAI client's refusal to return a reply cut by the token limit or a filter.
MODEL_ERRORS: tuple[type[BaseException], ...] = (openai.APIError, httpx.HTTPError)
CUT_REPLY_ERRORS: tuple[type[BaseException], ...] = (openai.LengthFinishReasonError,
                                                     openai.ContentFilterFinishReasonError)
REPLY_ERRORS: tuple[type[BaseException], ...] = (json.JSONDecodeError, ValidationError)
# What langchain-core's ``BaseChatModel.stream`` raises (a bare ValueError) when the server's stream ended with no
# chunk: llama.cpp's server does so when the prompt overflows its context window.
EMPTY_STREAM_MESSAGE = "No generation chunks were returned"

_FENCE_RE = re.compile(r"^\s*```[\w-]*\s*\n?|\n?\s*```\s*$")


class QuoteItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    n: int
    quote: str

    @field_validator("n", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, str):  # "[2]", "source 2", "۲"
            m = re.search(r"\d+", v)
            return int(m.group()) if m else v
        return v


class LLMReply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    answer: str = ""
    quotes: list[Any] = Field(default_factory=list)  # items validated one by one: one bad item is not fatal


def parse_reply(text: str) -> LLMReply:
    """The JSON object in a model's reply. Raises ``json.JSONDecodeError`` or ``pydantic.ValidationError``."""
    body = _FENCE_RE.sub("", text.strip())
    start = body.find("{")
    if start < 0:
        return LLMReply.model_validate(json.loads(body))  # not an object: raises, or fails validation
    data, _ = json.JSONDecoder().raw_decode(body, start)  # the first complete object; trailing chatter ignored
    return LLMReply.model_validate(data)


_ANSWER_KEY = re.compile(r'(?<!\\)"answer"\s*:\s*"')
_ESCAPE = re.compile(r'\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})')
_SPECIAL = re.compile(r'["\\]')


class AnswerStream:
    """The ``answer`` string of the reply's JSON object, decoded while the reply arrives: ``feed`` takes the next
    piece of the reply and returns the text the answer gained (the model's draft, shown before it is verified).
    Linear in the reply; what is not a JSON string (chatter, a reply without the object) yields nothing."""

    def __init__(self) -> None:
        self._buf = ""
        self._pos: int | None = None  # where the undecoded rest of the value starts, once its key is seen
        self._done = False

    def feed(self, piece: str) -> str:
        self._buf += piece
        if self._done:
            return ""
        if self._pos is None:
            m = _ANSWER_KEY.search(self._buf)
            if m is None:
                return ""
            self._pos = m.end()
        buf, i, out = self._buf, self._pos, []
        while i < len(buf):
            special = _SPECIAL.search(buf, i)
            if special is None:
                out.append(buf[i:])
                i = len(buf)
                break
            out.append(buf[i : special.start()])
            i = special.start()
            if buf[i] == '"':  # the end of the value
                self._done = True
                break
            esc = _ESCAPE.match(buf, i)
            if esc is None:
                if len(buf) - i >= 6:  # not an escape JSON has: stop drafting (the reply's parse will say why)
                    self._done = True
                break  # or an escape cut in two: wait for its rest
            code = esc.group()
            if code.startswith("\\u") and 0xD800 <= int(code[2:], 16) < 0xDC00:  # a surrogate pair's first half
                low = _ESCAPE.match(buf, esc.end())
                if low is None and len(buf) - esc.end() < 6:
                    break  # its second half has not arrived yet
                if low is not None:
                    code += low.group()
                    esc = low
            out.append(json.loads(f'"{code}"').encode("utf-16", "surrogatepass").decode("utf-16", "replace"))
            i = esc.end()
        self._pos = i
        return "".join(out)

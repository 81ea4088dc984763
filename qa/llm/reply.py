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

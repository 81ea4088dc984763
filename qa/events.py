"""The events of an answer's stream (qa/chain.py ``answer_events``), typed: every consumer (the web chat, the
streaming HTTP route, the OpenAI endpoint, the evals) reads these, never ad-hoc dicts.

``Retrieved`` once, then ``Token`` pieces of the language model's draft as they arrive (LLM answers only: its
text before the quotes are verified), then ``Done`` with the verified Answer. ``to_dict`` is an event as the
HTTP stream sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from verbatim_qa.types import ScoredChunk

from .answer import Answer


@dataclass(frozen=True)
class Retrieved:
    type: ClassVar[str] = "retrieved"
    retrieved: list[ScoredChunk]

    def to_dict(self) -> dict:
        return {"type": self.type, "retrieved": [
            {"source": r.chunk.source, "section": r.chunk.section, "char_start": r.chunk.char_start,
             "char_end": r.chunk.char_end, "score": round(float(r.score), 6),
             **({"collection": r.collection} if r.collection else {})} for r in self.retrieved]}


@dataclass(frozen=True)
class Token:
    """Text the model's draft answer gained: shown while it is written, replaced by the verified answer."""

    type: ClassVar[str] = "token"
    text: str

    def to_dict(self) -> dict:
        return {"type": self.type, "text": self.text}


@dataclass(frozen=True)
class Done:
    type: ClassVar[str] = "answer"
    answer: Answer

    def to_dict(self) -> dict:
        return {"type": self.type, "answer": self.answer.to_dict()}


Event = Retrieved | Token | Done

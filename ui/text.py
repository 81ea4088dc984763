"""Text direction and paragraphs for rendering: what ``dir="auto"`` would compute, and blank-line paragraphs of
streamed draft text."""

from __future__ import annotations

import re
import unicodedata


def paragraphs(text: str) -> list[str]:
    return [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]


def direction(text: str) -> str | None:
    """"rtl" or "ltr" from the first strong character (what ``dir="auto"`` computes), None if there is none."""
    for ch in text:
        bidi = unicodedata.bidirectional(ch)
        if bidi in ("R", "AL"):
            return "rtl"
        if bidi == "L":
            return "ltr"
    return None


def is_rtl(text: str) -> bool:
    return direction(text) == "rtl"

"""Answers rendered for people: terminal (rich) and briefing-ready Markdown with footnotes."""

from __future__ import annotations

import re

from .answer import Answer


def where(c) -> str:
    parts = [c.title]
    if c.section and c.section != c.title:
        parts.append(c.section)
    if c.page is not None:
        parts.append(f"p. {c.page}")
    return ", ".join(parts) + f" ({c.source}, chars {c.char_start}–{c.char_end})"


def to_markdown(answer: Answer, heading: bool = True) -> str:
    """Footnoted Markdown: markers become [^n], each footnote holds the verbatim quote and where it is."""
    body = re.sub(r"\[(\d+)\]", r"[^\1]", answer.answer)
    lines = [f"**Q:** {answer.question}", ""] if heading else []
    lines.append(body)
    if answer.citations:
        lines.append("")
        for c in answer.citations:
            quote = " ".join(c.quote.split())
            lines.append(f"[^{c.n}]: “{quote}” — {where(c)}")
    return "\n".join(lines) + "\n"

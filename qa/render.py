"""Answers rendered for people: terminal (rich) and briefing-ready Markdown with footnotes."""

from __future__ import annotations

import re

from verbatim_qa.text.markdown import escape_html

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
    return escape_html("\n".join(lines)) + "\n"


def footnotes(answer: Answer) -> str:
    """The citations as plain footnotes, one paragraph each: ``[n] “quote” — where`` (empty when none).

    Plain ``[n]``, not Markdown's ``[^n]`` or ``[n]: ...`` (a link definition, which renderers hide): chat
    clients that ignore extra response fields still show every quote and its source.
    """
    return "\n\n".join(f"[{c.n}] “{' '.join(c.quote.split())}” — {where(c)}" for c in answer.citations)


def with_footnotes(answer: Answer) -> str:
    """The answer text with its ``[n]`` markers, then its footnotes."""
    notes = footnotes(answer)
    return f"{answer.answer}\n\n{notes}" if notes else answer.answer

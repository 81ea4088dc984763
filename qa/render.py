"""Answers rendered for people, from the Answer value (never from its text): footnoted Markdown, plain footnotes.

The contract's plain text with ``[n]`` markers is ``Answer.text()`` (qa/answer.py); these renderers write the
same parts with other markers and add where each quote is.
"""

from __future__ import annotations

from verbatim_qa.text.markdown import escape_html
from verbatim_qa.types import Citation

from .answer import Answer


def where(c: Citation) -> str:
    parts = [c.title]
    if c.section and c.section != c.title:
        parts.append(c.section)
    if c.page is not None:
        parts.append(f"p. {c.page}")
    source = f"{c.collection}: {c.source}" if c.collection else c.source  # of an answer from several collections
    return ", ".join(parts) + f" ({source}, chars {c.char_start}–{c.char_end})"


def to_markdown(answer: Answer, heading: bool = True) -> str:
    """Footnoted Markdown: markers are [^n], each footnote holds the verbatim quote and where it is."""
    lines = [f"**Q:** {answer.question}", ""] if heading else []
    lines.append(answer.text(mark="[^{}]".format))
    if answer.citations:
        lines.append("")
        for c in answer.citations:
            lines.append(f"[^{c.n}]: “{flat(c.quote)}” — {where(c)}")
    return escape_html("\n".join(lines)) + "\n"


def footnotes(answer: Answer) -> str:
    """The citations as plain footnotes, one paragraph each: ``[n] “quote” — where`` (empty when none).

    Plain ``[n]``, not Markdown's ``[^n]`` or ``[n]: ...`` (a link definition, which renderers hide): chat
    clients that ignore extra response fields still show every quote and its source.
    """
    return "\n\n".join(f"[{c.n}] “{flat(c.quote)}” — {where(c)}" for c in answer.citations)


def with_footnotes(answer: Answer) -> str:
    """The answer text with its ``[n]`` markers, then its footnotes."""
    notes = footnotes(answer)
    return f"{answer.answer}\n\n{notes}" if notes else answer.answer


def flat(text: str) -> str:
    """Runs of whitespace (newlines included) as one space: a quote inside one line of a footnote."""
    return " ".join(text.split())

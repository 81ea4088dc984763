"""A page's visible text -> its main content: the lines trafilatura finds to be the article, with the headings
that lead to them; navigation, headers, footers, sidebars and cookie banners left out.

trafilatura decides what the main content is; the text stays the visible-text walker's (``html.py``), so headings,
list items and table rows are written as everywhere else. On the Debian FAQ's DocBook pages trafilatura's own
output drops every section heading (their ``titlepage`` wrappers look like page chrome to it) while it keeps the
paragraphs under them; a heading is kept here when the first content line after it is.
"""

from __future__ import annotations

import logging
import re
import unicodedata

import trafilatura

logging.getLogger("trafilatura").setLevel(logging.ERROR)  # it logs every page it finds too short or odd
logging.getLogger("htmldate").setLevel(logging.ERROR)
_SHORT_WORDS = 4  # a line this short ("Home", "Next") must be a whole line of the main content, not a substring
_NOT_COMPARED = re.compile(r"[\s|]+")  # whitespace and table rules differ between the two writers


def _key(text: str) -> str:
    return _NOT_COMPARED.sub("", unicodedata.normalize("NFKC", text))


def main_text(markup: str, visible: str, min_chars: int) -> str | None:
    """The lines of ``visible`` (the page's visible text) that trafilatura finds in the main content, or None when
    it finds less than ``min_chars`` characters (its result is then a dump of the whole page)."""
    main = trafilatura.extract(markup, output_format="txt", include_tables=True, include_comments=False,
                               include_images=False, include_links=False, favor_recall=True, deduplicate=False,
                               with_metadata=False)
    if not main or len(main) < min_chars:
        return None
    flat = _key(main)
    whole = {_key(line) for line in main.splitlines()}

    def kept(line: str) -> bool:
        k = _key(line)
        return bool(k) and (k in whole if len(line.split()) < _SHORT_WORDS else k in flat)

    out: list[list[str]] = []
    pending: list[tuple[int, str, bool]] = []  # headings before the next main content: (level, line, cut off)
    for block in visible.split("\n\n"):
        if block.startswith("#"):
            pending.append((len(block) - len(block.lstrip("#")), block, False))
            continue
        lines = [line for line in block.split("\n") if kept(line)]
        if not lines:  # not main content: the headings before it are its own, unless ancestors of what follows
            pending = [(level, h, True) for level, h, _ in pending]
            continue
        out += [[h] for h in _leading(pending)]
        out.append(lines)
        pending = []
    return "\n\n".join("\n".join(lines) for lines in out) or None


def _leading(pending: list[tuple[int, str, bool]]) -> list[str]:
    """The headings that lead to main content: those right before it, and before them, across left-out blocks
    (a DocBook chapter's table of contents), its ancestors (each of a higher level than the one after it; only
    an h1 when nothing is right before it)."""
    direct = [h for h in pending if not h[2]]
    floor = min((level for level, _, _ in direct), default=2)
    chain = []
    for level, line, cut in reversed(pending):
        if cut and level < floor:
            chain.append(line)
            floor = level
    return chain[::-1] + [line for _, line, _ in direct]

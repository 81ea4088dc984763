"""HTML -> text and the <title>: the page's main content (``html_main``, trafilatura) when it finds enough of it,
otherwise all visible text, with paragraph breaks and '#' headings."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

from .html_main import main_text

_DROP = {"script", "style", "noscript", "template", "title", "iframe", "object"}  # <title> -> Document.title
_BLOCKS = set(
    "address article aside blockquote body caption dd details dialog div dl dt fieldset figcaption figure "
    "footer form header hr html legend main nav ol p pre section summary table tbody tfoot thead ul".split()
)
_LINES = {"li", "tr", "option", "br"}
_CELLS = {"td", "th"}
_HEADINGS = {f"h{i}" for i in range(1, 7)}
_WS = re.compile(r"\s+")
_SPACES = re.compile(r"[^\S\n]+")
_EMPTY_HEADING = re.compile(r"#+")


def html_text(markup: str, min_main_chars: int = 250) -> tuple[str, str]:
    """(text, title): the main content (``html_main``), or all visible text when trafilatura finds less than
    ``min_main_chars`` characters of it."""
    text, title = visible_text(markup)
    main = main_text(markup, text, min_main_chars)
    return (text if main is None else main), title


def visible_text(markup: str) -> tuple[str, str]:
    """Visible text with paragraph breaks and '#' headings. Iterative walk: deep nesting can't recurse."""
    soup = BeautifulSoup(markup, "html.parser")
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text().split()) if title_tag else ""
    parts: list[str] = []
    stack: list = [(soup, False, False)]  # (node or closing string, inside <pre>, inside a heading)
    while stack:
        node, pre, heading = stack.pop()
        if type(node) is str:  # a closing break we pushed ourselves
            parts.append(node)
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, Comment | Declaration | Doctype | ProcessingInstruction):
                parts.append(str(node) if pre and not heading else _WS.sub(" ", node))
            continue
        name = node.name
        if name in _DROP or node.has_attr("hidden"):
            continue
        if name in _HEADINGS and not heading:
            opening, closing, heading = f"\n\n{'#' * int(name[1])} ", "\n\n", True
        elif heading:  # a heading stays on one line whatever it contains
            opening = closing = " " if name in _BLOCKS or name in _LINES or name in _CELLS else ""
        elif name in _BLOCKS:
            opening = closing = "\n\n"
        elif name in _LINES:
            opening, closing = "\n", ""  # one line per list item / table row, no blank line between
        else:
            opening = closing = " " if name in _CELLS else ""  # inline elements add nothing
        parts.append(opening)
        if name == "br":
            continue
        stack.append((closing, pre, heading))
        stack.extend((child, pre or name == "pre", heading) for child in reversed(node.contents))
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    text = "\n".join("" if _EMPTY_HEADING.fullmatch(line) else line for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n"), title

"""Identifiers and code terms in a question: function and variable names, commands, options, file names, paths,
MIME types. Such a term names one thing: a passage holding it exactly is the one asked about, while its words
alone (``asn1``, ``get``, ``length``) and its embedding match every sibling (qa/retriever.py ``signals``).

Recognised shapes (prose words, hyphenated words, abbreviations and plain numbers are not identifiers):
- ``snake_case`` names, ``camelCase`` with an inner capital (``drawString``), a call ``name()``;
- dotted names with a letter on both sides (``mimeapps.list``, ``libtasn1.h``, ``canvas.drawString``), but not
  ``e.g.``/``U.S.`` (one-letter parts) nor version numbers;
- options ``--long-option`` and ``-shell-escape`` (a dash after a space), LaTeX commands ``\\usepackage``;
- paths (``/usr/share/mime``, ``~/.config``) and MIME types (``application/x-tex``, ``text/plain``);
- anything in backticks.
"""

from __future__ import annotations

import re

from .normalize import normalize

MIME_TOPS = ("application", "audio", "font", "image", "inode", "message", "model", "multipart", "text", "video",
             "x-content", "x-scheme-handler")
_WORD = r"[A-Za-z0-9_]"
_PATTERNS = {
    "quoted": r"`([^`\n]{2,80})`",
    "latex": r"(?<![\w\\])(\\[A-Za-z]+\*?)",
    "option": r"(?:^|(?<=[\s(\[\"']))(--?[A-Za-z][\w-]*[\w])",  # after a space: not a hyphenated word
    "path": r"(?<![\w/~.])((?:~|\.{1,2})?(?:/[\w.+-]+){2,}/?)",  # two or more parts
    "mime": rf"(?<![\w/])((?:{'|'.join(MIME_TOPS)})/[\w.+-]+)(?![\w/])",
    "snake": rf"(?<!{_WORD})({_WORD}*[A-Za-z0-9]_\w*[A-Za-z0-9](?:\(\))?)",
    "camel": rf"(?<!{_WORD})([a-z]+[A-Z][A-Za-z0-9]*(?:\(\))?)",  # not PascalCase: names (McDonald) look alike
    "dotted": r"(?<![\w.])([A-Za-z_]\w*(?:\.\w+)+)(?!\w)",  # checked by _dotted
    "call": rf"(?<!{_WORD})([A-Za-z_]\w*\(\))",
}
_RE = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERNS.items()))


def identifiers(text: str) -> tuple[str, ...]:
    """The code terms of ``text`` in search form (``normalize``), each once, in order of appearance."""
    out: dict[str, None] = {}
    for m in _RE.finditer(text):
        kind = m.lastgroup
        term = m.group(kind)
        if kind == "quoted":
            term = term.strip("`")
        elif kind == "dotted" and not _dotted(term):
            continue
        term = term.rstrip(".")
        if term.endswith("()"):
            term = term[:-2]
        if len(term) >= 3:
            out.setdefault(normalize(term), None)
    return tuple(out)


def _dotted(term: str) -> bool:
    """A file or qualified name (``mimeapps.list``, ``canvas.drawString``, ``libtasn1.h``): a first part of two or
    more characters, a letter after the last dot, and a one-letter extension only after a lower-case name; not
    ``e.g`` nor ``U.S`` nor ``Ph.D`` (abbreviations) nor ``v3.6`` (versions)."""
    parts = term.rstrip(".").split(".")
    if len(parts) < 2 or len(parts[0]) < 2 or not all(parts) or not any(c.isalpha() for c in parts[-1]):
        return False
    return len(parts[-1]) >= 2 or parts[0] == parts[0].lower()


def holds(text: str, term: str) -> bool:
    """Does the search form of ``text`` hold ``term`` (a search form) whole, not inside a longer name?"""
    norm = normalize(text)
    start = norm.find(term)
    while start >= 0:
        end = start + len(term)
        before = norm[start - 1] if start else " "
        after = norm[end] if end < len(norm) else " "
        if not _joins(before, term[0]) and not _joins(after, term[-1]):
            return True
        start = norm.find(term, start + 1)
    return False


def _joins(neighbour: str, edge: str) -> bool:
    """Would ``neighbour`` continue the name at that edge (a word character beside a word character)?"""
    return (neighbour.isalnum() or neighbour == "_") and (edge.isalnum() or edge == "_")

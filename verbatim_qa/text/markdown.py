"""Document text inside the Markdown Verbatim writes (briefings, "Copy as Markdown", ``ask --markdown``): shown as
text, never run as HTML by whatever renders the Markdown."""

from __future__ import annotations

import re

# a backslash before ASCII punctuation (CommonMark would read it as an escape), every "<" (a tag, a comment or an
# autolink would start there) and an "&" that starts an entity ("&lt;" would show as "<")
_ESCAPED = re.compile(r"\\(?=[!-/:-@\[-`{-~])|<|&(?=#?\w+;)")


def escape_html(markdown: str) -> str:
    """``markdown`` with those characters backslash-escaped: a renderer shows a document's "<script>" or "&lt;"
    as written. Verbatim's own Markdown has none of them; ``ui.provenance.unescape`` undoes the escapes."""
    return _ESCAPED.sub(lambda m: "\\" + m.group(), markdown)

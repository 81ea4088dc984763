"""One file -> ``Document``: the checks every file passes, the format's text, and a title."""

from __future__ import annotations

import re
from pathlib import Path

from verbatim_qa.settings import Settings
from verbatim_qa.text.lang import detect_langs
from verbatim_qa.types import Document, content_hash

from .decode import check_kind, decode_text, normalize_newlines
from .docx import docx_text
from .errors import LoadError, human_size, one_line
from .html import html_text
from .pdf import pdf_document

SUPPORTED = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
_HTML = {".html", ".htm"}
_SHORT_LINE_TITLE = {".txt", ".md", ".markdown"}


def document_id(path: Path) -> str:
    """The id of the document a file is: a hash of its resolved path (two folders may hold files of one name)."""
    return content_hash(str(path.resolve()))[:16]


def load_document(path: Path, max_bytes: int, settings: Settings | None = None) -> Document:
    """Load one file; raises LoadError (never anything else for bad input) with a one-line reason. ``settings``
    gives the PDF/OCR constants (default: ``Settings()``'s)."""
    path = Path(path)
    if not path.exists():
        raise LoadError(path, "file not found")
    if not path.is_file():
        raise LoadError(path, "not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise LoadError(path, f"file is {human_size(size)}, over the {human_size(max_bytes)} limit")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise LoadError(path, f"unsupported file type {suffix or '(no extension)'}")
    if size == 0:
        raise LoadError(path, "empty file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot read file: {exc.strerror or one_line(exc)}") from exc

    check_kind(path, data, suffix)
    pages: tuple[tuple[int, int, int], ...] = ()
    layout: tuple[tuple[int, int, str], ...] = ()
    meta_title = extracted_by = ""
    if suffix == ".pdf":
        pdf = pdf_document(path, data, settings)
        text, pages, extracted_by, layout = pdf.text, pdf.pages, pdf.extracted_by, pdf.layout
    elif suffix == ".docx":
        text, meta_title = docx_text(path, data, max_bytes)
    else:
        try:
            text = normalize_newlines(decode_text(data))
        except ValueError as exc:
            raise LoadError(path, str(exc)) from exc
        if suffix in _HTML:
            text, meta_title = html_text(text, (settings or Settings()).documents.html_min_main_chars)
    if not text.strip():
        raise LoadError(path, "empty file (no visible text)" if suffix in _HTML else "empty file")

    resolved = str(path.resolve())
    return Document(
        doc_id=document_id(path),
        source=path.name,
        path=resolved,
        title=_title(text, suffix, meta_title, path.stem, layout),
        text=text,
        langs=detect_langs(text),
        sha=content_hash(text),
        pages=pages,
        extracted_by=extracted_by,
        layout=layout,
    )


# ---------------------------------------------------------------- titles
_SUP = re.compile(r"<sup>.*?</sup>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")


def _clean_title(s: str) -> str:
    s = _TAG.sub("", _SUP.sub("", s)).replace("**", "").replace("__", "")
    return " ".join(s.split())


def _first_heading(text: str, layout: tuple[tuple[int, int, str], ...] = ()) -> str:
    """First markdown heading or heading-like line, as the chunker sees section structure."""
    from verbatim_qa.text.segment import segment

    head = tuple(b for b in layout if b[1] <= 20000)
    for sec in segment(text[:20000], head):
        if sec.path:
            return sec.path.split(" > ")[0]
    return ""


def _title(text: str, suffix: str, meta_title: str, stem: str, layout: tuple = ()) -> str:
    # HTML: <title>, else the first heading; elsewhere the first heading beats (often stale) metadata.
    heading = _clean_title(_first_heading(text, layout))
    candidates = [meta_title, heading] if suffix in _HTML else [heading, meta_title]
    if suffix in _SHORT_LINE_TITLE:
        short = next((s for line in text.split("\n") if (s := line.strip())), "")
        candidates.append(_clean_title(short) if len(short) <= 120 else "")
    return next((c for c in candidates if c), stem)

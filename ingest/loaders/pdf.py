"""PDF -> the text of every page, and where each page starts and ends in it."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from .decode import normalize_newlines
from .errors import LoadError, one_line

# pypdf logs every repair it attempts on a damaged file; the outcome is our LoadError reason, not their log lines.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)


def pdf_text(path: Path, data: bytes) -> tuple[str, tuple[tuple[int, int, int], ...]]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):  # many "protected" PDFs open with the empty user password
                    raise LoadError(path, "encrypted PDF (password required)")
            except (PyPdfError, NotImplementedError) as exc:  # e.g. AES without the cryptography package
                raise LoadError(path, f"encrypted PDF: {one_line(exc)}") from exc
        texts = [normalize_newlines(page.extract_text() or "") for page in reader.pages]
    except LoadError:
        raise
    except Exception as exc:  # pypdf on damaged bytes raises anything (zlib, NotImplementedError, ...): all corrupt
        raise LoadError(path, f"corrupt PDF: {one_line(exc)}") from exc
    if not any(t.strip() for t in texts):
        raise LoadError(path, "PDF has no text layer (scanned?)")
    pages, pos = [], 0
    for number, page_text in enumerate(texts, start=1):
        pages.append((pos, pos + len(page_text), number))
        pos += len(page_text) + 2  # the "\n\n" joining pages
    return "\n\n".join(texts), tuple(pages)

"""PDF -> the text of every page in reading order, where each page starts and ends in it, the role of each
paragraph (body, heading, running header, table row, ...), and for every character of a page the box it occupies
on the page (for highlighting a quote on the rendered page).

Text layer: pypdfium2's characters and boxes (``pdf_chars``), read into lines in logical order (``pdf_lines``:
right-to-left lines through the Unicode bidirectional algorithm, ``logical.py``) and into paragraphs with roles
from the layout of the whole document (``pdf_layout``). Each character is folded with NFKC (presentation forms
-> base letters, ligatures -> letters).

No text layer on a page (a scan): the page is rendered with pypdfium2 and read by Tesseract (``ocr.py``).

Determinism: a page's text depends on the document (running headers, the outline, the body type size are
document-wide), so ``pdf_page`` lays out the whole file again at request time (the page-image endpoint) and must
give the stored slice of the document text; the laid-out pages are kept in memory per file content. We keep
boxes out of the index: one box per character is ~30 bytes, ~1 MB for a 20-page paper in every commit record.
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from verbatim_qa.cache import LruCache
from verbatim_qa.settings import Settings

from .errors import LoadError, one_line
from .ocr import ocr_page
from .page import Box, PageText
from .pdf_chars import PageChars
from .pdf_layout import TERMINAL, LaidPage, lay_out, page_text, runs_on
from .textcheck import check_page

# pypdf logs every repair it attempts on a damaged file; the outcome is our LoadError reason, not their log lines.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)

__all__ = ["Box", "PageText", "PdfText", "pdf_document", "pdf_page", "pdf_pages", "pdf_text"]
# laid-out files kept for the page-image endpoint (a 150-page book's boxes are ~20 MB)
_DOCS: LruCache[tuple[str, str], tuple[PageText, ...]] = LruCache(4)


@dataclass(frozen=True)
class PdfText:
    text: str
    pages: tuple[tuple[int, int, int], ...]  # (char_start, char_end, page number)
    extracted_by: str  # text | ocr | text+ocr
    layout: tuple[tuple[int, int, str], ...]  # (char_start, char_end, role) of each paragraph of the text layer


def pdf_text(path: Path, data: bytes, settings: Settings | None = None
             ) -> tuple[str, tuple[tuple[int, int, int], ...], str]:
    """(document text, (char_start, char_end, page number) per page, how it was extracted: text|ocr|text+ocr)."""
    doc = pdf_document(path, data, settings)
    return doc.text, doc.pages, doc.extracted_by


def pdf_document(path: Path, data: bytes, settings: Settings | None = None) -> PdfText:
    settings = settings or Settings()
    n_pages = _check(path, data)
    pages = pdf_pages(path, data, settings, n_pages)
    if not any(p.text.strip() for p in pages):
        if any(p.ocr for p in pages):
            raise LoadError(path, "PDF has no text layer and OCR found no text (blank or unreadable scan)")
        raise LoadError(path, "PDF has no text")
    spans, layout, parts, pos = [], [], [], 0
    for p in pages:
        if parts:
            parts.append("\n" if p.continues else "\n\n")  # a paragraph running on across the break: one
            pos += len(parts[-1])
        spans.append((pos, pos + len(p.text), p.number))
        layout += [(pos + a, pos + b, role) for a, b, role in p.blocks]
        parts.append(p.text)
        pos += len(p.text)
    kinds = {"ocr" if p.ocr else "text" for p in pages if p.text.strip()}
    return PdfText("".join(parts), tuple(spans), "+".join(sorted(kinds, key=("text", "ocr").index)), tuple(layout))


def _check(path: Path, data: bytes) -> int:
    """Opens the file with pypdf (the refusal reasons users already get: encrypted, corrupt); its page count."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):  # many "protected" PDFs open with the empty user password
                    raise LoadError(path, "encrypted PDF (password required)")
            except (PyPdfError, NotImplementedError) as exc:  # e.g. AES without the cryptography package
                raise LoadError(path, f"encrypted PDF: {one_line(exc)}") from exc
        return len(reader.pages)
    except LoadError:
        raise
    except Exception as exc:  # pypdf on damaged bytes raises anything (zlib, NotImplementedError, ...): all corrupt
        raise LoadError(path, f"corrupt PDF: {one_line(exc)}") from exc


def pdf_pages(path: Path, data: bytes, settings: Settings, n_pages: int | None = None,
              numbers: list[int] | None = None) -> list[PageText]:
    """The pages (1-based ``numbers``, default all) as loaded; raises LoadError for bad files."""
    pages = _laid_out(path, data, settings)
    if n_pages is not None and len(pages) != n_pages:
        raise LoadError(path, f"corrupt PDF: {len(pages)} of {n_pages} pages readable")
    return [pages[n - 1] for n in numbers] if numbers else list(pages)


def pdf_page(path: Path, data: bytes, number: int, settings: Settings) -> PageText:
    """One page, exactly as ``pdf_text`` loaded it (the same code on the same bytes)."""
    return pdf_pages(path, data, settings, numbers=[number])[0]


def _laid_out(path: Path, data: bytes, settings: Settings) -> tuple[PageText, ...]:
    d = settings.documents
    key = (hashlib.sha256(data).hexdigest(),
           f"{d.ocr_dpi}:{d.ocr_lang}:{d.ocr_lang_arabic}:{d.ocr_region_conf}:{d.render_max_pixels}")
    pages = _DOCS.get(key)
    if pages is None:
        pages = _read(path, data, settings)
        _DOCS.put(key, pages)
    return pages


def _read(path: Path, data: bytes, settings: Settings) -> tuple[PageText, ...]:
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise LoadError(path, f"corrupt PDF: {one_line(exc)}") from exc
    d = settings.documents
    if (n := len(doc)) > d.pdf_max_pages:
        doc.close()
        raise LoadError(path, f"PDF has {n} pages, over the limit of {d.pdf_max_pages} "
                              "(setting documents.pdf_max_pages)")
    try:
        chars: list[PageChars | None] = []
        blank: dict[int, tuple[float, float]] = {}  # page number -> size of a page that draws nothing
        reader: list[PdfReader] = []  # parsed once, at the first page without text
        for i in range(len(doc)):
            page = doc[i]
            try:
                c = PageChars(page)
                if not c.has_text:
                    _decodable(path, data, i, reader)
                    if not pdfium_c.FPDFPage_CountObjects(page.raw):
                        blank[i + 1] = (c.width, c.height)
            finally:
                page.close()
            chars.append(c if c.has_text else None)
        outline = _outline(doc)
    except pdfium.PdfiumError as exc:
        raise LoadError(path, f"corrupt PDF: {one_line(exc)}") from exc
    finally:
        doc.close()
    out: list[PageText] = []
    ocr_s = 0.0  # seconds of OCR so far (Tesseract runs in a subprocess: wall time)
    before: LaidPage | None = None  # the page before, laid out from its text layer
    for number, laid in enumerate(lay_out(chars, outline), start=1):
        started = time.monotonic()
        if number in blank:  # draws nothing (LaTeX's empty versos: 3 in lshort, ~3.5 s of OCR each): no text, no OCR
            page = PageText(number, "", (), *blank[number], "text")
        elif laid is None:  # draws something but has no text layer: a scan
            page = ocr_page(path, data, number, settings)
        else:  # a text layer that is not language (glyph soup) is read by OCR instead (textcheck.py)
            p = page_text(laid)
            # a sentence ending at the page's end ends the paragraph as far as sentences go: only geometry is asked
            # whether one without a stop runs on
            continues = (before is not None and out and not out[-1].ocr and not TERMINAL.search(out[-1].text)
                         and runs_on(before, laid))
            page = check_page(path, data, PageText(number, p.text.text(), tuple(p.text.boxes), laid.width, laid.height,
                                                   "text", tuple(p.blocks), continues), settings)
        before = laid if not page.ocr else None
        out.append(page)
        if page.ocr:
            ocr_s += time.monotonic() - started
            if ocr_s > d.ocr_budget_s:
                raise LoadError(path, f"OCR took {ocr_s:.0f} s by page {number} of {len(chars)}, over the budget of "
                                      f"{d.ocr_budget_s:g} s a file (setting documents.ocr_budget_s)")
    return tuple(out)


def _decodable(path: Path, data: bytes, index: int, reader: list[PdfReader]) -> None:
    """A page without text: refuse it as corrupt when its content cannot be decoded (pdfium shows such a page
    blank; pypdf names the reason), rather than send it to OCR. ``reader``: the file parsed by pypdf
    once (~0.5 s for lshort)."""
    try:
        if not reader:
            reader.append(PdfReader(io.BytesIO(data)))
        contents = reader[0].pages[index].get_contents()
        if contents is not None:
            contents.get_data()
    except Exception as exc:  # pypdf on damaged bytes raises anything (zlib, NotImplementedError, ...): all corrupt
        raise LoadError(path, f"corrupt PDF: {one_line(exc)}") from exc


def _outline(doc: pdfium.PdfDocument) -> list[tuple[int, str, int]]:
    """(depth, title, page index) of each bookmark that points at a page."""
    out = []
    for item in doc.get_toc(max_depth=8):
        dest = item.get_dest()
        index = dest.get_index() if dest is not None else None
        if index is not None:
            out.append((item.level, item.get_title(), index))
    return out

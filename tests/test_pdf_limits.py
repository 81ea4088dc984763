"""PDF limits (issue #26): a giant page is rendered under the pixel budget, a file over the page cap is refused
before any page is read, and OCR past its time budget is refused; each refusal is one line naming its setting."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pypdfium2 as pdfium
import pytest
from helpers import verbatim_serve
from PIL import Image
from reportlab.pdfgen import canvas

from verbatim_qa.ingest.loaders import load_document
from verbatim_qa.ingest.loaders.errors import LoadError
from verbatim_qa.ingest.loaders.ocr import render
from verbatim_qa.ingest.loaders.pdf import pdf_page
from verbatim_qa.settings import Settings

MAX = 50 * 1024 * 1024
MINILM = "st:all-MiniLM-L6-v2"  # as in conftest.py
SIDE = 14_400  # points: the largest page PDF allows (200 in)


def giant_pdf() -> bytes:
    """One 14,400 x 14,400 pt page with a filled square and a word on it, in well under a kilobyte."""
    content = b"0.2 g 1000 1000 12400 12400 re f BT /F1 400 Tf 2000 7000 Td (Giant) Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>" % (SIDE, SIDE),
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (n, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_giant_page_is_rendered_under_the_pixel_budget(tmp_path):
    data = giant_pdf()
    assert len(data) < 1024
    budget = Settings().documents.render_max_pixels
    image, width, height, scale = render(tmp_path / "giant.pdf", data, 1, 100, budget)
    assert (width, height) == (SIDE, SIDE)
    assert image.width * image.height <= budget  # 400 Mpx at 100 dpi unclamped
    assert scale < 100 / 72 and abs(image.width - width * scale) <= 1  # boxes scale with the image
    # the page's text and boxes are the same whatever the render: the quote tints where the page draws it
    path = tmp_path / "giant.pdf"
    path.write_bytes(data)
    page = pdf_page(path, data, 1, Settings())
    assert page.text == "Giant"
    x0, top, x1, bottom = page.boxes[0]
    assert 1900 < x0 < 2100 and 0 < top < bottom < SIDE


def test_a_normal_page_keeps_its_resolution(tmp_path):
    doc = pdfium.PdfDocument.new()
    doc.new_page(595, 842)  # A4
    buf = io.BytesIO()
    doc.save(buf)
    image, _, _, scale = render(tmp_path / "a4.pdf", buf.getvalue(), 1, 300, Settings().documents.render_max_pixels)
    assert scale == 300 / 72 and abs(image.width - 595 * scale) <= 1 and abs(image.height - 842 * scale) <= 1


def test_over_the_page_cap_is_refused_with_its_setting(tmp_path):
    doc = pdfium.PdfDocument.new()
    for _ in range(3):
        doc.new_page(612, 792)
    path = tmp_path / "three.pdf"
    doc.save(str(path))
    with pytest.raises(LoadError) as err:
        load_document(path, MAX, Settings(pdf_max_pages=2))
    assert "3 pages, over the limit of 2 (setting documents.pdf_max_pages)" in str(err.value)
    assert "\n" not in str(err.value)


def test_ocr_past_its_budget_is_refused_with_its_setting(tmp_path):
    path = tmp_path / "scan.pdf"
    image = Image.new("L", (400, 200), 255)
    image.save(path, format="PDF", resolution=100)  # a page that draws an image and has no text layer
    with pytest.raises(LoadError) as err:
        load_document(path, MAX, Settings(ocr_budget_s=1e-6))
    assert "by page 1 of 1, over the budget of 1e-06 s a file (setting documents.ocr_budget_s)" in str(err.value)


def blank_pdf(pages: int, last_text: str | None = None) -> bytes:
    """``pages`` empty Letter pages, the last one (when ``last_text``) drawing that line instead."""
    doc = pdfium.PdfDocument.new()
    for _ in range(pages - (last_text is not None)):
        doc.new_page(612, 792)
    if last_text is not None:
        page = io.BytesIO()
        c = canvas.Canvas(page, pagesize=(612, 792))
        c.drawString(72, 700, last_text)
        c.showPage()
        c.save()
        doc.import_pages(pdfium.PdfDocument(page.getvalue()))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


@pytest.mark.integration
def test_ten_thousand_blank_pages_through_a_real_server(tmp_path):
    """Uploaded to ``verbatim serve`` with the page cap at 10,000: 9,999 blank pages and one line of text load
    (blank pages skipped cheaply, the file read once) and the line is answered from page 10,000; one page more is
    refused with one line naming the setting. The server's peak memory stays under 1 GB (issue #26's budget);
    the request timeout (loose) catches a hang."""
    with verbatim_serve(tmp_path / "home", MINILM, pdf_max_pages="10000") as (server, url):
        fact = "The Termez gauge on the Amu Darya was recalibrated in 1987."
        with httpx.Client(base_url=url, timeout=900) as client:
            loaded = client.post("/api/ingest", files={"file": ("blank-9999.pdf", blank_pdf(10_000, fact),
                                                                "application/pdf")})
            assert loaded.status_code == 200, loaded.text
            over = client.post("/api/ingest", files={"file": ("blank-10001.pdf", blank_pdf(10_001),
                                                              "application/pdf")})
            assert over.status_code == 400
            reason = over.json()["error"]
            assert reason.endswith("PDF has 10001 pages, over the limit of 10000 (setting documents.pdf_max_pages)")
            assert "\n" not in reason
            answer = client.post("/api/ask", json={"question": "When was the Termez gauge recalibrated?"}).json()
        assert not answer["refused"] and "1987" in answer["answer"]
        assert answer["citations"][0]["source"] == "blank-9999.pdf" and answer["citations"][0]["page"] == 10_000
        peak = peak_rss_mb(server.pid)
        print(f"\nserver peak RSS {peak:.0f} MB after 10,000 and 10,001 blank pages")
        assert peak < 1024

"""GET /api/sources/{id}/pages/{n}.png over real HTTP: the cited page with the quote's characters tinted, checked
against where pypdfium2 (another reader of the same PDF) finds the same text; errors; the token; the panel."""

from __future__ import annotations

import io
from types import SimpleNamespace

import httpx
import pypdfium2 as pdfium
import pytest
from pdfs import chromium_pdf, mixed_body, rasterize
from PIL import Image

from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.ui import html as H
from verbatim_qa.ui.api import create_app
from verbatim_qa.ui.pages import page_url
from verbatim_qa.ui.server import BackgroundServer
from verbatim_qa.vectorstore.store import Store

FIGURE = "۴۲۳,۲ میلیارد مترمکعب"


@pytest.fixture(scope="module")
def api(tmp_path_factory, minilm):
    from conftest import MINILM

    from verbatim_qa.settings import Settings

    folder = tmp_path_factory.mktemp("pages")
    pdf = chromium_pdf(mixed_body(), folder / "mixed.pdf")
    scan = rasterize(pdf, folder / "scan.pdf")
    note = folder / "note.txt"
    note.write_text("A plain text note about Central Asia.\n", "utf-8")
    settings = Settings(home=folder / "home", embedder=MINILM, refusal_threshold=0.0)  # MiniLM scores lower than e5
    store = Store(settings, embedder=minilm)
    assert ingest_paths(store, [pdf, scan, note]).added == 3
    app = create_app(settings, store=store, ui=False)
    ids = {r.source: r.doc_id for r in store.documents()}
    with BackgroundServer(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        yield SimpleNamespace(client=client, store=store, ids=ids, pdf=pdf, settings=settings, app=app)


def tinted(px) -> bool:
    r, g, b = px[:3]
    return r > 200 and g > 190 and b < 200  # white under the translucent yellow: (255, 237, 145)


def pdfium_box(pdf, page_no: int, text: str, scale: float):
    """Where pypdfium2 finds ``text`` on the page, in image pixels (its own text extraction and search)."""
    doc = pdfium.PdfDocument(str(pdf))
    page = doc[page_no - 1]
    height = page.get_height()
    tp = page.get_textpage()
    found = tp.search(text).get_next()
    assert found, f"pdfium does not find {text!r}"
    index, count = found
    boxes = [tp.get_charbox(i) for i in range(index, index + count)]
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    doc.close()
    return x0 * scale, (height - y1) * scale, x1 * scale, (height - y0) * scale


@pytest.mark.integration
def test_page_image_tints_the_quote_where_the_page_draws_it(api):
    doc_id = api.ids["mixed.pdf"]
    text = api.store.document_text(doc_id)
    start = text.index(FIGURE)
    r = api.client.get(f"/api/sources/{doc_id}/pages/2.png", params={"start": start, "end": start + len(FIGURE)})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(r.content)).convert("RGB")
    scale = api.settings.documents.page_image_dpi / 72
    assert img.size == (round(612 * scale), round(792 * scale))
    x0, top, x1, bottom = pdfium_box(api.pdf, 2, "۴۲۳,۲", scale)
    inside = [img.getpixel((x, y)) for x in range(int(x0) + 1, int(x1)) for y in range(int(top) + 1, int(bottom))]
    assert sum(map(tinted, inside)) / len(inside) > 0.3  # background around the glyphs is tinted
    tints = [(x, y) for x in range(0, img.width, 2) for y in range(0, img.height, 2) if tinted(img.getpixel((x, y)))]
    line = bottom - top  # the quote wraps: its words after the figure start the next line
    assert tints and all(top - 5 <= y <= bottom + 1.5 * line + 5 for _, y in tints)
    plain = Image.open(io.BytesIO(api.client.get(f"/api/sources/{doc_id}/pages/2.png").content)).convert("RGB")
    assert not any(tinted(plain.getpixel(p)) for p in tints)


@pytest.mark.integration
def test_page_image_of_a_scan(api):
    doc_id = api.ids["scan.pdf"]
    text = api.store.document_text(doc_id)
    start = text.index("2,000")
    r = api.client.get(f"/api/sources/{doc_id}/pages/1.png", params={"start": start, "end": start + 5})
    img = Image.open(io.BytesIO(r.content)).convert("RGB")
    tints = [(x, y) for x in range(0, img.width, 2) for y in range(0, img.height, 2) if tinted(img.getpixel((x, y)))]
    assert r.status_code == 200 and 0 < len(tints) < 2000  # one word


@pytest.mark.integration
@pytest.mark.parametrize("path, params, status, reason", [
    ("/api/sources/nope/pages/1.png", {}, 404, "no document nope"),
    ("/api/sources/{pdf}/pages/3.png", {}, 404, "mixed.pdf has no page 3 (pages 1-2)"),
    ("/api/sources/{pdf}/pages/0.png", {}, 404, "mixed.pdf has no page 0 (pages 1-2)"),
    ("/api/sources/{pdf}/pages/x.png", {}, 422, "invalid request: path.n: Input should be a valid integer"),
    ("/api/sources/{pdf}/pages/1.png", {"start": 5}, 422, "give both start and end, or neither"),
    ("/api/sources/{pdf}/pages/1.png", {"start": 9, "end": 9}, 422, "characters 9:9 are not in mixed.pdf"),
    ("/api/sources/{pdf}/pages/1.png", {"start": -1, "end": 9}, 422, "invalid request: query.start"),
    ("/api/sources/{pdf}/pages/2.png", {"start": 0, "end": 10}, 422, "characters 0:10 are not on page 2"),
    ("/api/sources/{txt}/pages/1.png", {}, 404, "note.txt is not a PDF: it has no pages"),
])
def test_page_image_errors(api, path, params, status, reason):
    r = api.client.get(path.format(pdf=api.ids["mixed.pdf"], txt=api.ids["note.txt"]), params=params)
    assert r.status_code == status and r.json()["error"].startswith(reason), r.text


@pytest.mark.integration
def test_a_gone_file_is_a_404_that_names_no_server_path(api):
    moved = api.pdf.with_name("moved.pdf")
    api.pdf.rename(moved)
    try:
        r = api.client.get(f"/api/sources/{api.ids['mixed.pdf']}/pages/1.png")
    finally:
        moved.rename(api.pdf)
    assert r.status_code == 404
    assert r.json() == {"error": "mixed.pdf: the ingested file is gone (No such file or directory); ingest it again"}
    assert str(api.pdf.parent) not in r.text


@pytest.mark.integration
def test_page_image_needs_the_token(api):
    app = create_app(api.settings.with_(token="s3cret"), service=api.app.state.service, ui=False)
    with BackgroundServer(app) as url:
        path = f"{url}/api/sources/{api.ids['mixed.pdf']}/pages/1.png"
        assert httpx.get(path).status_code == 401
        ok = httpx.get(path, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.content.startswith(b"\x89PNG")
        # the UI's <img> cannot send the header: its link carries the image's signature under the token
        signed = page_url(api.ids["mixed.pdf"], 1, 10, 20, token="s3cret")
        assert "sig=" in signed and httpx.get(url + signed).status_code == 200
        assert httpx.get(url + signed.replace("start=10", "start=11")).status_code == 401
        assert httpx.get(url + page_url(api.ids["mixed.pdf"], 1, 10, 20, token="wrong")).status_code == 401
        assert httpx.get(f"{url}/api/sources?sig=" + signed.split("sig=")[1]).status_code == 401


@pytest.mark.integration
def test_source_panel_shows_the_page_and_says_ocr(api):
    service = api.app.state.service
    answer = service.ask("How many cameras are there in Nur-Sultan?", sources=["scan.pdf"])
    c = answer.citations[0]
    assert c.page == 1 and c.doc_id == api.ids["scan.pdf"] and c.ocr  # the service says how the text was read
    panel = H.source_html(0, c, H.context_of(answer, c), H.page_link(c))
    url = f'/api/sources/{c.doc_id}/pages/1.png?start={c.char_start}&amp;end={c.char_end}'
    assert f'<img class="vb-page" loading="lazy" src="{url}"' in panel and "read by OCR" in panel
    assert api.client.get(url.replace("&amp;", "&")).status_code == 200


def test_html_briefing_links_the_cited_pdf_page():
    from verbatim_qa.types import Citation
    from verbatim_qa.ui.briefing import Briefing, Item, Note, to_html
    from verbatim_qa.ui.provenance import Record

    c = Citation(1, "mixed.pdf", "Surveillance", None, 2, "۴۲۳,۲ میلیارد", 900, 913)
    note = Note(1, c, Record(1, "mixed.pdf", "abc123", "f" * 64, 900, 913))
    plain = Note(2, Citation(2, "a.txt", "A", None, None, "quote", 0, 5), Record(2, "a.txt", "d2", "0" * 64, 0, 5))
    html_out = to_html(Briefing("B", None, [Item("q", False, [], [note, plain])], server="http://h:7860/"))
    assert 'href="http://h:7860/api/sources/abc123/pages/2.png?start=900&amp;end=913"' in html_out
    assert html_out.count("/pages/") == 1  # the .txt citation has no page to link

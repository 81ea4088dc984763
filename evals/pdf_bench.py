"""PDF benchmark (part of ``verbatim bench``): load and ingest of a text PDF printed by Chromium from the corpus
(default 20 pages) and of the same first pages rasterized into a scan (default 5 pages, read by Tesseract), in
pages/s, the text PDF's load beside raw pdfium's and pdftotext's text extraction of the same file (and so for
every PDF of ``pdf_dir`` when given); and the page-image endpoint
(``GET /api/sources/{id}/pages/{n}.png?start=&end=``) over HTTP, p50/p95.

Needs Chromium (``CHROMIUM``, default /usr/bin/chromium) to print the PDF and Tesseract for the scan.
"""

from __future__ import annotations

import html
import io
import random
import tempfile
import time
from pathlib import Path

import httpx

from verbatim_qa.ingest.loaders import load_document
from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.settings import Settings
from verbatim_qa.ui.api import create_app
from verbatim_qa.ui.server import BackgroundServer
from verbatim_qa.vectorstore.store import Store

from .metrics import percentile
from .pdf_fixtures import print_html

PAGE_CHARS = 1500  # corpus characters per printed page: a 12 pt page holds ~2,700 (measured), so none overflows


def corpus_pages(corpus: Path, pages: int) -> list[str]:
    """``pages`` page bodies of corpus paragraphs (Persian right-to-left, English left-to-right)."""
    paras = []
    for path in sorted(corpus.glob("*")):
        if path.suffix in {".md", ".txt"}:
            paras += [p.strip().lstrip("#").strip() for p in path.read_text("utf-8").split("\n\n") if len(p) > 80]
    if not paras:
        raise RuntimeError(f"no paragraphs in {corpus} to print")
    out, i = [], 0
    for _ in range(pages):
        body, size = [], 0
        while size < PAGE_CHARS:
            p = paras[i % len(paras)][: PAGE_CHARS - size + 200]
            i += 1
            body.append(f'<p dir="auto">{html.escape(p)}</p>')
            size += len(p)
        out.append("".join(body))
    return out


def print_pdf(pages: list[str], out: Path) -> Path:
    body = '<div style="page-break-after: always">' + '</div><div style="page-break-after: always">'.join(pages)
    return print_html('<!doctype html><html><head><meta charset="utf-8"><style>body{font-family:"DejaVu Sans";'
                      f'font-size:12pt}} p{{text-align:justify}}</style></head><body>{body}</div></body></html>', out)


def rasterize(pdf: Path, out: Path, pages: int, dpi: int = 200) -> Path:
    import img2pdf
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    images = []
    for k in range(min(pages, len(doc))):
        buf = io.BytesIO()
        doc[k].render(scale=dpi / 72).to_pil().convert("L").save(buf, format="PNG", dpi=(dpi, dpi))
        images.append(buf.getvalue())
    doc.close()
    out.write_bytes(img2pdf.convert(images))
    return out


def extractor_speeds(path: Path, settings: Settings) -> dict:
    """Pages/s of Verbatim's load, raw pdfium's and pdftotext's text extraction on one PDF (OCR uncached)."""
    from .pdf_eval import EXTRACT, pdf_metadata

    pages = pdf_metadata(path)[1]
    out: dict = {"pages": pages}
    for name, extract in EXTRACT.items():
        t = time.perf_counter()
        extract(path, settings.with_(ocr_cache_pages=0))
        out[f"{name}_pages_per_s"] = pages / (time.perf_counter() - t)
    return out


def run_pdf_bench(settings: Settings, corpus: Path, text_pages: int = 20, scan_pages: int = 5,
                  requests: int = 40, seed: int = 7, pdf_dir: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="verbatim-pdf-bench-") as tmp:
        tmp = Path(tmp)
        pdf = print_pdf(corpus_pages(corpus, text_pages), tmp / "text.pdf")
        scan = rasterize(pdf, tmp / "scan.pdf", scan_pages)
        settings = settings.with_(home=tmp / "home")
        store = Store(settings)
        store.embedder.encode_queries(["warm-up"])  # model load is start-up cost, not ingest
        out: dict = {}
        for name, path in (("text_pdf", pdf), ("scanned_pdf", scan)):
            t = time.perf_counter()
            doc = load_document(path, settings.max_file_bytes, settings.with_(ocr_cache_pages=0))  # uncached OCR
            load_s = time.perf_counter() - t
            t = time.perf_counter()
            report = ingest_paths(store, [path])
            ingest_s = time.perf_counter() - t
            if report.failed:
                raise RuntimeError(f"the PDF bench could not ingest {path.name}: {report.failed}")
            n = len(doc.pages)
            out[name] = {"pages": n, "extracted_by": doc.extracted_by, "load_s": load_s,
                         "load_pages_per_s": n / load_s, "ingest_s": ingest_s, "ingest_pages_per_s": n / ingest_s}
        speeds = extractor_speeds(pdf, settings)
        out["text_pdf"] |= {"pdfium_pages_per_s": speeds["pdfium_pages_per_s"],
                            "pdftotext_pages_per_s": speeds["pdftotext_pages_per_s"]}
        if pdf_dir is not None:
            out["files"] = {str(p.relative_to(pdf_dir)): extractor_speeds(p, settings)
                            for p in sorted(pdf_dir.rglob("*.pdf"))}
        out["page_image_ms"] = _endpoint(settings, store, requests, seed)
        return out


def _endpoint(settings: Settings, store: Store, requests: int, seed: int) -> dict:
    """GET page images with a sentence's offsets, as the source panel asks: p50/p95 per kind of page."""
    rng = random.Random(seed)
    app = create_app(settings, store=store, ui=False)
    result = {}
    with BackgroundServer(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        for rec in store.documents():
            doc = store.load(rec.doc_id)
            sentences = [s for c in store.chunks_of({rec.doc_id: rec.sha}) for s in c.sentences]
            times, first, seen = [], [], set()
            for _ in range(requests):
                s = rng.choice(sentences)
                page = doc.page_at(s.char_start)
                t = time.perf_counter()
                r = client.get(f"/api/sources/{rec.doc_id}/pages/{page}.png",
                               params={"start": s.char_start, "end": s.char_end})
                times.append((time.perf_counter() - t) * 1000)
                if page not in seen:  # the page's first request: its layout (or OCR) not yet in memory
                    seen.add(page)
                    first.append(times[-1])
                if r.status_code != 200:
                    raise RuntimeError(f"page image of {rec.source} p. {page}: {r.status_code} {r.text[:200]}")
            kind = "scanned_pdf" if rec.ocr else "text_pdf"
            result[kind] = {"p50": percentile(times, 50), "p95": percentile(times, 95), "n": len(times),
                            "first_per_page_p95": percentile(first, 95), "first_n": len(first)}
    return result

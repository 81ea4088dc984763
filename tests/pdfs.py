"""Real PDFs for the PDF tests: HTML printed by Chromium (``--print-to-pdf``), and the same pages rasterized into an
image-only PDF (pypdfium2 render -> PIL -> img2pdf), from paragraphs of the bundled corpus."""

from __future__ import annotations

import html
import io
import os
import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
_EN = (ROOT / "corpus" / "why-china-leans-hard-on-central-asia.txt").read_text("utf-8").split("\n")
_FA = (ROOT / "corpus" / "china-central-asia-ai-rezapour-2024.md").read_text("utf-8").split("\n")
EN_SURVEILLANCE = _EN[48]  # "2,000 cameras", "$22 million"
EN_DEBT = _EN[56]  # "41% of Kyrgyzstan's debt"
FA_TRADE = _FA[138]  # trade figures: ۱۹۹۲، ۲.۷۲ ، ۶۱,۴ ...
FA_PIPELINE = _FA[140]  # "تا پایان سال ۲۰۲۳، در مجموع ۴۲۳,۲ میلیارد مترمکعب"
FA_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
CSS = """body { font-family: 'DejaVu Sans'; font-size: 12pt; }
.fa { direction: rtl; text-align: justify; }
.pb { page-break-before: always; }
.cols { column-count: 2; column-gap: 2em; text-align: justify; }
table { border-collapse: collapse; } td, th { border: 1px solid #444; padding: 4px 8px; }
.footnote { font-size: 9pt; border-top: 1px solid #888; margin-top: 2em; }"""


def norm(s: str) -> str:
    """For comparing with the source: NFKC, no whitespace, no ZWNJ (Chromium draws no glyph for ZWNJ)."""
    return re.sub(r"[\s\u200c]+", "", unicodedata.normalize("NFKC", s))


def numbers(s: str) -> list[str]:
    """The numbers in ``s``, in order, Persian digits read as ASCII ("۴۲۳,۲" -> "423,2")."""
    return re.findall(r"\d+(?:[.,٫٬]\d+)*", s.translate(FA_DIGITS))


def chromium_pdf(body: str, out: Path) -> Path:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get update && apt-get install -y chromium (or make system-deps)")
    src = out.with_suffix(".html")
    src.write_text(f'<!doctype html><html><head><meta charset="utf-8"><style>{CSS}</style></head>'
                   f"<body>{body}</body></html>", "utf-8")
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--print-to-pdf={out}", src.as_uri()], check=True, capture_output=True, timeout=120)
    assert out.exists() and out.read_bytes().startswith(b"%PDF-")
    return out


def rasterize(pdf: Path, out: Path, dpi: int = 200) -> Path:
    """The pages of ``pdf`` as images only (no text layer), like a scan."""
    import img2pdf
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    images = []
    for page in doc:
        buf = io.BytesIO()
        page.render(scale=dpi / 72).to_pil().convert("L").save(buf, format="PNG", dpi=(dpi, dpi))
        images.append(buf.getvalue())
    doc.close()
    out.write_bytes(img2pdf.convert(images))
    return out


def mixed_body() -> str:
    """Page 1: an English heading and two paragraphs; page 2: a Persian heading, two paragraphs, a table, a footnote."""
    e = html.escape
    return (f"<h1>Surveillance in Central Asia</h1><p>{e(EN_SURVEILLANCE)}</p><p>{e(EN_DEBT)}</p>"
            f'<div class="pb"></div><h2 dir="rtl">همکاری اقتصادی</h2>'
            f'<p class="fa" dir="rtl">{e(FA_TRADE)}</p><p class="fa" dir="rtl">{e(FA_PIPELINE)}<sup>۱</sup></p>'
            '<table dir="rtl"><tr><th>کشور</th><th>حجم تجارت (میلیارد دلار)</th></tr>'
            "<tr><td>قزاقستان</td><td>۴۱</td></tr><tr><td>ازبکستان</td><td>۱۴</td></tr></table>"
            '<p class="footnote fa" dir="rtl">۱. خط لوله گاز آسیای مرکزی - چین در سال ۲۰۰۹ افتتاح شد.</p>')

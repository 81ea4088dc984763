"""Makes the PDFs that ``verbatim eval --pdf`` measures, each beside its source text (``NAME.paragraphs.txt``:
one paragraph per line, table rows as cells joined by " | "), from paragraphs of the bundled corpus:

- Chromium prints of HTML (``--print-to-pdf``) at CSS line heights 1.0, 1.6 and 2.0, and in two columns;
- a .docx (python-docx: 1.5 spacing, right-to-left Persian paragraphs, a table, header and page-number footer)
  exported by LibreOffice (Debian ``libreoffice-writer-nogui``);
- groff's ms macros through PostScript and Ghostscript's ps2pdf (Debian ``groff``, ``ghostscript``);
- a scan of four of them (every page): rendered by pypdfium2, saved as a grey JPEG, wrapped by img2pdf (its Creator
  says "scan of <producer family>").

Run it by hand (not in the tests: LibreOffice is a large install):
``python -m verbatim_qa.evals.pdf_fixtures evals/pdfs``. A tool it needs that is missing is named with its
Debian package.
"""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SCAN_DPI = 200  # a common office-scanner setting; Tesseract reads 12 pt text at 200 dpi
JPEG_QUALITY = 50  # grey JPEG: a scanned page ~250 KB (measured), so the fixtures stay under 2 MB
LINE_HEIGHTS = (1.0, 1.6, 2.0)
TABLE = [["Country", "Trade with China, 2023", "Change"], ["Kazakhstan", "$41 billion", "+32%"],
         ["Uzbekistan", "$14 billion", "+45%"], ["Kyrgyzstan", "$19.8 billion", "+28.8%"]]
_SUP = re.compile(r"<sup>.*?</sup>")


def corpus_paragraphs() -> tuple[list[str], list[str]]:
    """(English paragraphs, Persian paragraphs) of the bundled corpus, plain text, 200+ characters each."""
    en = [p for p in (CORPUS / "why-china-leans-hard-on-central-asia.txt").read_text("utf-8").split("\n")
          if len(p) > 200]
    fa = [_SUP.sub("", p) for p in (CORPUS / "china-central-asia-ai-rezapour-2024.md").read_text("utf-8").split("\n")
          if len(p) > 200 and re.search("[\u0600-\u06ff]", p) and not p.startswith("#")]
    return en, fa


def need(tool: str, package: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        raise SystemExit(f"pdf_fixtures: {tool} is missing (Debian package {package}: apt-get install -y {package})")
    return exe


def write_truth(out: Path, paragraphs: list[str], rows: list[list[str]]) -> None:
    lines = [" ".join(p.split()) for p in paragraphs] + [" | ".join(r) for r in rows]
    out.with_name(out.stem + ".paragraphs.txt").write_text("\n".join(lines) + "\n", "utf-8")


# ---------------------------------------------------------------- Chromium
def print_html(document: str, out: Path) -> Path:
    """An HTML document printed to ``out`` by headless Chromium (``CHROMIUM``, default /usr/bin/chromium)."""
    import os

    chromium = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        raise RuntimeError(f"printing a PDF needs Chromium: none at {chromium} (Debian package chromium, or set "
                           "CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="verbatim-print-") as tmp:
        src = Path(tmp) / "page.html"
        src.write_text(document, "utf-8")
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                        f"--print-to-pdf={out}", src.as_uri()], check=True, capture_output=True, timeout=300)
    return out


def chromium_fixture(out: Path, en: list[str], fa: list[str], css: str) -> Path:
    e = html.escape
    head = "Central Asia and China: a printed web page"
    body = [f"<h1>{e(head)}</h1>", *(f"<p>{e(p)}</p>" for p in en), '<h2 dir="rtl">منابع فارسی</h2>',
            *(f'<p dir="rtl">{e(p)}</p>' for p in fa),
            "<table>" + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in TABLE)
            + "</table>"]
    print_html('<!doctype html><html><head><meta charset="utf-8"><style>body{font-family:"DejaVu Sans";'
               f"font-size:11pt}} td{{border:1px solid #444;padding:3px 6px}} {css}</style></head>"
               f"<body>{''.join(body)}</body></html>", out)
    write_truth(out, [head, *en, "منابع فارسی", *fa], TABLE)
    return out


# ---------------------------------------------------------------- LibreOffice
def docx_fixture(out: Path, en: list[str], fa: list[str]) -> Path:
    """A .docx written with python-docx, exported to PDF by LibreOffice."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    soffice = need("soffice", "libreoffice-writer-nogui")
    d = docx.Document()
    style = d.styles["Normal"]
    style.font.name = "DejaVu Sans"
    style.font.size = Pt(11)
    style.paragraph_format.line_spacing = 1.5
    d.sections[0].header.paragraphs[0].text = "Central Asia briefing — fixture"
    footer = d.sections[0].footer.paragraphs[0]
    run = footer.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):  # a PAGE field: the page number
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.text = text
        run._r.append(el)
    head = "Central Asia and China: a word-processor briefing"
    d.add_heading(head, level=1)
    for p in en:
        d.add_paragraph(p)
    d.add_heading("منابع فارسی", level=2)
    for p in fa:
        para = d.add_paragraph(p)
        ppr = para._p.get_or_add_pPr()
        ppr.append(OxmlElement("w:bidi"))  # a right-to-left paragraph, as Word writes one
        for r in para.runs:
            r._r.get_or_add_rPr().append(OxmlElement("w:rtl"))
    table = d.add_table(rows=len(TABLE), cols=len(TABLE[0]))
    table.style = "Table Grid"
    for row, cells in zip(table.rows, TABLE):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    src = out.with_suffix(".docx")
    d.save(src)
    with tempfile.TemporaryDirectory(prefix="verbatim-lo-") as tmp:  # a profile of its own: no user's settings
        subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--convert-to", "pdf",
                        "--outdir", str(out.parent), str(src)], check=True, capture_output=True, timeout=300)
    src.unlink()
    write_truth(out, [head, *en, "منابع فارسی", *fa], TABLE)
    return out


# ---------------------------------------------------------------- groff
def _roff(text: str) -> str:
    """A paragraph as roff input: backslashes escaped, no line starting with a control character."""
    return "\\&" + text.replace("\\", "\\e")


def groff_fixture(out: Path, en: list[str]) -> Path:
    groff, ps2pdf = need("groff", "groff"), need("ps2pdf", "ghostscript")
    head = "Central Asia and China: a groff memo"
    src = ".TL\n" + _roff(head) + "\n" + "".join(f".PP\n{_roff(p)}\n" for p in en)
    run = subprocess.run([groff, "-k", "-ms", "-Tps"], input=src.encode("utf-8"), capture_output=True, timeout=120)
    if run.returncode != 0:  # Debian's groff-base has groff but not the ms macros
        raise SystemExit(f"pdf_fixtures: groff failed ({run.stderr.decode().strip()}): apt-get install -y groff")
    ps = run.stdout
    subprocess.run([ps2pdf, "-", str(out)], input=ps, check=True, capture_output=True, timeout=120)
    write_truth(out, [head, *en], [])
    return out


# ---------------------------------------------------------------- scans
def scan_fixture(pdf: Path, out: Path) -> Path:
    """The pages of ``pdf`` as images only, like a scanner's PDF; the same source text."""
    import img2pdf
    import pypdfium2 as pdfium

    from .pdf_eval import producer_family

    doc = pdfium.PdfDocument(str(pdf))
    producer = producer_family(doc.get_metadata_dict())
    images = []
    for k in range(len(doc)):
        buf = io.BytesIO()
        doc[k].render(scale=SCAN_DPI / 72).to_pil().convert("L").save(buf, format="JPEG", quality=JPEG_QUALITY,
                                                                        dpi=(SCAN_DPI, SCAN_DPI))
        images.append(buf.getvalue())
    doc.close()
    out.write_bytes(img2pdf.convert(images, creator=f"scan of {producer}", producer=f"img2pdf {img2pdf.__version__}"))
    shutil.copyfile(pdf.with_name(pdf.stem + ".paragraphs.txt"), out.with_name(out.stem + ".paragraphs.txt"))
    return out


def make_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    en, fa = corpus_paragraphs()
    made = []
    for i, lh in enumerate(LINE_HEIGHTS):
        name = f"chromium-line-height-{str(lh).replace('.', '_')}.pdf"
        made.append(chromium_fixture(folder / name, en[3 * i:3 * i + 3], fa[2 * i:2 * i + 2],
                                     f"p{{line-height:{lh};text-align:justify}}"))
    made.append(chromium_fixture(folder / "chromium-two-columns.pdf", en[9:13], fa[6:8],
                                 "body{column-count:2;column-gap:2em} p{text-align:justify}"))
    made.append(docx_fixture(folder / "libreoffice-docx.pdf", en[13:17], fa[8:10]))
    made.append(groff_fixture(folder / "groff-ms.pdf", en[17:22]))
    for pdf in list(made):
        if pdf.name in {"chromium-line-height-1_6.pdf", "libreoffice-docx.pdf", "groff-ms.pdf",
                        "chromium-two-columns.pdf"}:
            made.append(scan_fixture(pdf, folder / f"scan-of-{pdf.stem}.pdf"))
    return made


def main(argv: list[str]) -> None:
    folder = Path(argv[0]) if argv else ROOT / "evals" / "pdfs"
    for path in make_all(folder):
        print(f"{path}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(sys.argv[1:])

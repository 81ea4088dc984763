"""``verbatim eval --pdf DIR``: how faithfully each PDF of DIR comes out of Verbatim's loader, beside raw pdfium
(pypdfium2's text of each page) and pdftotext (poppler), against the text the PDF was made from (``pdf_truth``).

Paragraphs: Verbatim's are the document's blank-line-separated paragraphs. pdfium and pdftotext have no
paragraphs of their own here: a page is one paragraph, which flatters their sentence recall (a sentence cut by a
line end still counts), but never one crossing a page break.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from verbatim_qa.ingest.loaders import LoadError, load_document
from verbatim_qa.ingest.loaders.errors import one_line
from verbatim_qa.settings import Settings

from .pdf_metrics import mean_of, score
from .pdf_truth import read_truth, truth_file

EXTRACTORS = ("verbatim", "pdfium", "pdftotext")
# Producer -> family, first match wins (the Producer and Creator fields of the PDF's metadata, lowercased)
_FAMILIES = (("scan", "scan"), ("img2pdf", "scan"), ("libreoffice", "LibreOffice"), ("skia", "Chromium"),
             ("chrom", "Chromium"), ("xetex", "XeTeX"), ("xdvipdfmx", "LaTeX (xdvipdfmx)"), ("pdftex", "pdfTeX"),
             ("groff", "groff + Ghostscript"), ("ghostscript", "Ghostscript"), ("microsoft", "Microsoft Word"))


def producer_family(meta: dict[str, str]) -> str:
    """A PDF's producer family from its metadata; a scan says what was scanned ("scan of LibreOffice")."""
    creator, producer = meta.get("Creator", "") or "", meta.get("Producer", "") or ""
    both = f"{creator} {producer}".lower()
    if creator.lower().startswith("scan of "):
        return f"scan of {producer_family({'Producer': creator[8:]})}"
    for key, family in _FAMILIES:
        if key in both:
            return family
    return producer or creator or "unknown"


def pdf_metadata(path: Path) -> tuple[dict[str, str], int]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        return doc.get_metadata_dict(), len(doc)
    finally:
        doc.close()


def extract_verbatim(path: Path, settings: Settings) -> list[str]:
    doc = load_document(path, settings.max_file_bytes, settings)
    return doc.text.split("\n\n")


def extract_pdfium(path: Path, settings: Settings | None = None) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        out = []
        for page in doc:
            textpage = page.get_textpage()
            out.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return out
    finally:
        doc.close()


def extract_pdftotext(path: Path, settings: Settings | None = None) -> list[str]:
    exe = shutil.which("pdftotext")
    if exe is None:
        raise RuntimeError("pdftotext is not installed (Debian package poppler-utils)")
    run = subprocess.run([exe, "-enc", "UTF-8", str(path), "-"], capture_output=True, timeout=600)
    if run.returncode != 0:
        raise RuntimeError(f"pdftotext failed on {path.name}: {run.stderr.decode('utf-8', 'replace').strip()}")
    return run.stdout.decode("utf-8", "replace").split("\f")


EXTRACT: dict[str, Callable[[Path, Settings], list[str]]] = {
    "verbatim": extract_verbatim, "pdfium": extract_pdfium, "pdftotext": extract_pdftotext}


def find_pdfs(folder: Path) -> list[tuple[Path, Path | None]]:
    """Every PDF under ``folder`` with its ground-truth file (None when it has none)."""
    return [(p, truth_file(p)) for p in sorted(folder.rglob("*")) if p.suffix.lower() == ".pdf" and p.is_file()]


def run_pdf_eval(folder: Path, settings: Settings, extractors: tuple[str, ...] = EXTRACTORS,
                 log: Callable[[str], None] = lambda m: None) -> dict:
    """Per document: producer, pages, and per extractor its scores and seconds (or the error it raised)."""
    docs = []
    for pdf, truth_path in find_pdfs(folder):
        if truth_path is None:
            log(f"{pdf.name}: no ground truth beside it ({pdf.stem}.paragraphs.txt, .tex.gz or .src.tar.gz): skipped")
            continue
        truth = read_truth(truth_path)
        meta, pages = pdf_metadata(pdf)
        entry = {"file": str(pdf.relative_to(folder)), "truth": truth_path.name, "producer": producer_family(meta),
                 "pages": pages, "sentences": len(truth.sentences), "rows": len(truth.rows), "by": {}}
        for name in extractors:
            t = time.perf_counter()
            try:
                paras = EXTRACT[name](pdf, settings)
            except LoadError as exc:  # a refusal is a result (a broken text layer refused), not a crash
                entry["by"][name] = {"error": f"refused: {exc.reason}"}
                log(f"{pdf.name}: {name}: {exc.reason}")
                continue
            except Exception as exc:  # an extractor's bug on one document is that document's result, in the table
                entry["by"][name] = {"error": f"crashed: {type(exc).__name__}: {one_line(exc)}"}
                log(f"{pdf.name}: {name}: crashed: {type(exc).__name__}: {one_line(exc)}")
                continue
            seconds = time.perf_counter() - t
            s = score(truth.sentences, truth.vocab, truth.rows, paras)
            entry["by"][name] = {**asdict(s), "sentence_recall": s.sentence_recall, "token_validity": s.token_validity,
                                 "row_recall": s.row_recall, "seconds": seconds}
            log(f"{pdf.name}: {name} recall {_f(s.sentence_recall)} validity {_f(s.token_validity)} "
                f"({seconds:.1f} s)")
        docs.append(entry)
    return {"folder": str(folder), "extractors": list(extractors), "documents": docs,
            "producers": by_producer(docs, extractors)}


def by_producer(docs: list[dict], extractors) -> dict:
    """Per producer family and extractor: the mean over its documents of each measure, and the worst document's."""
    out: dict = {}
    for family in sorted({d["producer"] for d in docs}):
        group = [d for d in docs if d["producer"] == family]
        out[family] = {"documents": len(group)}
        for name in extractors:
            got = [d["by"].get(name, {}) for d in group]
            out[family][name] = {
                measure: mean_of(g.get(measure) for g in got)
                for measure in ("sentence_recall", "token_validity", "row_recall")} | {
                "worst_sentence_recall": min((g["sentence_recall"] for g in got
                                              if g.get("sentence_recall") is not None), default=None)}
    return out


def _f(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"


def pdf_report(result: dict) -> str:
    names = result["extractors"]
    lines = [f"# PDF text fidelity: {result['folder']}", "",
             "Sentence recall (sentences of 6+ words whole inside one paragraph) / token validity (extracted words "
             "in the source's vocabulary); rows: table rows with all cells in order in one paragraph. pdfium and "
             "pdftotext count a whole page as one paragraph.", "", "## Per producer (mean over its documents)", "",
             "| producer | docs | " + " | ".join(f"{n} recall | {n} validity" for n in names) + " |",
             "|---|---|" + "---|---|" * len(names)]
    for family, row in result["producers"].items():
        cells = " | ".join(f"{_f(row[n]['sentence_recall'])} | {_f(row[n]['token_validity'])}" for n in names)
        lines.append(f"| {family} | {row['documents']} | {cells} |")
    lines += ["", "## Per document", "",
              "| document | producer | pages | sentences | " + " | ".join(f"{n} recall / validity / rows / s"
                                                                        for n in names) + " |",
              "|---|---|---|---|" + "---|" * len(names)]
    for d in result["documents"]:
        cells = []
        for n in names:
            r = d["by"].get(n, {})
            if "error" in r:
                cells.append(r["error"])
            elif r:
                cells.append(f"{_f(r['sentence_recall'])} / {_f(r['token_validity'])} / {_f(r['row_recall'])} / "
                             f"{r['seconds']:.1f}")
            else:
                cells.append("—")
        lines.append(f"| {d['file']} | {d['producer']} | {d['pages']} | {d['sentences']} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


"""Hostile and broken files through the real ``verbatim ingest`` (a subprocess: a crash or a C-stack overflow
on one file must show up as exactly that, not take pytest down with it).

One folder is ingested clean first; then bad files, more good files and a broken replacement of a stored file
are added to it and it is ingested again. Every case in ``CASES`` states its decided outcome: a one-line
``failed: path: reason`` naming the file, or accepted (with what must, or must not, be stored). The run exits
1, the good files are added, and nothing stored before changes (same records, chunks and sentences).
"""

from __future__ import annotations

import codecs
import io
import json
import os
import random
import re
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docx
import pypdfium2 as pdfium
import pytest
from helpers import write
from reportlab.pdfgen import canvas

from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.store import Store

pytestmark = pytest.mark.integration

MINILM = "st:all-MiniLM-L6-v2"  # as in conftest.py: fast, and embedding is not what is under test
VERBATIM = Path(sys.executable).with_name("verbatim")
MAX_MB = 5  # the 10 MB line is refused by this limit (embedding 10 MB would take hours on 2 cores)
SECRETS = ("SCRIPTSECRET", "STYLESECRET", "NOSCRIPTSECRET", "TEMPLATESECRET", "HIDDENSECRET", "COMMENTSECRET")
FA = "همکاری چین با آسیای مرکزی در حوزه هوش مصنوعی گسترش یافته است."
FR = "Le café était naïve et la crème brûlée délicieuse. "
DEEP_TEXT = "The deep archive at Khiva holds the ledger of the caravan tolls."

FIRST = {  # ingested cleanly before the hostile batch
    "water.md": "# Water\n\nThe Amu Darya and the Syr Darya feed the Aral Sea basin. Irrigation drained the sea.\n",
    "silk.txt": "The Silk Road\n\nCaravans carried silk and paper from China to Samarkand over the Pamir.\n",
    "گزارش انرژی.md": f"# همکاری انرژی\n\n{FA} خط لوله گاز از ترکمنستان به چین می‌رسد.\n",
    "notes.txt": "Field notes\n\nThe Murghab customs post at Kulma Pass opened to trucks in 2004.\n",
}


# ---------------------------------------------------------------- file makers
def pdf_bytes(text: str | None) -> bytes:
    out = io.BytesIO()
    c = canvas.Canvas(out)
    if text is None:
        c.rect(72, 72, 300, 300, fill=1)  # a drawing only: no text layer, like a scan
    else:
        c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return out.getvalue()


def blank_pages_pdf(pages: int = 10_000) -> bytes:
    """``pages`` empty Letter pages (~1.2 MB): over the page cap (5,000 by default), refused before any is read."""
    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(612, 792)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def docx_bytes(*paragraphs: str) -> bytes:
    d = docx.Document()
    d.add_heading("Pamir report", level=1)
    for p in paragraphs:
        d.add_paragraph(p)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(60):  # 60 MB of zeros, streamed: tens of KB compressed
                member.write(bytes(1 << 20))
    return out.getvalue()


def declared_huge() -> bytes:
    """A real .docx whose central directory claims word/document.xml inflates to ~4 GB."""
    data = bytearray(docx_bytes("Small body."))
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_len] == b"word/document.xml":
            struct.pack_into("<I", data, at + 24, 0xFFFF0000)  # uncompressed size
        at += 4
    return bytes(data)


def deep_html(depth: int = 100_000) -> str:
    return "<html><body>" + "<div>" * depth + f"<p>{DEEP_TEXT}</p>" + "</div>" * depth + "</body></html>"


SCRIPTS_HTML = """<!DOCTYPE html><html><head><title>Border memo</title>
<script>var leaked = "SCRIPTSECRET"; document.write("<p>SCRIPTSECRET</p>")</script>
<style>.x::after { content: "STYLESECRET" }</style></head>
<body onload="alert('SCRIPTSECRET')"><h1>Border memo</h1>
<p>The Kulma Pass crossing closes every winter when snow blocks the road to Karakul.</p>
<noscript>NOSCRIPTSECRET</noscript><template><p>TEMPLATESECRET</p></template><div hidden>HIDDENSECRET</div>
<!-- COMMENTSECRET --><p>Trucks wait at Murghab <b>until</b> the <a href="javascript:alert(1)">road</a> reopens.</p>
<script type="module">import("SCRIPTSECRET")</script></body></html>"""


def damaged_utf8() -> bytes:
    data = (FA * 6).encode()
    return data[:40] + data[41:]  # one byte of a Persian letter cut out


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[], bytes | str]
    reason: str | None  # None: accepted. Otherwise a regex the one-line reason must match from its start.
    stored: str | None = None  # accepted: the exact text stored, when known


def _rng_bytes(lo: int, hi: int) -> bytes:
    rng = random.Random(7)
    return bytes(rng.randrange(lo, hi) for _ in range(4096))


CASES = [
    Case("empty.txt", lambda: b"", r"empty file$"),
    Case("blank.md", lambda: " \r\n\t\n", r"empty file$"),
    Case("noise.txt", lambda: _rng_bytes(0, 256), r"binary file \(NUL bytes\)$"),
    Case("nul.md", lambda: b"Hello\x00world, a NUL in the middle.\n", r"binary file \(NUL bytes\)$"),
    Case("utf16-nul.txt", lambda: codecs.BOM_UTF16_LE + "a\x00b".encode("utf-16-le"),
         r"binary file \(NUL characters\)$"),
    Case("high-bytes.txt", lambda: _rng_bytes(0x80, 0x100), r"cannot decode as UTF-8, UTF-16, cp1256 or cp1252$"),
    Case("damaged-utf8.txt", damaged_utf8, r"invalid UTF-8 at byte \d+ \(damaged file or mixed encodings\)$"),
    # UTF-8 and cp1252 in one file: decoding it either way would index mojibake ("cafÃ©"), so it is refused
    Case("mixed.txt", lambda: FR.encode() * 10 + FR.encode("cp1252") * 10, r"mixed encodings \("),
    Case("long-line.txt", lambda: ("Caravan 12 crossed the pass at dawn. " * 290_000).encode(),
         rf"file is 10(\.\d)? MB, over the {MAX_MB} MB limit$"),
    Case("deep.html", deep_html, None, DEEP_TEXT),  # 100k nested divs: no RecursionError, the text is kept
    Case("scripts.html", lambda: SCRIPTS_HTML, None,
         "# Border memo\n\nThe Kulma Pass crossing closes every winter when snow blocks the road to Karakul.\n\n"
         "Trucks wait at Murghab until the road reopens."),
    Case("scan.pdf", lambda: pdf_bytes(None),
         r"PDF has no text layer and OCR found no text \(blank or unreadable scan\)$"),
    Case("blank-10000.pdf", blank_pages_pdf,
         r"PDF has 10000 pages, over the limit of 5000 \(setting documents\.pdf_max_pages\)$"),
    Case("truncated.pdf", lambda: pdf_bytes("Half a PDF about the Wakhan corridor.")[:700], r"corrupt PDF: "),
    Case("bomb.docx", zip_bomb, r"suspected zip bomb: .* compressed expands to 60 MB \(ratio \d+:1"),
    Case("declared-huge.docx", declared_huge, r"suspected zip bomb: .* expands to 4\d{3}(\.\d)? MB"),
    Case("pdf-named.txt", lambda: pdf_bytes("A PDF wearing a .txt name."),
         r"wrong extension: the content is a PDF document, not \.txt$"),
    Case("docx-named.md", lambda: docx_bytes("A docx wearing a .md name."),
         r"wrong extension: the content is a zip archive \(e\.g\. \.docx\), not \.md$"),
    Case("text-named.pdf", lambda: "Plain text wearing a .pdf name.\n", r"not a PDF \(no %PDF- header\)$"),
    Case("text-named.docx", lambda: "Plain text wearing a .docx name.\n", r"not a valid \.docx \(not a zip archive\)$"),
    Case("tool.exe", lambda: b"MZ\x90\x00\x03", r"unsupported file type \.exe$"),
    # a stored file replaced by a broken version: reported, and the stored version stays
    Case("notes.txt", lambda: b"Field notes\x00\x00\x00 overwritten by a crash", r"binary file \(NUL bytes\)$"),
    # good files in the same batch
    Case("paper.pdf", lambda: pdf_bytes("The Wakhan corridor is narrow."), None),
    Case("report.docx", lambda: docx_bytes("The Pamir highway was finished in 1940."), None,
         "# Pamir report\n\nThe Pamir highway was finished in 1940."),
    Case("legacy-fa.txt", lambda: FA.replace("ی", "ي").encode("cp1256"), None, FA.replace("ی", "ي")),
    Case("legacy-fr.txt", lambda: FR.encode("cp1252"), None, FR),
]
BAD = {c.name: c for c in CASES if c.reason is not None}
GOOD = {c.name: c for c in CASES if c.reason is None}


def verbatim(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    env.update(VERBATIM_HOME=str(home), VERBATIM_EMBEDDER=MINILM, VERBATIM_MAX_FILE_MB=str(MAX_MB),
               HF_HUB_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1")  # MiniLM's loading bar is not ours
    return subprocess.run([str(VERBATIM), *args], env=env, capture_output=True, text=True, encoding="utf-8",
                          timeout=600)


def snapshot(home: Path) -> dict:
    """Every document's record and its chunk/sentence ids: what a bad batch must leave alone."""
    store = Store(Settings(home=home, embedder=MINILM))
    out = {}
    for r in store.documents():
        chunk_ids = sorted(store.chunks.get(where={"doc_id": r.doc_id})["ids"])
        sentence_ids = sorted(store.sentences.get(where={"doc_id": r.doc_id})["ids"])
        out[r.source] = (r, chunk_ids, sentence_ids)
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    """Clean ingest, then the hostile batch into the same folder; returns both runs' results and snapshots."""
    root = tmp_path_factory.mktemp("hostile")
    home, folder = root / "home", root / "docs"
    for name, text in FIRST.items():
        write(folder, name, text)
    first = verbatim(home, "ingest", str(folder), "--json")
    before = snapshot(home)
    for case in CASES:
        write(folder, case.name, case.make())
    second = verbatim(home, "ingest", str(folder))
    return {"home": home, "folder": folder, "first": first, "second": second, "before": before,
            "after": snapshot(home)}


def failures(stderr: str) -> dict[str, str]:
    """``failed: <path>: <reason>`` lines by file name; anything else on stderr fails the test."""
    out = {}
    for line in stderr.splitlines():
        if not line.strip():
            continue
        m = re.fullmatch(r"failed: (.+?): (.+)", line)
        assert m, f"stray stderr line: {line!r}"
        name = Path(m.group(1)).name
        assert name not in out, f"{name} reported twice"
        out[name] = m.group(2)
    return out


def test_first_ingest_is_clean(run):
    first = run["first"]
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"added": len(FIRST), "updated": 0, "skipped": 0, "deleted": 0, "failed": []}


def test_hostile_batch_exits_1_with_a_summary(run):
    second = run["second"]
    assert second.returncode == 1, second.stdout + second.stderr
    assert "Traceback" not in second.stderr and "RecursionError" not in second.stderr
    assert second.stdout.strip() == (f"added {len(GOOD)}, updated 0, skipped {len(FIRST) - 1}, deleted 0, "
                                     f"failed {len(BAD)}")


@pytest.mark.parametrize("case", list(BAD.values()), ids=lambda c: c.name)
def test_bad_file_is_reported_on_one_line_with_its_reason(run, case):
    reported = failures(run["second"].stderr)
    assert set(reported) == set(BAD)  # every bad file, and nothing else
    assert re.match(case.reason, reported[case.name]), reported[case.name]


@pytest.mark.parametrize("case", list(GOOD.values()), ids=lambda c: c.name)
def test_good_file_in_the_batch_is_ingested_with_exact_offsets(run, case):
    store = Store(Settings(home=run["home"], embedder=MINILM))
    record = next(r for r in store.documents() if r.source == case.name)
    text = store.document_text(record.doc_id)
    if case.stored is not None:
        assert text == case.stored
    chunks = [c for c in store.all_chunks() if c.doc_id == record.doc_id]
    assert len(chunks) == record.chunks >= 1
    for c in chunks:
        assert text[c.char_start : c.char_end] == c.text
        assert all(text[s.char_start : s.char_end] == s.text for s in c.sentences)


def test_script_style_and_hidden_text_are_never_indexed(run):
    store = Store(Settings(home=run["home"], embedder=MINILM))
    record = next(r for r in store.documents() if r.source == "scripts.html")
    assert record.title == "Border memo"
    stored = [store.document_text(record.doc_id)]
    stored += store.chunks.get(where={"doc_id": record.doc_id}, include=["documents"])["documents"]
    stored += store.sentences.get(where={"doc_id": record.doc_id}, include=["documents"])["documents"]
    for secret in SECRETS:
        assert not any(secret in s for s in stored), secret
    assert not any("<" in s or "javascript:" in s for s in stored)


def test_nothing_stored_before_is_lost_or_changed(run):
    before, after = run["before"], run["after"]
    assert set(before) == set(FIRST)
    for name, (record, chunk_ids, sentence_ids) in before.items():
        assert after[name] == (record, chunk_ids, sentence_ids), name  # same sha, counts, ingested_at, ids
    notes = Store(Settings(home=run["home"], embedder=MINILM))
    kept = next(r for r in notes.documents() if r.source == "notes.txt")
    assert notes.document_text(kept.doc_id) == FIRST["notes.txt"]  # the broken replacement did not win


def test_store_counts_agree_with_the_records(run):
    """No orphan or duplicate chunk or sentence: the collections hold exactly what the records count."""
    store = Store(Settings(home=run["home"], embedder=MINILM))
    records = store.documents()
    assert {r.source for r in records} == set(FIRST) | set(GOOD)
    assert store.chunks.count() == sum(r.chunks for r in records)
    assert store.sentences.count() == sum(r.sentences for r in records)


def test_a_second_run_changes_nothing_and_reports_the_same(run):
    again = verbatim(run["home"], "ingest", str(run["folder"]), "--json")
    assert again.returncode == 1, again.stderr
    report = json.loads(again.stdout)
    assert (report["added"], report["updated"], report["skipped"]) == (0, 0, len(FIRST) - 1 + len(GOOD))
    assert {Path(f["path"]).name for f in report["failed"]} == set(BAD)
    assert all("\n" not in f["reason"] for f in report["failed"])
    assert snapshot(run["home"]) == run["after"]

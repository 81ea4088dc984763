#!/usr/bin/env python3
"""Rebuild evals/realdocs/ from Debian's documentation packages: the PDFs and their pdftotext text versions.

Usage: python3 evals/realdocs/fetch.py [DEST]          (default: the folder of this script)
       python3 evals/realdocs/fetch.py --text-only [DEST]   (only the .txt versions, from the PDFs in DEST)

Needs apt-get and dpkg (Debian 12 sources) for the PDFs and pdftotext (poppler-utils) for the text. Stdlib only.
Each PDF is checked against its SHA-256, so a rebuilt folder is the one the sets in evals/datasets/real_*.jsonl
were written over.

The text version is pdftotext's output with three mechanical repairs, so a Persian line reads in logical order:
pdftotext writes each left-to-right run of a right-to-left line inside U+202A..U+202C with the spaces and
punctuation at its ends in visual order ("است‪ .‬خروجی" for "است. خروجی"): those ends are moved back and reversed,
brackets drawn mirrored in right-to-left text are mirrored back, the bidi controls are dropped, and Arabic
presentation forms are folded (NFKC). English text only gets the NFKC fold (ligatures).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

# (package=version, path inside the package, folder, name, sha256)
DOCS = [
    ("texlive-lang-english=2022.20230122-1", "usr/share/doc/texlive-doc/latex/lshort-english/lshort.pdf",
     "manuals", "lshort-english.pdf", "ecef13f225de55549ee5214f70cca30998f3251dee65c6b00931aae18b7736c2"),
    ("python-reportlab-doc=3.6.12-1+deb12u1", "usr/share/doc/python-reportlab-doc/reportlab-userguide.pdf",
     "manuals", "reportlab-userguide.pdf", "91ad5429d7b2907b8efefd7b95facfe2fb01ec31b8cefb024e47b0a7ac713420"),
    ("texlive-lang-arabic=2022.20230122-1",
     "usr/share/doc/texlive-doc/bibtex/alpha-persian/alpha-persian-p.userguide.pdf",
     "persian", "alpha-persian-guide-fa.pdf", "6f8e52c3aa0776b821d3f45c9e2c747d059c22f32b42382fee45a93924c906d4"),
]
MIRROR = str.maketrans("()[]{}<>«»", ")(][}{><»«")
LTR_RUN = re.compile("\u202a([^\u202a-\u202e]*)\u202c")
RUN_OR_TEXT = re.compile("(\u202a[^\u202a-\u202e]*\u202c)")
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _neutral(ch: str) -> bool:
    return ch.isspace() or unicodedata.bidirectional(ch) in ("ON", "CS", "ES", "ET", "WS", "BN")


def _ltr_run(m: re.Match) -> str:
    run = m.group(1)
    i, j = 0, len(run)
    while i < j and _neutral(run[i]):
        i += 1
    while j > i and _neutral(run[j - 1]):
        j -= 1
    return run[j:][::-1].translate(MIRROR) + run[i:j] + run[:i][::-1].translate(MIRROR)


def clean(raw: str) -> str:
    """pdftotext's text in logical order (see the module docstring)."""
    lines = []
    for line in raw.split("\n"):
        if line.startswith("\u202b"):  # a right-to-left line
            line = "".join(p if p.startswith("\u202a") else p.translate(MIRROR) for p in RUN_OR_TEXT.split(line))
            line = LTR_RUN.sub(_ltr_run, line)
        lines.append(BIDI_CONTROLS.sub("", line))
    return unicodedata.normalize("NFKC", "\n".join(lines))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_pdfs(dest: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="realdocs-") as tmp:
        for pkg, inner, folder, name, digest in DOCS:
            subprocess.run(["apt-get", "download", pkg], cwd=tmp, check=True)
            deb = next(Path(tmp).glob(pkg.split("=")[0] + "_*.deb"))
            unpacked = Path(tmp) / "x"
            subprocess.run(["dpkg", "-x", str(deb), str(unpacked)], check=True)
            target = dest / folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(unpacked / inner, target)
            shutil.rmtree(unpacked)
            deb.unlink()
            if sha256(target) != digest:
                sys.exit(f"{target}: sha256 {sha256(target)} is not the expected {digest}")
            print(f"{target}: ok")


def write_texts(dest: Path) -> None:
    for _pkg, _inner, folder, name, _digest in DOCS:
        pdf = dest / folder / name
        raw = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                             check=True).stdout
        target = dest / f"{folder}-text" / (pdf.stem + ".txt")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(clean(raw), encoding="utf-8")
        print(f"{target}: {target.stat().st_size} bytes")


def main(argv: list[str]) -> None:
    text_only = "--text-only" in argv
    args = [a for a in argv if a != "--text-only"]
    dest = Path(args[0]) if args else Path(__file__).resolve().parent
    if not text_only:
        fetch_pdfs(dest)
    write_texts(dest)


if __name__ == "__main__":
    main(sys.argv[1:])

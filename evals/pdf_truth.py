"""The text a PDF was made from, beside it: ``NAME.paragraphs.txt`` (one paragraph per line; table rows as cells
joined by " | "), ``NAME.tex.gz`` / ``NAME.tex`` (a LaTeX source) or ``NAME.src.tar.gz`` (a tree of LaTeX
sources). Read into the sentences, table rows and vocabulary that ``pdf_metrics`` compares with."""

from __future__ import annotations

import gzip
import tarfile
from dataclasses import dataclass
from pathlib import Path

from .latex_text import UNKNOWN, latex_text
from .pdf_metrics import sentences, vocabulary

SUFFIXES = (".paragraphs.txt", ".tex.gz", ".tex", ".src.tar.gz")


@dataclass(frozen=True)
class Truth:
    source: Path
    sentences: list[str]
    rows: list[list[str]]
    vocab: frozenset[str]


def truth_file(pdf: Path) -> Path | None:
    """The ground-truth file beside ``pdf`` (the first of ``SUFFIXES`` that exists), or None."""
    stem = pdf.name[: -len(pdf.suffix)]
    return next((p for s in SUFFIXES if (p := pdf.with_name(stem + s)).is_file()), None)


def read_truth(path: Path) -> Truth:
    name = path.name
    if name.endswith(".paragraphs.txt"):
        return from_paragraphs(path, path.read_text("utf-8"))
    if name.endswith(".tex.gz"):
        return from_latex(path, [gzip.decompress(path.read_bytes()).decode("utf-8", "replace")])
    if name.endswith(".tex"):
        return from_latex(path, [path.read_text("utf-8", "replace")])
    if name.endswith(".src.tar.gz"):
        with tarfile.open(path) as tar:
            texts = [tar.extractfile(m).read().decode("utf-8", "replace") for m in tar.getmembers()
                     if m.isfile() and m.name.endswith(".tex")]
        return from_latex(path, texts)
    raise ValueError(f"{path}: not a ground-truth file (expected one of {', '.join(SUFFIXES)})")


def from_paragraphs(path: Path, text: str) -> Truth:
    lines = [line.strip() for line in text.splitlines()]  # as typed: markup in a line is what the page prints
    rows = [[c.strip() for c in line.split(" | ")] for line in lines if " | " in line]
    paras = [line for line in lines if line and " | " not in line]
    return Truth(path, sentences(paras), rows, vocabulary(lines))


def from_latex(path: Path, sources: list[str]) -> Truth:
    """Sentences of the printed text with nothing unknown in them; the vocabulary of the printed text and of the
    raw sources (macros print words this converter cannot know: the words are in the source all the same)."""
    printed = [latex_text(s) for s in sources]
    paras = [p for text in printed for p in text.split("\n\n")]
    sents = [s for s in sentences(paras) if UNKNOWN not in s]
    return Truth(path, sents, [], vocabulary(printed + sources))

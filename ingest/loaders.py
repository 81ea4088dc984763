"""Files -> ``Document``: the exact text we will quote, plus metadata.

Every refusal is a ``LoadError`` with a one-line reason, so a batch ingest can report each failed file
instead of crashing or, worse, indexing mojibake.
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import re
import unicodedata
import zipfile
from pathlib import Path

import docx
from bs4 import BeautifulSoup, NavigableString
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction
from docx.table import Table
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from verbatim.text.lang import detect_langs, is_arabic_script
from verbatim.types import Document, content_hash

SUPPORTED = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
_HTML = {".html", ".htm"}
_SHORT_LINE_TITLE = {".txt", ".md", ".markdown"}
_JUNK = {".DS_Store", "Thumbs.db", "desktop.ini"}
_MB = 1024 * 1024
_ZIP_MAX_TOTAL = 200 * _MB
_ZIP_MAX_RATIO = 200
# pypdf logs every repair it attempts on a damaged file; the outcome is our LoadError reason, not their log lines.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)


class LoadError(Exception):
    """A file we refuse to ingest; ``reason`` is one human line."""

    def __init__(self, path: Path, reason: str):
        super().__init__(path, reason)  # both in args, so the error survives pickling (multiprocessing)
        self.path = Path(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path.name}: {self.reason}"


def _size(n: int) -> str:
    if n >= _MB:
        return f"{n / _MB:.1f}".removesuffix(".0") + " MB"
    return f"{n / 1024:.1f}".removesuffix(".0") + " KB" if n >= 1024 else f"{n} bytes"


def _short(exc: BaseException) -> str:
    """A library exception as one short line (some pypdf/lxml messages span lines)."""
    msg = " ".join(str(exc).split()) or type(exc).__name__
    return msg if len(msg) <= 120 else msg[:117] + "..."


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------- text decoding
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_BAD_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_UTF8_SEQ = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_EXTRA_LETTERS = {"\u200c", "\u200d", "\u200e", "\u200f"}  # ZWNJ etc.: parts of Persian words
_WORD = re.compile(r"[^\s!-@\[-`{-~]+")  # split on whitespace, ASCII digits, punctuation and markup
_PUNCT = "«»،؛؟…–—“”‘’„‚‹›•"
# UTF-8 bytes as a legacy code page would read them: Latin-1 letters and curly quotes ("Ã©", "â€œ") for
# cp1252; three Arabic-block letters in a row ("ط§ظ„") for cp1256, which real cp1256 Persian never contains.
_UTF8_INSIDE = {
    "cp1256": re.compile(rb"(?:[\xd8-\xdb][\x80-\xbf]){3}"),
    "cp1252": re.compile(rb"[\xc2\xc3][\x80-\xbf]|\xe2\x80[\x80-\xbf]"),
}


def decode_text(data: bytes) -> str:
    """Decode a text file, or raise ValueError with a one-line reason; never guesses into mojibake."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            label = encoding[:6].upper()
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise ValueError(f"invalid {label} after a {label} byte-order mark") from exc
            if "\x00" in text:
                raise ValueError("binary file (NUL characters)")
            return text
    if b"\x00" in data:
        raise ValueError("binary file (NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    high = sum(b >= 0x80 for b in data)
    if sum(len(m) for m in _UTF8_SEQ.findall(data)) >= 0.9 * high:
        # Almost all high bytes form valid UTF-8: a damaged UTF-8 file, and cp125x would give mojibake.
        raise ValueError(f"invalid UTF-8 at byte {bad_at} (damaged file or mixed encodings)")
    mixed = False
    for encoding in ("cp1256", "cp1252"):
        if _UTF8_INSIDE[encoding].search(data):
            mixed = True  # decoding it all as this code page would turn the UTF-8 part into mojibake
            continue
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _sound(text, arabic=encoding == "cp1256"):
            return text
    if mixed and sum(len(m) for m in _UTF8_SEQ.findall(data)) >= 0.5 * high:  # random bytes: about 0.3
        raise ValueError("mixed encodings (UTF-8 text next to text in another encoding)")
    raise ValueError("cannot decode as UTF-8, UTF-16, cp1256 or cp1252")


def _sound(text: str, arabic: bool) -> bool:
    """Does a legacy-codepage decoding read as text? Only non-ASCII chars are ambiguous: judge those."""
    if _BAD_CONTROLS.search(text):
        return False
    high = [c for c in text if ord(c) > 0x7F]
    cats = [unicodedata.category(c)[0] for c in high]
    letters = [c for c, cat in zip(high, cats, strict=True) if cat == "L"]
    words = [w for w in (w.strip(_PUNCT) for w in _WORD.findall(text)) if w and not w.isascii()]
    if arabic:
        # Persian in cp1256: letters, marks and ZWNJ; Arabic script dominates and never sits in Latin words.
        wordish = sum(cat in "LM" or c in _EXTRA_LETTERS for c, cat in zip(high, cats, strict=True))
        arabic_letters = sum(is_arabic_script(c) for c in letters)
        broken = sum(_broken_arabic_word(w) for w in words)
        return wordish >= 0.8 * len(high) and 2 * arabic_letters > len(letters) and broken <= 0.1 * len(words)
    # cp1252 (English, French, German...): accents sit inside mostly-ASCII words; never mostly symbols.
    in_words = [c for w in words for c in w if c.isalpha()]
    ascii_in_words = sum(c.isascii() for c in in_words)
    return 5 * ascii_in_words >= 2 * len(in_words) and 2 * cats.count("S") <= len(high)


def _broken_arabic_word(word: str) -> bool:
    """Mojibake (e.g. Russian cp1251 read as cp1256) mixes scripts, starts words with harakat, has symbols."""
    return unicodedata.category(word[0]) == "Mn" or any(
        (c.isalpha() and not is_arabic_script(c)) or unicodedata.category(c)[0] == "S" for c in word
    )


# ---------------------------------------------------------------- wrong extensions
_MAGIC = (
    (b"%PDF-", "a PDF document"), (b"PK\x03\x04", "a zip archive (e.g. .docx)"), (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"), (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.doc/.xls)"), (b"\x7fELF", "a program"),
)
_EXPECTED = {".pdf": "a PDF document", ".docx": "a zip archive (e.g. .docx)"}


def _check_kind(path: Path, data: bytes, suffix: str) -> None:
    """Refuse a file whose content is plainly another format: a clear reason instead of a decoding error."""
    kind = next((what for magic, what in _MAGIC if data.startswith(magic)), None)
    expected = _EXPECTED.get(suffix)
    if kind is not None and kind != expected:
        raise LoadError(path, f"wrong extension: the content is {kind}, not {suffix}")
    if suffix == ".pdf" and b"%PDF-" not in data[:1024]:
        raise LoadError(path, "not a PDF (no %PDF- header)")


# ---------------------------------------------------------------- HTML
_DROP = {"script", "style", "noscript", "template", "title", "iframe", "object"}  # <title> -> Document.title
_BLOCKS = set(
    "address article aside blockquote body caption dd details dialog div dl dt fieldset figcaption figure "
    "footer form header hr html legend main nav ol p pre section summary table tbody tfoot thead ul".split()
)
_LINES = {"li", "tr", "option", "br"}
_CELLS = {"td", "th"}
_HEADINGS = {f"h{i}" for i in range(1, 7)}
_WS = re.compile(r"\s+")
_SPACES = re.compile(r"[^\S\n]+")
_EMPTY_HEADING = re.compile(r"#+")


def _html_text(markup: str) -> tuple[str, str]:
    """Visible text with paragraph breaks and '#' headings. Iterative walk: deep nesting can't recurse."""
    soup = BeautifulSoup(markup, "html.parser")
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text().split()) if title_tag else ""
    parts: list[str] = []
    stack: list = [(soup, False, False)]  # (node or closing string, inside <pre>, inside a heading)
    while stack:
        node, pre, heading = stack.pop()
        if type(node) is str:  # a closing break we pushed ourselves
            parts.append(node)
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, Comment | Declaration | Doctype | ProcessingInstruction):
                parts.append(str(node) if pre and not heading else _WS.sub(" ", node))
            continue
        name = node.name
        if name in _DROP or node.has_attr("hidden"):
            continue
        if name in _HEADINGS and not heading:
            opening, closing, heading = f"\n\n{'#' * int(name[1])} ", "\n\n", True
        elif heading:  # a heading stays on one line whatever it contains
            opening = closing = " " if name in _BLOCKS or name in _LINES or name in _CELLS else ""
        elif name in _BLOCKS:
            opening = closing = "\n\n"
        elif name in _LINES:
            opening, closing = "\n", ""  # one line per list item / table row, no blank line between
        else:
            opening = closing = " " if name in _CELLS else ""  # inline elements add nothing
        parts.append(opening)
        if name == "br":
            continue
        stack.append((closing, pre, heading))
        stack.extend((child, pre or name == "pre", heading) for child in reversed(node.contents))
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    text = "\n".join("" if _EMPTY_HEADING.fullmatch(line) else line for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n"), title


# ---------------------------------------------------------------- PDF
def _pdf_text(path: Path, data: bytes) -> tuple[str, tuple[tuple[int, int, int], ...]]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):  # many "protected" PDFs open with the empty user password
                    raise LoadError(path, "encrypted PDF (password required)")
            except (PyPdfError, NotImplementedError) as exc:  # e.g. AES without the cryptography package
                raise LoadError(path, f"encrypted PDF: {_short(exc)}") from exc
        texts = [_normalize_newlines(page.extract_text() or "") for page in reader.pages]
    except LoadError:
        raise
    except Exception as exc:  # pypdf on damaged bytes raises anything (zlib, NotImplementedError, ...): all corrupt
        raise LoadError(path, f"corrupt PDF: {_short(exc)}") from exc
    if not any(t.strip() for t in texts):
        raise LoadError(path, "PDF has no text layer (scanned?)")
    pages, pos = [], 0
    for number, page_text in enumerate(texts, start=1):
        pages.append((pos, pos + len(page_text), number))
        pos += len(page_text) + 2  # the "\n\n" joining pages
    return "\n\n".join(texts), tuple(pages)


# ---------------------------------------------------------------- DOCX
def _check_zip(path: Path, data: bytes, max_bytes: int) -> None:
    """Refuse zip bombs from the central directory, before python-docx inflates anything.

    zipfile stops reading a member at its declared size, so declared sizes are a safe upper bound.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise LoadError(path, "not a valid .docx (not a zip archive)") from exc
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    ratio = total / max(packed, 1)
    limit = min(20 * max_bytes, _ZIP_MAX_TOTAL)
    if total > limit or ratio > _ZIP_MAX_RATIO:
        raise LoadError(
            path,
            f"suspected zip bomb: {_size(packed)} compressed expands to {_size(total)} "
            f"(ratio {ratio:.0f}:1; limits {_size(limit)}, {_ZIP_MAX_RATIO}:1)",
        )


def _docx_text(path: Path, data: bytes, max_bytes: int) -> tuple[str, str]:
    """Paragraphs and tables in body order; Heading/Title styles become '#' lines so sections survive."""
    _check_zip(path, data, max_bytes)
    blocks: list[str] = []
    try:
        doc = docx.Document(io.BytesIO(data))
        for item in doc.iter_inner_content():
            if isinstance(item, Table):
                blocks.append(_table_text(item))
                continue
            text = item.text
            style = item.style.name if item.style is not None else ""
            m = re.match(r"heading ([1-9])", style, re.IGNORECASE)
            level = 1 if style == "Title" else min(int(m.group(1)), 6) if m else 0
            if level and text.strip():
                text = "#" * level + " " + " ".join(text.split())
            blocks.append(text)
        title = (doc.core_properties.title or "").strip()
    except Exception as exc:  # python-docx, zipfile, zlib and lxml on damaged bytes: all mean a corrupt file
        raise LoadError(path, f"corrupt DOCX: {_short(exc)}") from exc
    return "\n\n".join(b for b in blocks if b.strip()), title


def _table_text(table) -> str:
    rows = []
    for row in table.rows:
        unique = {cell._tc: cell for cell in row.cells}.values()  # merged cells repeat the same <w:tc>
        cells = [" ".join(cell.text.split()) for cell in unique]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


# ---------------------------------------------------------------- titles
_SUP = re.compile(r"<sup>.*?</sup>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")


def _clean_title(s: str) -> str:
    s = _TAG.sub("", _SUP.sub("", s)).replace("**", "").replace("__", "")
    return " ".join(s.split())


def _first_heading(text: str) -> str:
    """First markdown heading or heading-like line, as the chunker sees section structure."""
    from verbatim.text.segment import segment

    for sec in segment(text[:20000]):
        if sec.path:
            return sec.path.split(" > ")[0]
    return ""


def _title(text: str, suffix: str, meta_title: str, stem: str) -> str:
    # HTML: <title>, else the first heading; elsewhere the first heading beats (often stale) metadata.
    heading = _clean_title(_first_heading(text))
    candidates = [meta_title, heading] if suffix in _HTML else [heading, meta_title]
    if suffix in _SHORT_LINE_TITLE:
        short = next((s for line in text.split("\n") if (s := line.strip())), "")
        candidates.append(_clean_title(short) if len(short) <= 120 else "")
    return next((c for c in candidates if c), stem)


# ---------------------------------------------------------------- public API
def load_document(path: Path, max_bytes: int) -> Document:
    """Load one file; raises LoadError (never anything else for bad input) with a one-line reason."""
    path = Path(path)
    if not path.exists():
        raise LoadError(path, "file not found")
    if not path.is_file():
        raise LoadError(path, "not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise LoadError(path, f"file is {_size(size)}, over the {_size(max_bytes)} limit")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise LoadError(path, f"unsupported file type {suffix or '(no extension)'}")
    if size == 0:
        raise LoadError(path, "empty file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot read file: {exc.strerror or _short(exc)}") from exc

    _check_kind(path, data, suffix)
    pages: tuple[tuple[int, int, int], ...] = ()
    meta_title = ""
    if suffix == ".pdf":
        text, pages = _pdf_text(path, data)
    elif suffix == ".docx":
        text, meta_title = _docx_text(path, data, max_bytes)
    else:
        try:
            text = _normalize_newlines(decode_text(data))
        except ValueError as exc:
            raise LoadError(path, str(exc)) from exc
        if suffix in _HTML:
            text, meta_title = _html_text(text)
    if not text.strip():
        raise LoadError(path, "empty file (no visible text)" if suffix in _HTML else "empty file")

    resolved = str(path.resolve())
    return Document(
        doc_id=content_hash(resolved)[:16],
        source=path.name,
        path=resolved,
        title=_title(text, suffix, meta_title, path.stem),
        text=text,
        langs=detect_langs(text),
        sha=content_hash(text),
        pages=pages,
    )


def _skipped(name: str) -> bool:
    return name.startswith((".", "~$")) or name in _JUNK


def iter_files(paths: list[Path]) -> list[Path]:
    """Expand folders recursively (sorted). Unsupported files stay in: reported as failures, not lost."""
    out: list[Path] = []
    seen: set[Path] = set()
    for given in map(Path, paths):
        if given.is_dir():
            found = []
            for root, dirs, files in os.walk(given):  # os.walk does not follow symlinked dirs: no loops
                dirs[:] = [d for d in dirs if not _skipped(d)]
                found += [Path(root, f) for f in files if not _skipped(f)]
            found = [f for f in found if f.is_file()]  # regular files (or links to them); no sockets/FIFOs
            candidates = sorted(found)
        else:
            candidates = [given]  # explicit: kept even if hidden, unsupported or missing
        for p in candidates:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out

"""DOCX -> paragraphs and tables in body order, after refusing zip bombs."""

from __future__ import annotations

import copy
import io
import re
import zipfile
import zlib
from pathlib import Path

import docx  # python-docx (absolute import: not this module)
from docx.oxml.ns import qn
from docx.table import Table

from .errors import MB, LoadError, human_size, one_line

_ZIP_MAX_TOTAL = 200 * MB
_ZIP_MAX_RATIO = 200
_READ = 64 * 1024  # bytes inflated per read: what a member costs in memory while it is checked
# zipfile inflates bzip2 and lzma members without an output bound (a 37 KB bzip2 member declared at 20,000 bytes
# took a server from 317 MB to 1,077 MB); Word writes deflate, and stored members cost nothing to check
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2",
            zipfile.ZIP_LZMA: "lzma"}


def _check_zip(path: Path, data: bytes, max_bytes: int) -> None:
    """Refuse zip bombs before python-docx inflates anything: the declared sizes must stay within the limits,
    and each member is inflated here in bounded ``read(n)`` calls to prove it holds no more than it declares
    (zipfile's ``read()`` inflates a whole member before trimming it to the declared size)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            _check_declared(path, infos, max_bytes)
            for info in infos:
                _check_member(path, zf, info)
    except (zipfile.BadZipFile, ValueError) as exc:
        raise LoadError(path, "not a valid .docx (not a zip archive)") from exc


def _check_declared(path: Path, infos: list[zipfile.ZipInfo], max_bytes: int) -> None:
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            method = _METHODS.get(info.compress_type, f"method {info.compress_type}")
            raise LoadError(path, f"{info.filename} is compressed with {method}: only stored or deflate members "
                                  "are read")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    ratio = total / max(packed, 1)
    limit = min(20 * max_bytes, _ZIP_MAX_TOTAL)
    if total > limit or ratio > _ZIP_MAX_RATIO:
        raise LoadError(
            path,
            f"suspected zip bomb: {human_size(packed)} compressed expands to {human_size(total)} "
            f"(ratio {ratio:.0f}:1; limits {human_size(limit)}, {_ZIP_MAX_RATIO}:1)",
        )


def _check_member(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Inflate ``info`` up to its declared size and one byte more, ``_READ`` bytes at a time; refuse a member
    with more in it than declared. The CRC is left to python-docx's read, once the size is known to be true."""
    probe = copy.copy(info)
    probe.file_size = info.file_size + 1  # zipfile stops at the size it is given: one byte past the declared
    del probe.CRC  # a ZipInfo without a CRC is read unchecked (a prefix of a bomb never matches the CRC)
    got = 0
    with zf.open(probe) as member:
        try:
            while chunk := member.read(_READ):
                got += len(chunk)
        except (EOFError, zlib.error) as exc:
            raise LoadError(path, f"corrupt DOCX: {info.filename}: {one_line(exc)}") from exc
    if got > info.file_size:
        raise LoadError(path, f"suspected zip bomb: {info.filename} inflates to more than its declared "
                              f"{human_size(info.file_size)}")


def docx_text(path: Path, data: bytes, max_bytes: int) -> tuple[str, str]:
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
        raise LoadError(path, f"corrupt DOCX: {one_line(exc)}") from exc
    return "\n\n".join(b for b in blocks if b.strip()), title


def _table_text(table) -> str:
    """Each row its own paragraph, so a row is one unit to find and quote. When the first row is a header (marked
    to repeat on every page, or labels without a figure among them), each later cell carries its column's label:
    "Country: Uzbekistan | Trade with China, 2023: $14 billion | Change: +45%"."""
    rows = [_row_cells(row) for row in table.rows]
    rows = [r for r in rows if any(text for _, text in r)]
    if len(rows) > 1 and _is_header(table.rows[0], rows[0]):
        labels = dict(rows[0])
        return "\n\n".join(" | ".join(_labelled(labels.get(col, ""), text) for col, text in row if text)
                           for row in rows[1:])
    return "\n\n".join(" | ".join(text for _, text in row) for row in rows)


def _row_cells(row) -> list[tuple[int, str]]:
    """(grid column, text) of each cell; a merged cell (the same <w:tc> over several columns) once."""
    out, seen = [], set()
    for col, cell in enumerate(row.cells):
        if cell._tc in seen:
            continue
        seen.add(cell._tc)
        out.append((col, " ".join(cell.text.split())))
    return out


_FIGURE = re.compile(r"^[-+−–]?[$€£%]?\d[\d.,٫٬]*\s*[%$€£]?$|^[-+−–]?[$€£]?[۰-۹٠-٩][۰-۹٠-٩.,٫٬]*\s*[%٪]?$")


def _is_header(row, cells: list[tuple[int, str]]) -> bool:
    trpr = row._tr.trPr
    if trpr is not None and trpr.find(qn("w:tblHeader")) is not None:
        return True
    return len(cells) > 1 and all(text and not _FIGURE.match(text) for _, text in cells)


def _labelled(label: str, text: str) -> str:
    return f"{label}: {text}" if label and label != text else text

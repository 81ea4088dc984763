""".docx zip bombs, crafted for real: a member whose declared size (and CRC) is patched to a small prefix of what
it really inflates to, so zipfile's own ``read()`` would inflate all of it and keep the prefix, and members
compressed with bzip2 or lzma (zipfile inflates those without an output bound). Each is refused with one line,
and loading it stays within a small memory budget (measured with tracemalloc in a fresh process).
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zipfile
import zlib

import docx
import pytest

from verbatim_qa.ingest.loaders import LoadError, load_document
from verbatim_qa.ingest.loaders.errors import human_size

MB = 1024 * 1024
INFLATED = 256 * MB  # what the bomb's document.xml really inflates to


def plain_docx() -> bytes:
    d = docx.Document()
    d.add_heading("Bomb notes", 1)
    d.add_paragraph("The Wakhan corridor bridge at Ishkashim was rebuilt in 2003.")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def _patch(data: bytearray, name: str, crc: int, size: int) -> None:
    """Set ``name``'s CRC and uncompressed size in its local header and its central directory entry."""
    raw = name.encode()
    local = data.find(b"PK\x03\x04")
    while data[local : local + 4] == b"PK\x03\x04":
        n, e = struct.unpack_from("<HH", data, local + 26)
        if data[local + 30 : local + 30 + n] == raw:
            struct.pack_into("<I", data, local + 14, crc)
            struct.pack_into("<I", data, local + 22, size)
            break
        local += 30 + n + e + struct.unpack_from("<I", data, local + 18)[0]  # the next member's header
    central = data.find(b"PK\x01\x02")
    while central != -1:
        n = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + n] == raw:
            struct.pack_into("<I", data, central + 16, crc)
            struct.pack_into("<I", data, central + 24, size)
            return
        central = data.find(b"PK\x01\x02", central + 46)
    raise AssertionError(f"{name} not found")


def lying_docx(inflated: int = INFLATED) -> bytes:
    """A real .docx whose word/document.xml is followed by ``inflated`` bytes of spaces (still well-formed XML),
    its declared size and CRC patched to those of the document alone: a reader trusting the declaration gets a
    valid document after inflating all of it."""
    source = zipfile.ZipFile(io.BytesIO(plain_docx()))
    xml = source.read("word/document.xml")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                z.writestr(info.filename, source.read(info.filename))
                continue
            member = zipfile.ZipInfo("word/document.xml")
            member.compress_type = zipfile.ZIP_DEFLATED
            with z.open(member, "w", force_zip64=False) as w:
                w.write(xml)
                block = b" " * MB
                for _ in range(inflated // MB):
                    w.write(block)
    data = bytearray(out.getvalue())
    _patch(data, "word/document.xml", zlib.crc32(xml), len(xml))
    return bytes(data)


def recompressed_docx(method: int) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(plain_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in source.infolist():
            z.writestr(info.filename, source.read(info.filename),
                       compress_type=method if info.filename == "word/document.xml" else zipfile.ZIP_DEFLATED)
    return out.getvalue()


PROBE = """
import json, sys, tracemalloc
from pathlib import Path
from verbatim_qa.ingest.loaders import LoadError, load_document
tracemalloc.start()
try:
    load_document(Path(sys.argv[1]), 50 * 1024 * 1024)
    reason = None
except LoadError as exc:
    reason = exc.reason
print(json.dumps({"reason": reason, "peak": tracemalloc.get_traced_memory()[1]}))
"""


def test_a_member_inflating_past_its_declared_size_is_refused_in_bounded_memory(tmp_path):
    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(lying_docx())
    assert bomb.stat().st_size < MB  # 256 MB of inflation in a file well under the upload limit
    info = zipfile.ZipFile(bomb).getinfo("word/document.xml")
    assert info.file_size < 10_000 and info.compress_size > 100_000  # the declaration lies: ratio looks sane
    proc = subprocess.run([sys.executable, "-c", PROBE, str(bomb)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["reason"] == ("suspected zip bomb: word/document.xml inflates to more than its declared "
                                f"{human_size(info.file_size)}")
    assert result["peak"] < 32 * MB, result  # zipfile's read() would have held the 256 MB at once


@pytest.mark.parametrize("method, name", [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "lzma")])
def test_members_compressed_otherwise_than_deflate_are_refused(tmp_path, method, name):
    path = tmp_path / f"{name}.docx"
    path.write_bytes(recompressed_docx(method))
    with pytest.raises(LoadError) as exc:
        load_document(path, 50 * MB)
    assert exc.value.reason == f"word/document.xml is compressed with {name}: only stored or deflate members are read"


def test_an_honest_docx_still_loads(tmp_path):
    path = tmp_path / "notes.docx"
    path.write_bytes(plain_docx())
    doc = load_document(path, 50 * MB)
    assert "rebuilt in 2003" in doc.text
    stored = tmp_path / "stored.docx"
    stored.write_bytes(recompressed_docx(zipfile.ZIP_STORED))
    assert "rebuilt in 2003" in load_document(stored, 50 * MB).text


def test_a_corrupt_member_within_its_declared_size_is_called_corrupt(tmp_path):
    data = bytearray(plain_docx())
    start = data.find(b"word/document.xml") + len("word/document.xml")
    data[start + 40 : start + 60] = b"\xff" * 20  # damage the deflate stream inside the first local member
    path = tmp_path / "damaged.docx"
    path.write_bytes(bytes(data))
    with pytest.raises(LoadError) as exc:
        load_document(path, 50 * MB)
    assert exc.value.reason.startswith(("corrupt DOCX", "not a valid .docx")), exc.value.reason
    assert "\n" not in exc.value.reason

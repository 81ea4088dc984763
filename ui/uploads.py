"""Uploads shared by the HTTP API and the web UI: safe file names, size-limited staging, validation.

A file is received into ``uploads_dir/.staging/<random>/`` while its size is counted (over the limit ->
413, the partial file is deleted), then loaded and segmented there exactly as ingest will do it. Only a
file that passes is moved to ``uploads_dir/<safe name>`` and ingested (see ``Service.ingest_staged``), so
a bad upload changes nothing: not the store, not the stored files. ``receive_upload`` streams an HTTP multipart
body into such a staged file, counting bytes as they arrive.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from verbatim_qa.ingest.chunking import chunk_document
from verbatim_qa.ingest.loaders import SUPPORTED, LoadError, load_document
from verbatim_qa.settings import Settings
from verbatim_qa.text.lines import one_line

MAX_NAME_BYTES = 200  # file systems allow 255 bytes; Persian letters take 2 each in UTF-8
STAGING = ".staging"  # hidden: `verbatim ingest` of the uploads folder skips it
PREVIOUS = ".previous"  # in a staged file's folder: the stored upload it replaces, until the replacement commits
JOURNAL = ".pending.json"  # in a staged file's folder: what a crash while committing it leaves to undo
_KEEP_FORMAT = {"\u200c", "\u200d"}  # ZWNJ / ZWJ: parts of Persian words
_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, bidi overrides, surrogates, unassigned
_REPLACE = set('<>:"|?*')  # not allowed in names on some systems
# Device names on Windows whatever the extension ("CON.txt" opens the console): the file could not be copied there.
MULTIPART_OVERHEAD = 64 * 1024  # headers and boundaries around the one file, for the Content-Length pre-check
_FORM_ESCAPE = re.compile(r"%(1[0-9A-Fa-f]|0[0-9A-Fa-f]|22)")
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{dev}{i}" for dev in ("COM", "LPT") for i in range(1, 10)}


class UploadError(Exception):
    """A refused upload: an HTTP status and one human line."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def allowed_types() -> str:
    return ", ".join(sorted(SUPPORTED))


def size_text(n: float) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:.1f}".removesuffix(".0") + " MB" if mb >= 0.1 else f"{n / 1024:.0f} KB"


def safe_filename(name: str) -> str:
    """The last path component of ``name``, NFKC-normalized, without control/bidi characters or leading dots.

    ``../../evil.txt`` -> ``evil.txt``, ``/etc/passwd.txt`` -> ``passwd.txt``, ``C:\\x\\y.md`` -> ``y.md``,
    ``CON.txt`` -> ``_CON.txt``; at most ``MAX_NAME_BYTES`` of UTF-8; Persian letters (and ZWNJ) are kept.
    Returns ``""`` when nothing usable is left.
    """
    name = unicodedata.normalize("NFKC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    out = []
    for ch in name:
        cat = unicodedata.category(ch)
        if ch in _KEEP_FORMAT:
            out.append(ch)
        elif cat in _DROP_CATEGORIES:
            continue
        elif cat == "Zs":
            out.append(" ")
        elif ch in _REPLACE:
            out.append("_")
        else:
            out.append(ch)
    name = " ".join("".join(out).split()).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    stem = stem.strip(" .")
    if stem.split(".")[0].rstrip(" ").upper() in _RESERVED:
        stem = "_" + stem
    budget = MAX_NAME_BYTES - len(ext.encode("utf-8")) - 1
    while len(stem.encode("utf-8")) > budget:
        stem = stem[:-1]
    stem = stem.strip(" .")
    if not stem:
        return ""
    return f"{stem}.{ext}" if ext else stem


def checked_name(raw: str) -> str:
    """A safe name with a supported extension, or UploadError 400/415."""
    name = safe_filename(raw)
    if not name:
        raise UploadError(400, f"unusable file name {raw!r}")
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise UploadError(415, f"unsupported file type {suffix or '(no extension)'} (allowed: {allowed_types()})")
    return name


class StagedFile:
    """A file being received; ``write`` raises UploadError(413) as soon as it exceeds the limit."""

    def __init__(self, settings: Settings, raw_name: str) -> None:
        self.name = checked_name(raw_name)
        self.limit = settings.max_file_bytes
        root = settings.uploads_dir / STAGING
        root.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(dir=root))
        self.path = self.dir / self.name
        self.size = 0
        self._file = open(self.path, "xb")  # noqa: SIM115 - closed in close()/discard()

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            self.discard()
            raise UploadError(413, f"file is over the {size_text(self.limit)} limit")
        self._file.write(data)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def discard(self) -> None:
        self.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def journal(self, final: Path, collection: str, committed_at: float | None) -> None:
        """Before the staged file replaces ``final``: where it goes, in which collection, and when the document
        there was last committed (None: never), so a service started after a crash here can tell whether the
        upload's commit landed (``pending_uploads``). Written whole then renamed: never read half-written."""
        tmp = self.dir / (JOURNAL + ".tmp")
        tmp.write_text(json.dumps({"final": str(final), "collection": collection, "committed_at": committed_at}),
                       encoding="utf-8")
        os.replace(tmp, self.dir / JOURNAL)

    def validate(self, settings: Settings) -> int:
        """Load and segment the staged file as ingest will; returns its chunk count or raises UploadError(400)."""
        self.close()
        try:
            doc = load_document(self.path, settings.max_file_bytes, settings)
            chunks = chunk_document(doc, settings.deployment.chunk_chars, settings.deployment.max_sentence_chars)
        except LoadError as exc:
            raise UploadError(400, exc.reason) from exc
        except Exception as exc:  # a loader bug on one odd file is this file's problem, reported, not a crash
            raise UploadError(400, f"cannot read file ({type(exc).__name__})") from exc
        if not chunks:
            raise UploadError(400, "no text to index")
        return len(chunks)


@dataclass(frozen=True)
class PendingUpload:
    """A staged upload whose commit a crash cut short: its folder, the stored path it was moving to, the file it
    replaced there (``folder/PREVIOUS``, when there was one) and that document's commit time before it."""

    folder: Path
    final: Path
    collection: str
    committed_at: float | None

    @property
    def previous(self) -> Path:
        return self.folder / PREVIOUS


def pending_uploads(settings: Settings) -> list[PendingUpload]:
    """The journaled staged uploads under the staging folder (a folder without a journal never reached its
    commit: nothing of it was stored)."""
    root = settings.uploads_dir / STAGING
    out = []
    for journal in sorted(root.glob(f"*/{JOURNAL}")) if root.is_dir() else ():
        data = json.loads(journal.read_text(encoding="utf-8"))
        out.append(PendingUpload(journal.parent, Path(data["final"]), data["collection"], data["committed_at"]))
    return out


def stage_file(settings: Settings, source: Path, raw_name: str | None = None, block: int = 1 << 16) -> StagedFile:
    """Stage a local file (e.g. one the web UI received) through the same name, type and size checks."""
    staged = StagedFile(settings, raw_name if raw_name is not None else Path(source).name)
    try:
        with open(source, "rb") as f:
            while data := f.read(block):
                staged.write(data)
    except UploadError:
        raise
    except OSError as exc:
        staged.discard()
        raise UploadError(400, f"cannot read upload ({exc.strerror or type(exc).__name__})") from exc
    staged.close()
    return staged


async def receive_upload(request: Request, settings: Settings) -> StagedFile:
    """Stream a multipart body into a staged file, counting bytes as they arrive (never buffered whole)."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise UploadError(400, "expected multipart/form-data with the file in field 'file'")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > settings.max_file_bytes + MULTIPART_OVERHEAD:
        raise UploadError(413, f"file is over the {size_text(settings.max_file_bytes)} limit")

    state: dict = {"headers": {}, "field": b"", "value": b"", "part": None, "staged": None, "error": None}

    def on_part_begin() -> None:
        state["headers"], state["part"] = {}, None

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, disp = parse_options_header(state["headers"].get(b"content-disposition", b""))
        if disp.get(b"name") != b"file":
            return
        raw = _filename(disp)
        if raw is None or raw == "":
            raise UploadError(400, "no file in field 'file'")
        if state["staged"] is not None:
            raise UploadError(400, "one file per request")
        state["staged"] = state["part"] = StagedFile(settings, raw)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["part"] is not None:
            state["part"].write(data[start:end])

    def on_part_end() -> None:
        if state["part"] is not None:
            state["part"].close()
            state["part"] = None

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end})
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except UploadError:
        if state["staged"] is not None:
            state["staged"].discard()
        raise
    except MultipartParseError as exc:
        if state["staged"] is not None:
            state["staged"].discard()
        raise UploadError(400, f"malformed multipart body ({one_line(exc)})") from exc
    except BaseException:
        if state["staged"] is not None:  # a dropped connection or a bug: no staged file is left behind
            state["staged"].discard()
        raise
    staged = state["staged"]
    if staged is None:
        raise UploadError(400, "no file in field 'file'")
    staged.close()
    return staged


def _filename(disp: dict) -> str | None:
    star = disp.get(b"filename*")
    if star:  # RFC 5987: UTF-8''percent-encoded
        _, _, encoded = star.decode("latin-1").partition("''")
        return unquote(encoded, encoding="utf-8", errors="replace")
    raw = disp.get(b"filename")
    if raw is None:
        return None
    # Browsers and httpx escape quotes and control characters as %XX (HTML5 form encoding): undo only those,
    # so the sanitizer sees (and drops) them; any other "%" is part of the name.
    return _FORM_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), raw.decode("utf-8", errors="replace"))

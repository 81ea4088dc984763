"""Uploads shared by the HTTP API and the web UI: safe file names, size-limited staging, validation.

A file is received into ``uploads_dir/.staging/<random>/`` while its size is counted (over the limit ->
413, the partial file is deleted), then loaded and segmented there exactly as ingest will do it. Only a
file that passes is moved to ``uploads_dir/<safe name>`` and ingested (see ``Service.ingest_staged``), so
a bad upload changes nothing: not the store, not the stored files.
"""

from __future__ import annotations

import shutil
import tempfile
import unicodedata
from pathlib import Path

from ingest.chunking import chunk_document
from ingest.loaders import SUPPORTED, LoadError, load_document
from verbatim.settings import Settings

MAX_NAME_BYTES = 200  # file systems allow 255 bytes; Persian letters take 2 each in UTF-8
STAGING = ".staging"  # hidden: `verbatim ingest` of the uploads folder skips it
_KEEP_FORMAT = {"\u200c", "\u200d"}  # ZWNJ / ZWJ: parts of Persian words
_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, bidi overrides, surrogates, unassigned
_REPLACE = set('<>:"|?*')  # not allowed in names on some systems
# Device names on Windows whatever the extension ("CON.txt" opens the console): the file could not be copied there.
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

    def validate(self, settings: Settings) -> int:
        """Load and segment the staged file as ingest will; returns its chunk count or raises UploadError(400)."""
        self.close()
        try:
            doc = load_document(self.path, settings.max_file_bytes)
            chunks = chunk_document(doc, settings.chunk_chars)
        except LoadError as exc:
            raise UploadError(400, exc.reason) from exc
        except Exception as exc:  # a loader bug on one odd file is this file's problem, reported, not a crash
            raise UploadError(400, f"cannot read file ({type(exc).__name__})") from exc
        if not chunks:
            raise UploadError(400, "no text to index")
        return len(chunks)


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

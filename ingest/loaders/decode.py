"""Bytes -> text: BOMs, UTF-8, then cp1256/cp1252 only where the result reads as text; and a file whose bytes
are plainly another format (wrong extension) is refused before any decoding."""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from verbatim_qa.text.lang import is_arabic_script

from .errors import LoadError


def normalize_newlines(text: str) -> str:
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


def check_kind(path: Path, data: bytes, suffix: str) -> None:
    """Refuse a file whose content is plainly another format: a clear reason instead of a decoding error."""
    kind = next((what for magic, what in _MAGIC if data.startswith(magic)), None)
    expected = _EXPECTED.get(suffix)
    if kind is not None and kind != expected:
        raise LoadError(path, f"wrong extension: the content is {kind}, not {suffix}")
    if suffix == ".pdf" and b"%PDF-" not in data[:1024]:
        raise LoadError(path, "not a PDF (no %PDF- header)")

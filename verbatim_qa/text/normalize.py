"""The search form of text: for matching only, never shown or quoted.

``normalize_map`` returns the search form plus, for each of its characters, the index of the original
character it came from, so a match in the search form maps back to an exact original span.

One search form for every language (a question and a passage may be in different ones): Arabic yeh/kaf fold
to the Persian letters (quotes keep the original letters: only matching folds), Turkish dotted and dotless i
and Russian yo fold to plain i and ie, and Chinese/Japanese, written without spaces, are tokenized into
characters and character pairs (the best BM25 recall measured, with no segmenter dictionary to load: see
docs/measurements.md#chinese-tokens).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# "-\n" between letters: a word hyphenated at a line end (PDF loader: the hyphen and break stay in the quoted text)
LINE_END_HYPHEN = r"(?<=\w)[-\u2010\u00ad]\n\n?(?=\w)"
_DROP_RE = re.compile(r"<sup>.*?</sup>|</?(?:sup|sub|b|i|em|strong)>|\*\*|__|^#{1,6}[ \t]*|" + LINE_END_HYPHEN,
                      re.M | re.S)
_CHAR_MAP = {
    "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
    "\u0649": "\u06cc",  # alef maksura -> Persian yeh
    "\u0643": "\u06a9",  # Arabic kaf -> Persian keheh
    "\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627",  # alef with hamza/madda -> alef
    "\u0629": "\u0647",  # teh marbuta -> heh
    "\u066b": ".", "\u066c": ",", "\u060c": ",", "\u061b": ";", "\u061f": "?",
    "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"',
    "\u0130": "i", "\u0131": "i",  # Turkish İ and ı: casefold makes 'i' + a combining dot, which splits words
    "\u0451": "\u0435", "\u0401": "\u0435",  # Russian ё is written е as often as not
}
for _i in range(10):
    _CHAR_MAP[chr(0x06F0 + _i)] = str(_i)  # Persian digits
    _CHAR_MAP[chr(0x0660 + _i)] = str(_i)  # Arabic-Indic digits
# Dropped outright: ZWNJ/ZWJ (the corpus writes words joined, users type them with ZWNJ), tatweel,
# Arabic diacritics and the combining hamza, bidi controls, soft hyphen, the combining dot above (of a decomposed İ).
_DROP_CHARS = set("\u0307\u200c\u200d\u0640\u0654\u0655\u0670\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff")
_DROP_CHARS.update(chr(c) for c in range(0x064B, 0x0653))


def _fold_char(ch: str) -> str:
    if ch in _DROP_CHARS:
        return ""
    mapped = _CHAR_MAP.get(ch)
    if mapped is not None:
        return mapped
    if ch.isspace():
        return " "
    if ord(ch) < 128:
        return ch.lower()
    out = unicodedata.normalize("NFKC", ch).casefold()
    return "".join(_CHAR_MAP.get(c, c) for c in out if c not in _DROP_CHARS)


_fold_cached = lru_cache(maxsize=65536)(_fold_char)


def normalize_map(text: str) -> tuple[str, list[int]]:
    """Search form of ``text`` and the original index of each search-form character."""
    dropped = [False] * len(text)
    for m in _DROP_RE.finditer(text):
        for i in range(m.start(), m.end()):
            dropped[i] = True
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if dropped[i]:
            continue
        for c in _fold_char(ch):
            if c == " " and (not chars or chars[-1] == " "):
                continue  # collapse whitespace runs
            chars.append(c)
            origin.append(i)
    if chars and chars[-1] == " ":
        chars.pop()
        origin.pop()
    return "".join(chars), origin


_SPACES_RE = re.compile(" {2,}")


def normalize(text: str) -> str:
    """``normalize_map(text)[0]`` without the offset map: ~10x faster, for tokenizing (BM25, vocabularies)."""
    folded = "".join(map(_fold_cached, _DROP_RE.sub("", text)))
    return _SPACES_RE.sub(" ", folded).strip(" ")


_TOKEN_RE = re.compile(r"\w+", re.U)
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana and Han
_UNSPACED_RE = re.compile(f"[{_UNSPACED}]")
_UNSPACED_RUN_RE = re.compile(f"[{_UNSPACED}]+|[^{_UNSPACED}]+")


def tokenize(text: str) -> list[str]:
    """Word tokens of the search form (numbers included: '18' matches '۱۸'); Chinese and Japanese runs give
    their characters and character pairs."""
    norm = normalize(text)
    tokens = _TOKEN_RE.findall(norm)
    if not _UNSPACED_RE.search(norm):
        return tokens
    out: list[str] = []
    for run in (r for t in tokens for r in _UNSPACED_RUN_RE.findall(t)):
        if _UNSPACED_RE.match(run):
            out += [*run, *(run[i : i + 2] for i in range(len(run) - 1))]
        else:
            out.append(run)
    return out


def find_span(haystack: str, needle: str) -> tuple[int, int] | None:
    """Exact original span in ``haystack`` whose search form equals ``needle``'s, or None."""
    norm_needle = normalize(needle)
    if not norm_needle:
        return None
    norm_hay, origin = normalize_map(haystack)
    at = norm_hay.find(norm_needle)
    if at < 0:
        return None
    return origin[at], origin[at + len(norm_needle) - 1] + 1

"""Fidelity of text extracted from a PDF, measured against the text it was made from (pure functions over strings).

- **sentence recall**: the share of the source's sentences (6+ words) found whole inside one extracted paragraph.
- **token validity**: the share of extracted words (tokens with a letter) that occur in the source's vocabulary.
- **row recall**: the share of the source's table rows whose cells all come out, in order, inside one paragraph.

Both sides are compared after ``normalise``: NFKC; whitespace, ZWNJ/ZWJ, bidi marks and tatweel removed; Arabic
yeh/kaf folded to the Persian letters. Digits are folded to ASCII too: XePersian typesets the source's "1397" as
"۱۳۹۷", and a text layer that shows the digits the page draws must not be counted wrong for it; for the same
reason the Arabic comma, semicolon and question mark fold to "," ";" "?" (XePersian prints the source's ";" as "؛").

Extracted text is read as Verbatim's matching reads it (``score``): a hyphen and a line break between two word
characters join them ("manip-\nulation" is "manipulation", ``verbatim_qa.text.normalize.LINE_END_HYPHEN``), since
the loader keeps the hyphen the page draws and matching and sentence splitting read the word whole.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from verbatim_qa.text.normalize import LINE_END_HYPHEN

MIN_SENTENCE_WORDS = 6
_SEP = "\x00"  # between paragraphs; normalised text never holds it (a NUL byte is refused as binary)
_INVISIBLE = re.compile(r"[\x00\s\u200b-\u200f\u202a-\u202e\u2066-\u2069\u061c\u0640\ufeff]+")
_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "٫": ".", "٬": ",", "،": ",", "؛": ";", "؟": "?",
                       **{chr(0x06F0 + i): str(i) for i in range(10)}, **{chr(0x0660 + i): str(i) for i in range(10)}})
# a sentence ends at . ! ? ؟ … followed by a space (closing quotes and brackets stay with it)
_SENTENCE_END = re.compile(r"[.!?؟…][\"'”’»)\]]*(?=\s)")
_LINE_END_HYPHEN = re.compile(LINE_END_HYPHEN.replace("\\n", "\\r?\\n"))  # pdfium's text ends lines with "\r\n"


def as_matched(text: str) -> str:
    """Extracted text as matching reads it: a word hyphenated at a line end is one word."""
    return _LINE_END_HYPHEN.sub("", text)


def normalise(text: str) -> str:
    """NFKC, then without whitespace, zero-width joiners, bidi marks and tatweel, Arabic ي/ك as Persian ی/ک."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text).translate(_FOLD))


def tokens(text: str) -> list[str]:
    """Word tokens: maximal runs of letters, digits and combining marks, after ``normalise``'s folding (so a ZWNJ
    inside a word joins it: "می‌کند" is one token, "م یکند" two)."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    text = re.sub(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\u061c\u0640\ufeff]", "", text)
    out, cur = [], []
    for ch in text:
        if ch.isalnum() or unicodedata.category(ch).startswith("M"):
            cur.append(ch)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    return frozenset(t for text in texts for t in tokens(text))


def sentences(paragraphs: Iterable[str], min_words: int = MIN_SENTENCE_WORDS) -> list[str]:
    """The sentences of ``min_words`` or more words of each paragraph (a sentence never spans two paragraphs)."""
    out = []
    for para in paragraphs:
        para = " ".join(para.split())
        start = 0
        for m in [*_SENTENCE_END.finditer(para), None]:
            end = m.end() if m else len(para)
            s = para[start:end].strip()
            start = end
            if len(s.split()) >= min_words:
                out.append(s)
    return out


def sentence_recall(source_sentences: Iterable[str], extracted_paragraphs: Iterable[str]) -> tuple[int, int]:
    """(sentences found whole inside one extracted paragraph, sentences) after ``normalise``."""
    joined = _SEP.join(normalise(p) for p in extracted_paragraphs)  # a match cannot cross _SEP: one paragraph
    wanted = [normalise(s) for s in source_sentences]
    found = sum(1 for s in wanted if s in joined)
    return found, len(wanted)


def token_validity(extracted_text: str, vocab: frozenset[str]) -> tuple[int, int]:
    """(extracted words in the source vocabulary, extracted words). A word has a letter: bare numbers are left
    out, since page, section and footnote numbers print numbers that no source holds."""
    toks = [t for t in tokens(extracted_text) if not t.isdigit()]
    return sum(1 for t in toks if t in vocab), len(toks)


def row_recall(rows: Iterable[list[str]], extracted_paragraphs: Iterable[str]) -> tuple[int, int]:
    """(table rows whose cells all appear in order inside one extracted paragraph, rows)."""
    paras = [normalise(p) for p in extracted_paragraphs]
    wanted = [[normalise(c) for c in row if normalise(c)] for row in rows]
    found = sum(1 for cells in wanted if any(_in_order(cells, p) for p in paras))
    return found, len(wanted)


def _in_order(cells: list[str], para: str) -> bool:
    pos = 0
    for c in cells:
        pos = para.find(c, pos)
        if pos < 0:
            return False
        pos += len(c)
    return True


@dataclass(frozen=True)
class Score:
    """One extraction of one document against its source: counts, so scores of several documents add up."""

    sentences_found: int
    sentences: int
    tokens_valid: int
    tokens: int
    rows_found: int = 0
    rows: int = 0

    @property
    def sentence_recall(self) -> float | None:
        return self.sentences_found / self.sentences if self.sentences else None

    @property
    def token_validity(self) -> float | None:
        return self.tokens_valid / self.tokens if self.tokens else None

    @property
    def row_recall(self) -> float | None:
        return self.rows_found / self.rows if self.rows else None


def score(source_sentences: list[str], vocab: frozenset[str], rows: list[list[str]],
          extracted_paragraphs: list[str]) -> Score:
    extracted_paragraphs = [as_matched(p) for p in extracted_paragraphs]
    found, n = sentence_recall(source_sentences, extracted_paragraphs)
    valid, n_tokens = token_validity("\n".join(extracted_paragraphs), vocab)
    rows_found, n_rows = row_recall(rows, extracted_paragraphs)
    return Score(found, n, valid, n_tokens, rows_found, n_rows)


def mean_of(values: Iterable[float | None]) -> float | None:
    """Mean of the defined values (a document without sentences has no recall), None if none is."""
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None

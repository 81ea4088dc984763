"""Whether an answer shows a key fact, and which: the bold ``answer_span`` a reader sees first, above the quotes.

A wrong key fact is worse than none (the answer then leads with its best quote), so one is shown only when every
rule below holds. Each is a reason a reader would give, not a constant fitted to one set (the precision and
coverage per set and language pair are in docs/measurements.md#key-fact):

- the question asks for one thing of a kind a span can be (a number, a date, a person, a name); a question of
  several parts ("where and when", "which countries and how many") would need a span for each: none is shown;
- the span's script fits its kind: a name is told by its capitals, so only in a Latin-script sentence of a
  language whose common nouns are lower case (not German); a Latin token inside a Cyrillic, Arabic or Chinese
  sentence ("Ford", "Fog") is a loanword or a brand, not the answer;
- a word written in capitals that is a function word ("MUST", "SHALL" of a specification) is not a name;
- the span sits among the question's own words: enough of them within ``span_window`` characters of it;
- no other span of the kind in the quote is placed as well (two figures beside the same words: either may be it).

The answerer never shows one on a refused or caveated answer (qa/compose.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verbatim_qa.text.lang import script_of
from verbatim_qa.text.normalize import tokenize
from verbatim_qa.text.stopwords import is_stop

SPAN_TYPES = ("number", "date", "person", "name")
# languages that capitalize every noun: a capital does not mark a name there
NOUNS_CAPITALIZED = frozenset({"de", "lb"})

# a question asking two things: a second question word after "and"/"or"/a comma; in Persian two question words
# with "و" (and) between them ("چه زمانی و با کمک کدام شرکت")
_FA_ASK = r"(?<!\S)(?:چه|چند|چقدر|کدام|کجا|چرا|چگونه)(?!\S)"
_MULTI_PART = re.compile(
    r"\b(?:and|or)\s+(?:how|when|what|who|whom|where|which|why|whose|by whom|in what|to what)\b|,\s*and\b"
    r"|\bhow (?:many|much)\s+(?:[^\W\d_]+\s+){1,3}and\s+[^\W\d_]+"  # "how many ethnic Kyrgyz and Kazakhs": two counts
    rf"|{_FA_ASK}.*\sو\s.*{_FA_ASK}",
    re.IGNORECASE)


@dataclass(frozen=True)
class Placed:
    """A typed span of a quote and how it sits among the question's words there."""

    start: int
    end: int
    near: int  # distinct question terms within the window around it
    hinted: bool  # its counted noun or unit ("11 points" for "how many points") is beside it
    shares: bool  # it holds one of the question's own words
    dist: int  # characters to the nearest question term (0 when none is there)

    def key(self) -> tuple:
        """The order spans are preferred in: hinted, not the question's words, most question terms near."""
        return (not self.hinted, self.shares, -self.near)


def own_words(span: str, asked: set[str]) -> bool:
    """Does the span hold one of the question's words (a possessive's "s" aside: "China's" is "China")?"""
    return bool({w for w in tokenize(_POSSESSIVE.sub("", span)) if len(w) > 1} & asked)


_POSSESSIVE = re.compile(r"['’]s\b")


def ordinal(span: str) -> bool:
    """An ordinal ("third", "20th", "سومین"): a rank, not a count."""
    return bool(_ORDINAL.fullmatch(span.strip()))


_ORDINAL = re.compile(r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
                      r"\d+(?:st|nd|rd|th)|\S{2,8}مین)", re.IGNORECASE)


def multi_part(question: str) -> bool:
    """Does the question ask several things ("Where and when …", "… and how many …")?"""
    return bool(_MULTI_PART.search(question))


def script_fits(span: str, quote: str, quote_lang: str, kind: str) -> bool:
    """A span fits when its letters are in the script of its sentence, and a name is only read from capitals
    where capitals mark names: a Latin-script sentence of a language that does not capitalize common nouns."""
    own = script_of(span)
    if own is not None and own != script_of(quote):
        return False  # "Ford" picked out of a Russian sentence, "Pannier" out of a Persian one
    if kind in ("person", "name"):
        return own == "latin" and quote_lang not in NOUNS_CAPITALIZED
    return True


def function_word(span: str, lang: str) -> bool:
    """Every word of the span is a function word of ``lang`` or English ("MUST", "The", "SHALL NOT")."""
    words = tokenize(span)
    return bool(words) and all(is_stop(w, lang) or is_stop(w, "en") for w in words)


def unambiguous(best: Placed, others: list[Placed]) -> bool:
    """No other span is placed as well as the best (the same hint, sharing alike, as many question terms near)."""
    return not any(o.key() == best.key() and (o.start, o.end) != (best.start, best.end) for o in others)


def close_enough(near: int, terms: int, need: int) -> bool:
    """Enough question terms near the span: ``need`` of them, or all of a question that has fewer."""
    return near >= min(need, terms) and near > 0

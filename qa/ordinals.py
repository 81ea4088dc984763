"""Ordinals: "what is the third goal?" is answered by the list item that starts with "third" / "سوم" / "3.".

Embeddings barely tell list items apart (they share their topic with the list's header sentence), so the
extractive answerer boosts a sentence whose leading ordinal equals the question's.
"""

from __future__ import annotations

import re
import unicodedata

EN = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
FA = ["یکم", "دوم", "سوم", "چهارم", "پنجم", "ششم", "هفتم", "هشتم", "نهم", "دهم"]
FA_FIRST = ("نخست", "اول")
_EN_NUM = {"1st": 1, "2nd": 2, "3rd": 3, **{f"{n}th": n for n in range(4, 11)}}

# In a question, only adjectival uses count: "the third goal", "its 2nd risk", "سومین هدف" (not "first met",
# "جنگ جهانی دوم").
_Q_EN = re.compile(r"\b(?:the|its|their|his|her|\w+['’]s)\s+(" + "|".join(EN + list(_EN_NUM)) + r")\b", re.I)
_Q_FA = re.compile(r"(?<![\w\u200c])(" + "|".join([w + "ین" for w in FA + list(FA_FIRST)]) + r")(?![\w])")
# "خطر سوم" (the third risk) too, but not the fixed phrases "دهه دوم" (second decade), "جنگ جهانی دوم", ...
_Q_FA_AFTER = re.compile(r"(?<![\w\u200c])(?!(?:دهه|نیمه|قرن|سده|جهانی|جنگ)\s)([\w\u200c]+)\s+(" + "|".join(FA[1:])
                         + r")(?![\w\u200c])")
# At the start of a sentence: "Second, ...", "Thirdly", "سوم؛ ...", "دوم این که ...", "نخست آن که ...".
_S_EN = re.compile(r"^(" + "|".join(EN) + r")(?:ly)?(?=[\s,;:.]|$)", re.I)
_S_FA = re.compile(r"^(" + "|".join(FA + list(FA_FIRST)) + r")(?:ین)?(?=[\s\u200c؛:,،.]|$)")
_MARKER = re.compile(r"^\s*\(?(\d{1,2})\s*[.)\-]\s*$")  # what precedes a list item on its line: "3. ", "(۳) "


def question_ordinal(question: str) -> int | None:
    m = _Q_EN.search(question)
    if m:
        w = m.group(1).lower()
        return _EN_NUM.get(w) or EN.index(w) + 1
    m = _Q_FA.search(question)
    if m:
        return _fa_value(m.group(1)[:-2])
    m = _Q_FA_AFTER.search(question)
    return _fa_value(m.group(2)) if m else None


def sentence_ordinal(text: str, line_prefix: str = "") -> int | None:
    """The ordinal a sentence starts with; ``line_prefix`` is its line's text before it (a list marker)."""
    m = _MARKER.match(_ascii_digits(line_prefix))
    if m:
        return int(m.group(1))
    head = text.lstrip()
    m = _S_EN.match(head)
    if m:
        return EN.index(m.group(1).lower()) + 1
    m = _S_FA.match(head)
    return _fa_value(m.group(1)) if m else None


def _fa_value(word: str) -> int:
    return 1 if word in FA_FIRST else FA.index(word) + 1


def _ascii_digits(s: str) -> str:
    return "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in s)

"""Names across scripts: an English question's proper names matched to their Persian spellings.

The encoder does not know rare names ("Mearsheimer" ~ "مرشایمر"), so the term translator misses them. Both
spellings are reduced to a consonant skeleton (vowels are mostly unwritten in Persian; letters that sound
alike share a class), and a capitalized question word whose skeleton equals that of a Persian word of the
index is bridged to it. Only names the index never spells in Latin script are bridged: a name the English
text already contains needs no bridge, and skipping it keeps English evidence first for English questions.
"""

from __future__ import annotations

import re

_LATIN_PAIRS = [("sh", "S"), ("ch", "C"), ("kh", "X"), ("zh", "Z"), ("gh", "G"), ("th", "t"), ("ph", "f"),
                ("ck", "k"), ("qu", "k"), ("ts", "s"), ("x", "ks")]
_LATIN = {**{c: c for c in "bdfghjklmnprstz"}, "c": "k", "q": "k", **{c: c for c in "SCXZG"}}
_PERSIAN = {"ب": "b", "پ": "p", "ت": "t", "ط": "t", "ث": "s", "س": "s", "ص": "s", "ج": "j", "چ": "C", "ح": "h",
            "ه": "h", "خ": "X", "د": "d", "ذ": "z", "ز": "z", "ض": "z", "ظ": "z", "ر": "r", "ژ": "Z", "ش": "S",
            "غ": "G", "ق": "k", "ف": "f", "ک": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n"}
MIN_SKELETON = 4  # shorter skeletons match too many unrelated words
MAX_MATCHES = 3  # a skeleton shared by more Persian words is ambiguous: no bridge


def latin_skeleton(word: str) -> str:
    w = re.sub(r"c(?=[eiy])", "s", word.lower())
    for pair, cls in _LATIN_PAIRS:
        w = w.replace(pair, cls)
    w = re.sub(r"h\b", "", w)  # a final h is a vowel sign (Dushanbeh, Bukhara(h))
    return re.sub(r"(.)\1+", r"\1", "".join(_LATIN.get(ch, "") for ch in w))


def persian_skeleton(word: str) -> str:
    s = re.sub(r"h$", "", "".join(_PERSIAN.get(ch, "") for ch in word))
    return re.sub(r"(.)\1+", r"\1", s)


class NameBridge:
    def __init__(self, persian_words: list[str]) -> None:
        self.by_skeleton: dict[str, list[str]] = {}
        for w in persian_words:
            k = persian_skeleton(w)
            if len(k) >= MIN_SKELETON:
                self.by_skeleton.setdefault(k, []).append(w)

    def bridge(self, question: str, in_latin_index) -> list[str]:
        """Persian spellings of the question's capitalized words that ``in_latin_index(word)`` says are absent."""
        out: list[str] = []
        for w in re.findall(r"[A-Za-z]+", question)[1:]:  # the first word is capitalized anyway
            if not w[0].isupper():
                continue
            matches = self.by_skeleton.get(latin_skeleton(w), [])
            if 0 < len(matches) <= MAX_MATCHES and not in_latin_index(w):
                out += [m for m in matches if m not in out]
        return out

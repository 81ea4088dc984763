"""Names across scripts: an English question's proper names matched to their Persian spellings.

The encoder does not know rare names ("Mearsheimer" ~ "مرشایمر"), so the term translator misses them. Both
spellings are reduced to a consonant skeleton (vowels are mostly unwritten in Persian; letters that sound
alike share a class), and a capitalized question word whose skeleton equals that of a Persian word of the
index is bridged to it. Only names the index never spells in Latin script are bridged: a name the English
text already contains needs no bridge, and skipping it keeps English evidence first for English questions.
"""

from __future__ import annotations

import re

from verbatim_qa.text.stopwords import is_stop

_LATIN_PAIRS = [("sh", "S"), ("ch", "C"), ("kh", "X"), ("zh", "Z"), ("gh", "G"), ("th", "t"), ("ph", "f"),
                ("ck", "k"), ("qu", "k"), ("ts", "s"), ("x", "ks")]
_LATIN = {**{c: c for c in "bdfghjklmnprstz"}, "c": "k", "q": "k", **{c: c for c in "SCXZG"}}
_PERSIAN = {"ب": "b", "پ": "p", "ت": "t", "ط": "t", "ث": "s", "س": "s", "ص": "s", "ج": "j", "چ": "C", "ح": "h",
            "ه": "h", "خ": "X", "د": "d", "ذ": "z", "ز": "z", "ض": "z", "ظ": "z", "ر": "r", "ژ": "Z", "ش": "S",
            "غ": "G", "ق": "k", "ف": "f", "ک": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n"}


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
    """The index's Persian words by consonant skeleton. ``min_skeleton``: shorter skeletons are not trusted;
    ``max_matches``: a skeleton shared by more words is ambiguous (settings ``name_min_skeleton``,
    ``name_max_matches``)."""

    def __init__(self, persian_words: list[str], *, min_skeleton: int, max_matches: int) -> None:
        self.max_matches = max_matches
        self.by_skeleton: dict[str, list[str]] = {}
        for w in persian_words:
            k = persian_skeleton(w)
            if len(k) >= min_skeleton:
                self.by_skeleton.setdefault(k, []).append(w)

    def bridge(self, question: str, in_latin_index) -> list[str]:
        """Persian spellings of the question's capitalized words that ``in_latin_index(word)`` says are absent."""
        out: list[str] = []
        for w in re.findall(r"[A-Za-z]+", question)[1:]:  # the first word is capitalized anyway
            if not w[0].isupper():
                continue
            matches = self.by_skeleton.get(latin_skeleton(w), [])
            if 0 < len(matches) <= self.max_matches and not in_latin_index(w):
                out += [m for m in matches if m not in out]
        return out


_NAME_RUN = re.compile(r"\b(?:[A-Z][A-Za-z]*|[A-Z]{2,})(?:[ -](?:[A-Z][A-Za-z]*|of|the|and|\d+))*")
_NOT_NAMES = frozenset("i persian farsi english".split())
_ADJECTIVE = re.compile(r"(?:ian|ean|ern|ese|ish)$")


def question_names(question: str) -> list[list[str]]:
    """The question's names: runs of capitalized words ("Shanghai Cooperation Organization", "Uzbekistan"), not
    its first word (capitalized anyway), each as its words ("SCO" stays upper case: an acronym)."""
    out = []
    first = question.lstrip().split(" ", 1)[0].strip("¿¡\"'“(")
    for m in _NAME_RUN.finditer(question):
        words = [w if w.isupper() and len(w) > 1 else w.lower() for w in re.findall(r"[A-Za-z]+", m.group())
                 if w[0].isupper()]
        if m.start() == question.find(first) and words:
            words = words[1:]
        # "South Asian", "Western", "Chinese": an adjective of a name names a kind, not the thing asked about
        if any(w.islower() and _ADJECTIVE.search(w) for w in words):
            continue
        words = [w for w in words if w.lower() not in _NOT_NAMES]
        if words:
            out.append(words)
    return out


def unmentioned(question: str, quotes: list[list[str]], bridge: NameBridge | None,
                names: list[list[str]] | None = None, *, stem: int) -> list[str]:
    """The question's names that no quote mentions. ``quotes``: each quote's search-form tokens (with its
    document's title and file name: a paper mentions its author "Rezapour" there). A name is mentioned by a
    word of any of its words (its first ``stem`` letters), in Persian by a word of the same consonant
    skeleton; where the index spells no word so (``bridge``), a Persian quote cannot be read for it and counts
    as mentioning it. ``names``: ``question_names(question)`` when the caller has it already."""
    return [" ".join(w.lower() for w in words) for words in (question_names(question) if names is None else names)
            if not any(_mentions(quote, words, bridge, stem) for quote in quotes)]


def _mentions(quote: list[str], words: list[str], bridge: NameBridge | None, stem: int) -> bool:
    latin = {t[:stem] for t in quote if t.isascii()}
    if any(w.lower()[:stem] in latin or w.isupper() and _initials(w.lower(), quote) for w in words):
        return True
    persian = [t for t in quote if not t.isascii()]
    if not persian:
        return False
    known = [w.lower() for w in words if bridge is not None
             and 0 < len(bridge.by_skeleton.get(latin_skeleton(w), ())) <= bridge.max_matches]
    if not known:
        return True  # cannot tell
    skeletons = {persian_skeleton(t) for t in persian}
    return any(latin_skeleton(w) in skeletons for w in known)


_PREPOSITIONS = "of|in|for|to|from|with|by|at|on"
_STOP_NAMES = frozenset("the a an this that these those its his her their our in on at for of and but as after "
                        "before during since when while if".split())


def swapped(question: str, name: str, quote: str, own: set[str] | None = None, *, stem: int) -> str | None:
    """Another name where the question has ``name`` (lower case, as ``unmentioned`` gives it): "Uzbekistan's
    public debt" asked, "Kyrgyzstan’s debt" quoted. Slots: the name's possessive ("X's [..] debt"), the noun
    before its preposition ("debt of X"), the noun it modifies ("Uzbek government"). Returns the other name.
    ``own``: the first ``stem`` letters of the question's names' words, when the caller has them."""
    asked = re.search(r"\b" + r"[\s-]+".join(re.escape(w) for w in name.split()) + r"\b", question, re.IGNORECASE)
    if not asked:
        return None
    if own is None:
        own = {w.lower()[:stem] for words in question_names(question) for w in words}
    after = re.findall(r"[^\W\d_]+", question[asked.end():])[:4]
    before = re.findall(r"[^\W\d_]+", question[:asked.start()])[-3:]
    patterns = []
    if re.match(r"['’]s\b", question[asked.end():]):  # X's [adjective ...] head
        for head in [w for w in after[1:4] if _content(w)]:
            patterns.append(rf"\b([A-Z][\w-]+)['’]s\s+(?:[\w-]+\s+){{0,2}}?{re.escape(head)}\w{{0,2}}\b")
    elif after and after[0].islower() and _content(after[0]):  # X head
        patterns.append(rf"\b([A-Z][\w-]+)\s+{re.escape(after[0])}\w{{0,2}}\b")
    if len(before) >= 2 and re.fullmatch(_PREPOSITIONS, before[-1].lower()) and _content(before[-2]):
        patterns.append(rf"\b{re.escape(before[-2])}\w{{0,2}}\s+{before[-1]}\s+(?:the\s+)?([A-Z][\w-]+)")
    elif len(before) >= 3 and before[-1].lower() == "the" and re.fullmatch(_PREPOSITIONS, before[-2].lower()) \
            and _content(before[-3]):
        patterns.append(rf"\b{re.escape(before[-3])}\w{{0,2}}\s+{before[-2]}\s+(?:the\s+)?([A-Z][\w-]+)")
    for rx in patterns:
        for m in re.finditer(rx, quote, re.IGNORECASE):
            other = m.group(1)
            if other[0].isupper() and other.lower() not in _STOP_NAMES and other.lower()[:stem] not in own:
                return other
    return None


def _content(word: str) -> bool:
    return len(word) > 2 and word.lower() not in _STOP_NAMES and not is_stop(word.lower(), "en")


def _initials(acronym: str, tokens: list[str]) -> bool:
    """"sco" in "... shanghai cooperation organization ...": consecutive words with those initials."""
    n = len(acronym)
    return any("".join(t[:1] for t in tokens[i:i + n]) == acronym for i in range(len(tokens) - n + 1))

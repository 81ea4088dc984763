"""Follow-up questions: a standalone search query from the conversation, offline (no model).

Historical query expansion after the TREC CAsT work (Yang et al., 2019): a question that cannot stand alone gets
the salient terms of the earlier turns, and a complete new question stands alone. Two pure functions:

``needs_history(question, lang)`` reads the question only (never the history): a pronoun or demonstrative that
points back ("Who built it?", "آن"), an elliptical opening ("And in Persian sources?", "What about X?",
"... چطور؟", "و ..."), or too few content words of its own to search with.

``standalone(question, history, idf)`` appends, to a question that needs them, the earlier turns' content
terms that are rare in the index (BM25 idf, ``LexicalIndex.idf``), the last question's own first, at most
``max_terms``. Earlier follow-ups are resolved first, so a chain of them keeps its topic. A question that
names something of its own in place of an earlier name ("What about Turkmenistan?" after a question about
Tajikistan) does not carry the earlier name: it is what the question replaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from verbatim_qa.text.lang import detect_lang
from verbatim_qa.text.normalize import tokenize

from .query import content

# Words that point back into the conversation. Not "that" (mostly a relative pronoun or conjunction: "the firm
# that ...", "says that ...") and not "there" after a form of "be" ("Is there an example ...": existential).
EN_POINTERS = frozenset("it its itself they them their theirs themselves he him his she her hers this these those "
                        "there the_same latter former".split())
EN_EXISTENTIAL = frozenset("is are was were be been".split())
EN_OPENINGS = ("and ", "and,", "what about", "how about", "also ", "or ", "same ", "but ", "then ", "what else",
               "anything else", "in persian", "in english", "in the persian", "in the english")
# Persian: "آن"/"این" (that/this), "او"/"وی" (he/she), "آنها"/"اینها" (they), "همین"/"همان" (the same),
# "آنجا"/"اینجا" (there/here), and their plural/object forms; ZWNJ is dropped by the search form.
FA_POINTERS = frozenset(tokenize("آن این او وی آنها اینها ایشان همین همان آنجا اینجا آنان"))  # in search form
FA_OPENINGS = tuple(" ".join(tokenize(w)) + " " for w in ("و", "چطور", "چه طور", "درباره", "در مورد", "همچنین",
                                                          "اما", "پس"))
FA_ENDINGS = tuple(" ".join(tokenize(w)) for w in ("چطور", "چه طور", "چی"))  # "ازبکستان چطور؟" (what about)
# "this paper", "این پژوهش": the documents themselves, not an earlier turn.
DOCUMENT_NOUNS = frozenset(tokenize("paper study article research report document documents text author source "
                                    "sources پژوهش مقاله نوشتار تحقیق متن نویسنده مطالعه گزارش"))
POSSESSIVES = frozenset("its their his her".split())
_NAME = re.compile(r"\b[A-Z][\w'’-]+")  # a capitalized word: a name, in English
# Question words that are no content of a question's own (English ones are stopwords already).
FA_QUESTION_WORDS = frozenset(tokenize("کدام کدامیک کدامها چه چی چند چقدر کجا کی چرا چگونه آیا چطور"))
# "In how many pilot cities?": an English question opening with a preposition and without a verb of its own
# (no auxiliary) is a fragment of the one before; "In what year was the SCO set up?" is not.
EN_PREPOSITIONS = frozenset("in on at by for from with to during since after before under about of".split())
EN_AUXILIARIES = frozenset("is are was were be been do does did has have had can could will would should may might "
                           "must shall".split())
# Light verbs and particles: rare in an index of prose, so their idf is high, yet they name no topic ("set up",
# "came out of"); never carried.
LIGHT_WORDS = frozenset("set up out off get got gets come came comes go went goes make made makes take took takes "
                        "use used uses happen happened put give gave given see seen saw like back away".split())
# A language asked for ("And in the Persian paper?") is no name replacing an earlier one.
LANGUAGE_NAMES = frozenset("persian farsi english".split())
MIN_OWN_TERMS = 2  # fewer content words than this cannot be searched alone ("Why?", "When?", "In 2019?")


def needs_history(question: str, lang: str, tokens: Sequence[str] | None = None) -> bool:
    """Does the question lean on an earlier turn? Decided from its wording alone. ``tokens``: ``tokenize(question)``
    when the caller has it (qa/analyzer.py tokenizes a question once)."""
    q = question.strip().lower()
    tokens = tokenize(question) if tokens is None else list(tokens)
    if len(content(tokens) - FA_QUESTION_WORDS) < MIN_OWN_TERMS:
        return True
    if lang != "fa" and tokens and tokens[0] in EN_PREPOSITIONS and not EN_AUXILIARIES & set(tokens):
        return True
    if lang == "fa":
        form = " ".join(tokens)  # the search form: ZWNJ, alef variants and Arabic letters folded
        if form.startswith(FA_OPENINGS) or form.endswith(FA_ENDINGS):
            return True
        return _points_back(tokens, FA_POINTERS, frozenset())
    if q.startswith(EN_OPENINGS):
        return True
    # "IT company": an acronym is no pronoun
    words = [w.lower() for w in re.findall(r"\w+", question) if not (w.isupper() and len(w) > 1)]
    return _points_back(words, EN_POINTERS, EN_EXISTENTIAL, _owned(question))


def _owned(question: str) -> set[str]:
    """Possessives whose owner the question itself names before them ("did Huawei hold its first ...")."""
    out = set()
    first = question.lstrip().split(" ", 1)[0]
    for m in re.finditer(r"\b(its|their|his|her)\b", question, re.IGNORECASE):
        if any(n.group() != first for n in _NAME.finditer(question[: m.start()])):
            out.add(m.group().lower())
    return out


def _points_back(tokens: list[str], pointers: frozenset[str], existential: frozenset[str],
                 owners: set[str] = frozenset()) -> bool:
    for i, t in enumerate(tokens):
        if t not in pointers:
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if nxt in DOCUMENT_NOUNS:  # "this paper", "این مقاله"
            continue
        if t == "there" and i and tokens[i - 1] in existential:
            continue
        if t in POSSESSIVES and t in owners:
            continue
        return True
    return False


def standalone(question: str, history: Sequence[str], idf: Callable[[str], float], lang: str | None = None,
               max_terms: int = 6, decay: float = 0.5, min_idf: float = 1.0, turns: int = 3) -> str:
    """The search text for ``question``: itself when it stands alone, else itself and the salient earlier terms
    (``carried``).

    ``history``: the earlier questions, oldest first. ``idf``: BM25 idf of a search-form token (rare = high).
    The last question's own terms weigh their idf, the terms it carried from older turns ``idf * decay``; terms
    under ``min_idf`` are too common in the index to say what the conversation is about.
    """
    lang = lang or detect_lang(question)
    tokens = tokenize(question)
    if not needs_history(question, lang, tokens):
        return question
    return carried(question, history, idf, lang, tokens, max_terms, decay, min_idf, turns)


def carried(question: str, history: Sequence[str], idf: Callable[[str], float], lang: str, tokens: Sequence[str],
            max_terms: int = 6, decay: float = 0.5, min_idf: float = 1.0, turns: int = 3) -> str:
    """The search text of a question that needs its history (``needs_history``): itself and the salient terms of
    the earlier turns (``standalone``). ``tokens``: ``tokenize(question)``."""
    earlier = [h for h in history if h and h.strip()][-turns:]
    if not earlier:
        return question
    resolved: list[str] = []
    for n, turn in enumerate(earlier):  # an earlier follow-up is read with the turns before it
        resolved.append(standalone(turn, resolved, idf, None, max_terms, decay, min_idf, turns)
                        if n else turn)
    own = set(tokens)
    replaced = _replaced_names(question, resolved[-1]) if lang != "fa" and _elliptical(question, tokens) else set()
    weights: dict[str, float] = {}
    # the last turn as resolved (an earlier follow-up already carries what it needed from the turns before it);
    # older turns' own rare words are not carried: in a long chat they steered "Who built it?" to a question
    # asked three turns back (the browser test of the whole session). The last turn's own words weigh their
    # idf, the words it carried ``decay`` of it: a chain keeps its topic, the last question's subject first.
    last = tokenize(earlier[-1])
    last_own = set(last)
    for t in content(last if resolved[-1] == earlier[-1] else tokenize(resolved[-1])):
        if t in own or t in replaced or t in LIGHT_WORDS or t.isdigit() and len(t) < 3:
            continue
        w = idf(t)
        if w < min_idf:
            continue
        weights[t] = w if t in last_own else w * decay
    chosen = sorted(weights, key=lambda t: (-weights[t], t))[:max_terms]
    if not chosen:
        return question
    return f"{question.strip()} {' '.join(chosen)}"


def _elliptical(question: str, tokens: Sequence[str]) -> bool:
    """"What about Turkmenistan?", "And Kazakhstan?": an opening and a name or two, nothing else asked."""
    own = content(tokens)
    return question.strip().lower().startswith(EN_OPENINGS) and len(own) <= MIN_OWN_TERMS


def _replaced_names(question: str, previous: str) -> set[str]:
    """The previous turn's names (capitalized, not its first word) when the question brings a name of its own."""
    def names(text: str) -> set[str]:
        first = text.lstrip().split(" ", 1)[0]
        return {m.group() for m in _NAME.finditer(text) if m.group() != first}

    mine = {n for n in names(question) if n.lower() not in LANGUAGE_NAMES}
    if not mine:
        return set()
    return {t for n in names(previous) for t in tokenize(n)} - {t for n in mine for t in tokenize(n)}



def questions_of(history: Sequence) -> tuple[str, ...]:
    """The earlier questions of a history given as questions (str), ``{"question", "answer"?}`` objects or
    ``(question, answer)`` pairs, oldest first; blank ones dropped. ValueError for anything else."""
    return tuple(q for q, _ in turns_of(history) if q)


def turns_of(history: Sequence) -> list[tuple[str, str]]:
    """(question, answer) per earlier turn ('' where no answer is known)."""
    out = []
    for h in history or ():
        if isinstance(h, str):
            q, a = h, ""
        elif isinstance(h, dict) and isinstance(h.get("question"), str):
            q, a = h["question"], h.get("answer") or ""
        elif isinstance(h, list | tuple) and len(h) == 2 and all(isinstance(x, str) for x in h):
            q, a = h
        else:
            raise ValueError(f"a history turn is a question, or an object with a 'question': not {h!r:.60}")
        if not isinstance(a, str):
            raise ValueError("a history turn's 'answer' must be text")
        out.append((q.strip(), a.strip()))
    return out

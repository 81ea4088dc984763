"""From picked sentences to the answer: quotes, the key fact (``answer_span``) and what is not stated (``caveat``).

The key fact is the typed span (qa/answertype.py) of a quote nearest to the question's own words there, that is
not itself one of the question's words; best quote first. The caveat says when no quote carries the kind of
answer asked for (a "how much" answered with no figure, a "when" with no date): the nearest quotes are still
listed, and the reader is told they do not state it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verbatim_qa.settings import Settings
from verbatim_qa.text.normalize import normalize_map, tokenize
from verbatim_qa.text.reading import needs_reading, reading
from verbatim_qa.text.stopwords import is_stop
from verbatim_qa.types import AnswerSpan, Citation, ScoredChunk

from .answer import Answer, citation_for
from .answertype import asked_first, asked_unit, counted, typed_spans, unit_hints
from .candidate import Candidate
from .keyfact import (
    SPAN_TYPES,
    Placed,
    close_enough,
    function_word,
    multi_part,
    ordinal,
    own_words,
    script_fits,
    unambiguous,
)
from .names import NameBridge, question_names, swapped, unmentioned
from .query import Query

_WHAT = {"number": "the figure asked for", "date": "the date asked for", "person": "who it was",
         "name": "the name asked for", "reason": "the reason asked for"}


@dataclass(frozen=True)
class Read:
    """One quote read once for the question: its spans of the kind asked for and where the question's terms are."""
    citation: Citation
    spans: tuple[tuple[int, int], ...]  # typed_spans of the question's answer type ((): none asked or none there)
    anchors: tuple[tuple[int, str], ...]  # _anchors of the question's content terms
    same_lang: bool  # in the question's language
    lang: str  # the quote's language
    readable: bool  # the question's words can be looked for in it: its language, or Persian through the term bridge

    @property
    def quote(self) -> str:
        return self.citation.quote


def compose(query: Query, picked: list[Candidate], retrieved: list[ScoredChunk], s: Settings,
            unmatched: tuple[str, ...] = (), bridge: NameBridge | None = None, lead: float = float("inf")) -> Answer:
    """Join neighbouring sentences of one chunk into one quote, number the quotes, and find the key fact, the
    caveat and the language note. ``bridge``: the index's Persian words by consonant skeleton (qa/names.py), to
    read Persian quotes for English names; ``s``: the settings (``span_*`` and ``name_stem`` are read here);
    ``lead``: the best sentence's score above the next other one (qa/extractive.py ``lead``)."""
    groups = quote_groups(picked)
    citations = [citation_for(n, g[0].chunk, g[0].sentence.char_start, g[-1].sentence.char_end)
                 for n, g in enumerate(groups, 1)]
    reads = [read(query, c, g[0].chunk.lang) for c, g in zip(citations, groups)]
    span = key_span(query, reads, s, bridge) if lead >= s.answers.span_min_lead else None
    caveat = not_stated(query, reads, s, unmatched, bridge) or off_subject(query, reads, span, bridge, s)
    return Answer(query.text, False, citations, retrieved, answer_span=None if caveat else span, caveat=caveat,
                  language_note=language_note(query.lang, {g[0].chunk.lang for g in groups}),
                  quoted=tuple(c.n for c in citations))


def quote_groups(picked: list[Candidate]) -> list[list[Candidate]]:
    """The picked sentences as quotes: neighbours in one chunk joined, best evidence first."""
    groups: list[list[Candidate]] = []
    for c in sorted(picked, key=lambda c: (c.chunk.chunk_id, c.index)):
        last = groups[-1][-1] if groups else None
        if last is not None and last.chunk.chunk_id == c.chunk.chunk_id and c.index == last.index + 1:
            groups[-1].append(c)
        else:
            groups.append([c])
    groups.sort(key=lambda g: -max(c.score for c in g))  # best evidence first
    return groups


def language_note(question_lang: str, evidence_langs: set[str]) -> str | None:
    """Said above the quotes when some are Persian and the question is not: they are quoted, never translated."""
    if question_lang == "fa" or "fa" not in evidence_langs:
        return None
    if evidence_langs == {"fa"}:
        return "The evidence is in Persian; quoted verbatim, not translated:"
    return "Part of the evidence is in Persian; quoted verbatim, not translated:"


def read(query: Query, c: Citation, lang: str) -> Read:
    kind = query.answer_type
    return Read(c, tuple(typed_spans(c.quote, kind)) if kind in SPAN_TYPES else (),
                tuple(_anchors(c.quote, query.content_terms)), lang == query.lang, lang,
                lang == query.lang or lang == "fa" and bool(query.translation))


def key_span(query: Query, reads: list[Read], s: Settings, bridge: NameBridge | None = None) -> AnswerSpan | None:
    """The key fact (qa/keyfact.py): the best placed typed span of the first quote that has one, when every rule
    holds; else None, and the answer leads with its best quote."""
    kind = query.answer_type
    if kind not in s.answers.span_types.split(",") or multi_part(query.text) or not asked_first(query.text, query.lang):
        return None
    for r in reads[: s.answers.span_quotes]:
        if not r.readable:  # a German or Chinese quote of an English question shares only its names: unsure
            return None
        if not r.same_lang and not s.answers.span_cross_lang:  # placed through the term bridge: often another
            return None  # figure of the sentence (docs/measurements.md#key-fact-across-languages)
        placed = placed_spans(query, r, s)
        if not placed:
            continue
        best = min(placed, key=lambda p: (p.key(), p.dist, p.start))
        if not (close_enough(best.near, len(query.content_terms), s.answers.span_min_near)
                and unambiguous(best, placed) and _names_in(query, r, bridge, s)):
            return None
        c, a, b = r.citation, best.start, best.end
        if kind == "date" and _YEAR_ASKED.search(query.text):  # "what year": the year, not the full date
            if len(set(_YEAR.findall(c.quote, a, b))) > 1:  # "from 2005 to 2014" for "which year": either may be it
                return None
            year = _YEAR.search(c.quote, a, b)
            if year is not None:
                a, b = year.span()
        text = c.quote[a:b]
        return AnswerSpan(text, c.source, c.char_start + a, c.char_start + b,
                          reading(text) if needs_reading(text, query.lang) else None)
    return None


def placed_spans(query: Query, r: Read, s: Settings) -> list[Placed]:
    """The quote's spans of the kind asked for that could be the key fact, each with its place among the question's
    words: none of the question's own words ("Super Bowl XXXIII" for "Who sang at Super Bowl 50?", see
    docs/measurements.md#key-span-shares-no-question-word), in a script that fits, not a function word in capitals,
    and beside the unit or counted noun the question asks for when it names one the quote's language can have."""
    kind, quote, asked = query.answer_type, r.quote, set(query.tokens)
    spans = [(a, b) for a, b in r.spans if not own_words(quote[a:b], asked)
             and script_fits(quote[a:b], quote, r.lang, kind) and not function_word(quote[a:b], r.lang)]
    if kind == "person":  # a person is mostly named with two words or more ("Chinese" is not one)
        spans = [sp for sp in spans if " " in quote[sp[0] : sp[1]]] or spans
    hints = unit_hints(query.text) if kind == "number" else ()
    placed = [Placed(a, b, _coverage((a, b), _same_sentence(quote, (a, b), r.anchors), s.answers.span_window),
                     _hinted(quote, (a, b), hints, s.answers.span_hint_before, s.answers.span_hint_after), False,
                     min((abs(a - x) for x, _ in r.anchors), default=0)) for a, b in spans]
    nouns = counted(query.text) if kind == "number" else ()
    if nouns and r.same_lang:  # "how many officers" is answered by a count of officers (told in its language)
        placed = [p for p in placed if _hinted(quote, (p.start, p.end), nouns, s.answers.span_hint_before,
                                          s.answers.span_hint_after)]
    if _HOW_MANY.search(query.text):  # a count is a cardinal: "ششمین" (sixth) does not say how many
        placed = [p for p in placed if not ordinal(quote[p.start:p.end])]
    units = [h for h in hints if h not in nouns]
    if units:  # "how much … in dollars" by a sum ("۴۱ میلیارد دلار"), a "what percentage" by a percentage
        placed = [p for p in placed if _hinted(quote, (p.start, p.end), tuple(units), 0, s.answers.span_hint_after)]
    return placed


def _same_sentence(quote: str, span: tuple[int, int], anchors: tuple[tuple[int, str], ...]) -> list[tuple[int, str]]:
    """The anchors in the span's own sentence: a quote joining the next sentence ("China’s current relationship …"
    after "Kyrgyzstan … opened a new police center …") does not lend it the first one's words."""
    ends = [m.end() for m in _SENTENCE_END.finditer(quote)]
    start = max((e for e in ends if e <= span[0]), default=0)
    end = min((e for e in ends if e > span[1]), default=len(quote))
    return [(x, t) for x, t in anchors if start <= x < end]


_HOW_MANY = re.compile(r"\bhow (?:many|much)\b|چند(?!مین)|چقدر|چه\s*تعداد", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?؟。！？](?=\s)|\n")


def _names_in(query: Query, r: Read, bridge: NameBridge | None, s: Settings) -> bool:
    """The quote holding the key fact mentions every name of the question (its title and file name count): a year
    of the SCO is not the year Turkmenistan joined it."""
    words = tokenize(" ".join([r.quote, r.citation.title or "", r.citation.source]))
    return not unmentioned(query.text, [words], bridge, stem=s.answers.name_stem)


def _hinted(text: str, span: tuple[int, int], hints: tuple[str, ...], before: int, after: int) -> bool:
    """Does the span (or the ``after`` words right after it, or ``before`` characters before it) hold one of the
    hint words ("11 points" for "how many points", "two extended metropolitan areas" for "how many … areas")? A
    word is matched from its start, on its first letters (``_stem``)."""
    if not hints:
        return False
    near = " ".join([text[max(0, span[0] - before) : span[1]], *text[span[1]:].split()[:after]]).lower()
    stems = [_stem(h) for h in hints]
    return any(re.search(rf"(?<!\w){re.escape(w)}" if w[0].isalnum() else re.escape(w), near) for w in stems)


def _stem(word: str) -> str:
    """A hint word's first letters ("points" -> "poin", "متره" -> "متر"), longer when those make a function word
    ("areas" -> "area", not "are")."""
    stem = word[: max(3, len(word) - 2)]
    return word[:-1] if len(word) > 3 and (is_stop(stem, "en") or is_stop(stem, "fa")) else stem


def not_stated(query: Query, reads: list[Read], s: Settings, unmatched: tuple[str, ...],
               bridge: NameBridge | None = None) -> str | None:
    """A caveat when the documents never mention a word of the question (its key concept: a GDP), or when no
    quote carries the kind of answer asked for (numbers and dates only: names cannot be told in Persian script,
    reasons are phrased too many ways)."""
    named = [w for w in (_as_asked(query.text, w) for w in unmatched) if _is_name(w, query.text)]
    if named:  # a name or acronym cannot be paraphrased away; an ordinary word can ("rebranded" ~ "renamed")
        words = ", ".join(named)
        return f"The passages below are the nearest the documents have, but none mentions {words}."
    swap = _swap(query, reads, bridge, s)
    if swap:  # a name the documents have, but none of the quotes: Uzbekistan's debt asked, Kyrgyzstan's quoted
        return f"The passages below speak of {swap[1]}; none of them mentions {swap[0]}."
    kind = query.answer_type
    if kind not in ("number", "date"):
        return None
    # a figure in a quote the question's words cannot be looked for in (Chinese) counts as anchored: see
    # docs/measurements.md#anchored
    if not any(_coverage(sp, r.anchors, s.answers.span_window) >= s.answers.span_anchored
               for r in reads if r.readable for sp in r.spans) and not any(r.spans for r in reads if not r.readable):
        return f"The passages below are the nearest the documents have, but none states {_WHAT[kind]}."
    if reads[0].readable and not reads[0].spans:  # the best evidence has no figure (date): one in a weaker quote
        # rarely answers (PersianQA's unanswerable questions beside a paragraph's other figures): see
        # docs/measurements.md#unanswerable-questions
        return f"The nearest passage does not state {_WHAT[kind]}; the others may not answer the question either."
    unit = asked_unit(query.text) if kind == "number" else None
    if unit is not None and not any(unit[1].search(r.quote[sp[0]:sp[1] + s.answers.span_unit_near])
                                    for r in reads for sp in r.spans):
        return f"The passages below give figures, but none in {unit[0]}."
    nouns = counted(query.text) if kind == "number" else ()
    if nouns and all(r.same_lang for r in reads) and not any(
            _hinted(r.quote, sp, nouns, s.answers.span_hint_before, s.answers.span_hint_after)
            for r in reads for sp in r.spans):
        # "How many officers …" answered by quotes whose numbers count something else (checked in one language)
        return f"The passages below give figures, but none counts {' '.join(nouns)}."
    return None


def off_subject(query: Query, reads: list[Read], span: AnswerSpan | None,
                bridge: NameBridge | None, s: Settings) -> str | None:
    """A caveat when the quote holding the key fact has another name where the question has one of its own."""
    if span is None or multi_part(query.text):
        return None  # a question of several parts: the key fact answers one of them
    (holder,) = [r for r in reads
                 if r.citation.source == span.source and r.citation.char_start <= span.char_start < r.citation.char_end]
    swap = _swap(query, [holder], bridge, s)
    if swap:
        return f"The passage with {span.text} speaks of {swap[1]}, not {swap[0]}: it may not be the answer asked for."
    return None


def _swap(query: Query, reads: list[Read], bridge: NameBridge | None, s: Settings) -> tuple[str, str] | None:
    """(the question's name, the other name) when no quote mentions a name of the question and a quote has
    another name in its place (qa/names.py ``swapped``): a missing name alone caveated answers about the
    article's subject ("Warsaw's inhabitants in 1901"), see docs/measurements.md#name-swap-caveat."""
    if query.lang == "fa":
        return None
    names = question_names(query.text)
    if not names:
        return None
    quotes = [tokenize(" ".join([r.quote, r.citation.title or "", r.citation.source])) for r in reads]
    own = {w.lower()[: s.answers.name_stem] for words in names for w in words}
    for name in unmentioned(query.text, quotes, bridge, names, stem=s.answers.name_stem):
        for r in reads:
            other = swapped(query.text, name, r.quote, own, stem=s.answers.name_stem)
            if other:
                return _as_asked(query.text, name), other
    return None


def _is_name(word: str, question: str) -> bool:
    """Capitalized or an acronym, and not merely the question's first word."""
    return any(ch.isupper() for ch in word) and not question.lstrip().startswith(word)


def _as_asked(question: str, word: str) -> str:
    """``word`` (a search-form token) as the question spells it."""
    m = re.search(rf"\b{re.escape(word)}\b", question, re.IGNORECASE)
    return m.group() if m else word


def refusal(question: str, retrieved: list[ScoredChunk]) -> Answer:
    """The documents do not answer; the nearest passages (three at most) are named."""
    nearest = tuple((r.chunk.source, r.chunk.section) for r in retrieved[:3])
    return Answer(question, True, [], retrieved, nearest=nearest)


_YEAR_ASKED = re.compile(r"\b(?:what|which|in what|what) year\b|چه\s*سالی|در\s*چه\s*سال|سال\s*چند", re.IGNORECASE)
_YEAR = re.compile(r"(?<![0-9۰-۹])(?:[1۱][0-9۰-۹]|[2۲][0۰])[0-9۰-۹]{2}(?![0-9۰-۹])")
def _coverage(span: tuple[int, int], anchors: list[tuple[int, str]], window: int) -> int:
    """How many distinct question terms occur within ``window`` characters of the span: the sliding-window idea
    of the SQuAD baselines."""
    return len({t for x, t in anchors if span[0] - window <= x <= span[1] + window})


def _anchors(text: str, terms: frozenset[str]) -> list[tuple[int, str]]:
    """(original offset, term) in ``text`` where the question's content terms occur (matched on the search form)."""
    if not terms:
        return []
    form, where = normalize_map(text)
    out = []
    for m in re.finditer(r"\w+", form):
        if m.group() in terms:
            out.append((where[m.start()], m.group()))
    return out

"""A line of glyphs in visual order -> logical order, by the Unicode bidirectional algorithm (python-bidi).

Reordering by resolved levels is its own inverse, so the algorithm run on the visual string with the paragraph's
direction gives back the logical order, as long as every glyph gets the level the drawing program gave it. Strong
letters do; neutrals (punctuation, spaces) and numbers next to a run of the other direction may not, because the
drawing program resolved them over the whole paragraph and their neighbours in logical order, which a visual line
does not show. Two steps put them right:

1. Levels resolved again with the paragraph's context (``context`` before the line, ``after`` it).
2. A reading with a typographic slip ("(,Leksyutina", "2016 :9)": closing punctuation after an opening bracket
   or a space) tries the other level for each neutral run touching a run of the other direction, and keeps a
   change that reads cleaner and is consistent: resolving the new reading again gives the levels it was built
   from, so it is a logical text the drawing program would have drawn exactly so. On the Persian corpus printed
   by Chromium this took the sentences read in logical order from 181/183 to 183/183.
"""

from __future__ import annotations

import re
from unicodedata import bidirectional, mirrored

from bidi import algorithm as uba
from bidi.mirror import MIRRORED

# closing punctuation right after an opening bracket or a space, or an opening bracket before a space
_SLIP = re.compile(r"[(\[{«]\s*[,.;:!?،؛)\]}»]|\s[,.;:!?،؛)\]}»]|[(\[{«]\s")
_NEUTRAL = {"CS", "ON", "WS", "ES", "ET"}
MAX_TRIES = 24  # neutral runs (and their ends) tried per line with a slip: a citation's line has 4-10


def resolved(visual: str, base: str) -> tuple[list[int], list[tuple[str, int]]]:
    """The levels of ``visual`` resolved without context, and its order by them (the first step of ``logical``,
    kept by a caller that reads one line in several contexts)."""
    levels = [level for _, level in _levels(visual, base)]
    return levels, _order(visual, base, levels)


def logical(visual: str, base: str, context: str = "", after: str = "",
            start: tuple[list[int], list[tuple[str, int]]] | None = None) -> list[tuple[str, int]]:
    """(character, index in ``visual``) in logical order. ``base``: the paragraph direction ("L" or "R");
    ``context``: the paragraph's logical text before this line; ``after``: the next line's first reading;
    ``start``: ``resolved(visual, base)`` when the caller has it."""
    context, after = _near(context, after)
    first_levels, first = start if start is not None else resolved(visual, base)
    levels, order = first_levels, first
    if context or after:
        # "(… China, 2024: 4-13)" broken after "China,": the comma resolves to the Latin run only with "2024"
        # after it. Measured on the Persian test PDF: paragraphs with every number right 31/34 -> 33/34.
        ctx = _levels(context + "".join(visual[i] for _, i in first) + after, base)[len(context):]
        by_index = {i: level for (_, i), (_, level) in zip(first, ctx)}
        levels = [by_index[i] for i in range(len(visual))]
        if levels != first_levels:  # the context changed a level: order again (most lines: it changed none)
            order = _order(visual, base, levels)
    if not _SLIP.search(_text(order)):
        return order
    slips = len(_SLIP.findall(context[-1:] + _text(order) + after[:1]))
    lo = uba.PARAGRAPH_LEVELS[base]
    for part in _neutral_parts(visual, levels, lo)[:MAX_TRIES]:
        trial = list(levels)
        for i in part:
            trial[i] = lo + 1 if levels[i] == lo else lo  # the other of the two levels a line of this base has
        cand = _order(visual, base, trial)
        n = len(_SLIP.findall(context[-1:] + _text(cand) + after[:1]))
        if n < slips and _consistent(cand, trial, base, context, after):
            levels, order, slips = trial, cand, n
    return order


_STRONG = {"L", "R", "AL"}
_EXPLICIT = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _near(context: str, after: str) -> tuple[str, str]:
    """The context from its last strong letter and ``after`` up to its first: the line's levels depend on no
    more (rules W2, W7 and N1 look no further than the nearest strong letter; without explicit embeddings), and
    resolving 200 characters either side of every line was most of a right-to-left line's cost."""
    if _EXPLICIT.search(context) or _EXPLICIT.search(after):
        return context, after
    a = next((k for k in range(len(context) - 1, -1, -1) if uba.bidirectional(context[k]) in _STRONG), 0)
    b = next((k + 1 for k, ch in enumerate(after) if uba.bidirectional(ch) in _STRONG), len(after))
    return context[a:], after[:b]


def _text(order: list[tuple[str, int]]) -> str:
    return "".join(ch for ch, _ in order)


def _neutral_parts(visual: str, levels: list[int], lo: int) -> list[list[int]]:
    """Runs of neutral glyphs (visual indices, one level) inside or next to a run of the other direction, and
    their beginnings and ends: a line's "Leksyutina,( " is one run of which only "," belongs to the Latin."""
    runs: list[list[int]] = []
    for i, ch in enumerate(visual):
        if uba.bidirectional(ch) not in _NEUTRAL or levels[i] > lo + 1:
            continue
        if runs and runs[-1][-1] == i - 1 and levels[i] == levels[i - 1]:
            runs[-1].append(i)
        else:
            runs.append([i])
    out: list[list[int]] = []
    for run in runs:
        a, b = run[0] - 1, run[-1] + 1
        near = [levels[k] for k in (a, b) if 0 <= k < len(levels)] + [levels[run[0]]]
        if all(v == lo for v in near):
            continue  # a space between two words of the paragraph's direction
        for part in [run] + [run[:k] for k in range(1, len(run))] + [run[k:] for k in range(1, len(run))]:
            if part not in out and not all(visual[i].isspace() for i in part):
                out.append(part)
    return sorted(out, key=len)  # the smallest change first


def _consistent(order: list[tuple[str, int]], levels: list[int], base: str, context: str, after: str) -> bool:
    """Does the reading ``order``, resolved again in its context, give each glyph the level it was built from?"""
    ctx = _levels(context + _text(order) + after, base)[len(context):]
    return all(level == levels[i] for (_, i), (ch, level) in zip(order, ctx) if not ch.isspace())


_FALLBACK = set(uba.X9_REMOVED) | {"B"}  # types python-bidi's storage drops (rule X9) or cuts lines at


def _order(visual: str, base: str, levels: list[int]) -> list[tuple[str, int]]:
    """``visual`` reordered by ``levels`` (rules L1-L2, brackets mirrored at odd levels): python-bidi's
    reordering (``reorder_resolved_levels``, ``apply_mirroring``) done on plain lists, without its per-character
    storage (that was a third of the XeTeX Persian book's load). A line with an explicit embedding, a
    boundary neutral or a paragraph separator goes through python-bidi itself."""
    types = [bidirectional(ch) for ch in visual]
    if _FALLBACK.intersection(types):
        return _order_by_library(visual, base, levels)
    base_level = uba.PARAGRAPH_LEVELS[base]
    lv = list(levels)
    reset = True
    for i in range(len(visual) - 1, -1, -1):  # L1: segment separators and the whitespace before them, trailing
        t = types[i]
        if t == "S":
            lv[i], reset = base_level, True
        elif reset and t == "WS":
            lv[i] = base_level
        else:
            reset = False
    idx = list(range(len(visual)))
    odd = [v for v in lv if v % 2]
    if odd:  # L2: from the highest level to the lowest odd one, reverse every run at that level or higher
        for level in range(max(lv), min(odd) - 1, -1):
            i, n = 0, len(idx)
            while i < n:
                if lv[i] < level:
                    i += 1
                    continue
                j = i
                while j < n and lv[j] >= level:
                    j += 1
                idx[i:j], lv[i:j] = idx[i:j][::-1], lv[i:j][::-1]
                i = j
    return [(MIRRORED.get(visual[k], visual[k]) if v % 2 and mirrored(visual[k]) else visual[k], k)
            for k, v in zip(idx, lv)]


def _order_by_library(visual: str, base: str, levels: list[int]) -> list[tuple[str, int]]:
    storage = uba.get_empty_storage()
    storage["base_level"] = uba.PARAGRAPH_LEVELS[base]
    storage["base_dir"] = base
    uba.get_embedding_levels(visual, storage)
    if any(ch["type"] in uba.X9_REMOVED for ch in storage["chars"]):  # rule X9 drops them (embeddings, BN)
        uba.explicit_embed_and_overrides(storage, False)
    for i, ch in enumerate(storage["chars"]):
        ch["index"], ch["level"] = i, levels[i]
    uba.reorder_resolved_levels(storage, False)
    uba.apply_mirroring(storage, False)
    return [(ch["ch"], ch["index"]) for ch in storage["chars"]]


_SIMPLE = {"L", "R", "AL", "EN", "ES", "ET", "AN", "CS", "NSM", "S", "WS", "ON"}  # no embeddings, isolates, BN, B
_NEUTRALS = {"B", "S", "WS", "ON"}


def _levels(text: str, base: str) -> list[tuple[str, int]]:
    """(character, resolved embedding level) of ``text`` (rules X1-I2), as python-bidi resolves them. Text of
    the types a line of a page has (no explicit embeddings or isolates, boundary neutrals, paragraph breaks) is
    one level run at the paragraph's level: python-bidi's weak and neutral rules are run here on plain lists
    (its per-character storage was most of the cost of resolving; tests/test_pdf_text.py checks the two agree
    on generated text); anything else goes through python-bidi itself."""
    types = [bidirectional(ch) for ch in text]
    if not _SIMPLE.issuperset(types):
        return _levels_by_library(text, base)
    lo = uba.PARAGRAPH_LEVELS[base]
    sor = "R" if lo % 2 else "L"
    # W1-W3: marks take the type before them, numbers after an Arabic letter are Arabic numbers, AL is R
    prev_strong = prev = sor
    for i, t in enumerate(types):
        if t == "NSM":
            t = types[i] = prev
        if t == "EN" and prev_strong == "AL":
            types[i] = "AN"
        if t in ("R", "L", "AL"):
            prev_strong = t
        prev = types[i]
    types = ["R" if t == "AL" else t for t in types]
    # W4: a single separator between two numbers of one kind
    for i in range(1, len(types) - 1):
        t, a, b = types[i], types[i - 1], types[i + 1]
        if t == "ES" and a == b == "EN":
            types[i] = "EN"
        if t == "CS" and a == b and a in ("AN", "EN"):
            types[i] = a
    # W5: terminators next to European numbers
    for i in range(len(types)):
        if types[i] == "EN":
            for j in range(i - 1, -1, -1):
                if types[j] != "ET":
                    break
                types[j] = "EN"
            for j in range(i + 1, len(types)):
                if types[j] != "ET":
                    break
                types[j] = "EN"
    # W6-W7
    prev_strong = sor
    for i, t in enumerate(types):
        if t in ("ET", "ES", "CS"):
            t = types[i] = "ON"
        if t == "EN" and prev_strong == "L":
            t = types[i] = "L"
        if t in ("L", "R"):
            prev_strong = t
    # N1-N2, with the run's start and end (sor, eor: the paragraph's direction) around it
    seq = [sor] + types + [sor]
    start = None
    for i, t in enumerate(seq):
        if t in _NEUTRALS:
            if start is None:
                start = i
            continue
        if start is not None:
            a, b = seq[start - 1], t
            a = "R" if a in ("AN", "EN") else a
            b = "R" if b in ("AN", "EN") else b
            seq[start:i] = [a if a == b else sor] * (i - start)
            start = None
    # I1-I2
    odd = lo % 2
    levels = [lo + (0 if t == ("R" if odd else "L") else 2 if not odd and t != "R" else 1) for t in seq[1:-1]]
    return list(zip(text, levels))


def _levels_by_library(text: str, base: str) -> list[tuple[str, int]]:
    storage = uba.get_empty_storage()
    storage["base_level"] = uba.PARAGRAPH_LEVELS[base]
    storage["base_dir"] = base
    uba.get_embedding_levels(text, storage)
    uba.explicit_embed_and_overrides(storage, False)
    uba.resolve_weak_types(storage, False)
    uba.resolve_neutral_types(storage, False)
    uba.resolve_implicit_levels(storage, False)
    return [(ch["ch"], ch["level"]) for ch in storage["chars"]]

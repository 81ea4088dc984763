"""Sentence segmentation and structure-aware chunking, all as exact spans of the original text.

Persian ends sentences with '.', '!' and '؟' ('،' and '؛' are a comma and a semicolon); English needs
abbreviations, initials and decimals kept whole; Russian too (pysbd's list of Russian abbreviations), and a
Russian sentence never starts in lower case, so a period before a lower-case Cyrillic word ends none ("2015 г.
при"). Chinese and Japanese end sentences with '。', '！' and '？' and no space after them; Urdu with '۔'.
Blank lines end sentences unless a block obviously runs
on (no terminal punctuation, long, next block not a heading or footnote): PDF page breaks cut sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pysbd.lang.russian import Russian

from verbatim_qa.types import Section, Sentence

from .lang import CASELESS_SCRIPTS, script_of
from .roles import block_role

_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "al", "fig", "no", "vol",
    "pp", "ed", "eds", "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "approx", "cf", "ca", "dept", "univ", "gen", "gov",
} | {a for a in Russian.Abbreviation.ABBREVIATIONS if not a.isascii()}
_UNSPACED_TERMINALS = "。！？｡"  # Chinese/Japanese: the next sentence follows without a space
_TERMINALS = ".!?؟…۔।" + _UNSPACED_TERMINALS
_CLOSERS = "\"'”’»)]}*」』）》】〉"
_CASELESS = CASELESS_SCRIPTS
_CYRILLIC_RE = re.compile("[\u0400-\u04ff]")
_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_LIST_RE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_MARKUP_RE = re.compile(r"<sup>.*?</sup>|</?\w+>|\*\*|__|`")
_WORD_WINDOW = 40  # longest word looked at before a period


def clean_heading(text: str) -> str:
    text = re.sub(r"[ \t]+#+[ \t]*$", "", _MARKUP_RE.sub("", text).strip())  # closing '##' of ATX headings
    return " ".join(text.lstrip("#").split())


@dataclass(frozen=True)
class Block:
    """A paragraph-like region: a heading line, a list item or a run of lines between blank lines."""

    start: int
    end: int
    heading_level: int = 0  # 0 = not a heading
    role: str = ""  # the loader's role from the page layout ("" when the text's shape decides)


Layout = tuple[tuple[int, int, str], ...]
_FLOW = ("", "body")  # roles of running text: a paragraph may run on into the next one (across a page break)
_TABLE_LEVEL = 8  # a table's header row: a section below every heading, closed by the first non-row block


def _layout_blocks(text: str, layout: Layout) -> list[Block]:
    """The loader's paragraphs as blocks (a heading's level from its role "h1".."h6"); text outside them (pages
    read by OCR) split as plain text."""
    blocks: list[Block] = []
    pos = 0
    for start, end, role in sorted(layout):
        if start > pos:
            blocks += _shift(_blocks(text[pos:start]), pos)
        level = int(role[1]) if len(role) == 2 and role[0] == "h" and role[1].isdigit() else 0
        if role == "th":
            level = _TABLE_LEVEL
        blocks.append(Block(start, end, level, role or "body"))
        pos = max(pos, end)
    if pos < len(text):
        blocks += _shift(_blocks(text[pos:]), pos)
    return blocks


def _shift(blocks: list[Block], by: int) -> list[Block]:
    return [Block(b.start + by, b.end + by, b.heading_level, b.role) for b in blocks]


def _blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    pos = 0
    para_start: int | None = None
    para_end = 0

    def flush():
        nonlocal para_start
        if para_start is not None:
            blocks.append(Block(para_start, para_end))
            para_start = None

    fence = ""
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        lead = start + (len(line) - len(line.lstrip()))
        tail = start + len(line.rstrip())
        if stripped[:3] in ("```", "~~~"):
            fence = "" if fence == stripped[:3] else fence or stripped[:3]
        m = None if fence else _HEADING_RE.match(stripped)
        if m:
            flush()
            blocks.append(Block(lead, tail, len(m.group(1))))
        elif _LIST_RE.match(line):
            flush()
            para_start, para_end = lead, tail
        else:
            if para_start is None:
                para_start = lead
            para_end = tail
    flush()
    return _mark_heading_like(text, blocks)


def _mark_heading_like(text: str, blocks: list[Block]) -> list[Block]:
    """Plain-text heading: a short single line without terminal punctuation, followed by a longer block."""
    out = []
    for i, b in enumerate(blocks):
        body = text[b.start : b.end]
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if (
            b.heading_level == 0
            and "\n" not in body
            and 3 <= len(body) <= 80
            and body[-1] not in _TERMINALS + ":,;،؛"
            and not body.startswith("<sup>")
            and (body[0].isupper() or script_of(body) in _CASELESS)
            and nxt is not None
            and nxt.heading_level == 0
            and (nxt.end - nxt.start) > 2 * len(body)
        ):
            out.append(Block(b.start, b.end, 7))  # 7: heading-like, below every markdown level
        else:
            out.append(b)
    return out


def _runs_on(text: str, block: Block, nxt: Block) -> bool:
    body = text[block.start : block.end].rstrip(_CLOSERS)
    following = text[nxt.start : nxt.end]
    return (
        block.role in _FLOW and nxt.role in _FLOW
        and block.heading_level == 0
        and nxt.heading_level == 0
        and len(body) > 80
        and body[-1] not in _TERMINALS + ":"
        and not following.startswith("<sup>")
        and not _LIST_RE.match(following)
        and block_role(text[block.start : block.end]) == "body"  # a credit line ends where it ends
    )


def _run_end(text: str, i: int) -> int:
    """End of the run of terminals and closing marks starting at ``i``."""
    j = i + 1
    while j < len(text) and (text[j] in _CLOSERS or text[j] in _TERMINALS):
        j += 1
    return j


def _word_before(text: str, start: int, i: int) -> str:
    """The run of word characters and dots ending at ``i`` (lower case), looked at through a short window.

    Bounded so a hostile line ("a.b.a.b..." for megabytes) costs linear time; any word longer than the
    window is no abbreviation, initial or U.S.A.-style acronym anyway (a truncated one returns "").
    """
    j = i
    while j > start and i - j <= _WORD_WINDOW and (text[j - 1] == "." or text[j - 1].isalnum() or text[j - 1] == "_"):
        j -= 1
    return "" if i - j > _WORD_WINDOW else text[j:i].lower()


def _is_boundary(text: str, i: int, start: int) -> bool:
    """Is the terminal at text[i] the end of a sentence?"""
    j = _run_end(text, i)
    if j < len(text) and not text[j].isspace() and not any(c in _UNSPACED_TERMINALS for c in text[i:j]):
        return False  # "3.14", "a.b", "?!x": a sentence ends only before space or the end
    if text[i] == ".":
        word = _word_before(text, start, i)
        if word in _ABBREV or (len(word) == 1 and word.isalpha() and (word.isascii() or text[i - 1].isupper())):
            return False  # abbreviation or initial: Dr. / J. Smith / А. С. Пушкин
        if re.fullmatch(r"(?:[a-zа-яё]\.)+[a-zа-яё]", word):
            return False  # U.S.A., т.е.
        if _CYRILLIC_RE.match(word[-1:]) and _lower_next(text, j):
            return False  # Russian: "в 2015 г. при поддержке"
    return True


def _lower_next(text: str, j: int) -> bool:
    """Does the next word after ``j`` (past spaces) start with a lower-case letter?"""
    while j < len(text) and text[j] in " \t":
        j += 1
    return j < len(text) and text[j].islower()


def _split_sentences(text: str, start: int, end: int) -> list[Sentence]:
    out: list[Sentence] = []
    s = start
    i = start
    while i < end:
        if text[i] in _TERMINALS:
            j = _run_end(text, i)
            if _is_boundary(text, i, s):
                _append(out, text, s, min(j, end))
                s = i = j
                continue
            if j < len(text) and not text[j].isspace():
                i = j  # no terminal of this run can end a sentence: skip it whole (linear on "!!!!...x")
                continue
        i += 1
    _append(out, text, s, end)
    return out


def _append(out: list[Sentence], text: str, s: int, e: int) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        out.append(Sentence(s, e, text[s:e]))


def segment(text: str, layout: Layout = ()) -> list[Section]:
    """Sentences grouped by section; each heading is the first sentence of its section. ``layout``: the loader's
    paragraphs and their roles (PDF text layers), which replace the text's shape where given."""
    blocks = _layout_blocks(text, layout) if layout else _blocks(text)
    merged: list[Block] = []
    for b in blocks:
        if merged and _runs_on(text, merged[-1], b):
            merged[-1] = Block(merged[-1].start, b.end, 0, merged[-1].role)
        else:
            merged.append(b)
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    current: list[Sentence] = []

    def path() -> str | None:
        return " > ".join(t for _, t in stack) or None

    for b in merged:
        if stack and stack[-1][0] == _TABLE_LEVEL and b.role not in ("row", "th", "header", "footer"):
            if current:
                sections.append(Section(path(), tuple(current)))
                current = []
            stack = stack[:-1]  # the table ended: its header row no longer heads what follows
        if b.heading_level:
            if current:
                sections.append(Section(path(), tuple(current)))
            title = clean_heading(text[b.start : b.end])
            stack = [(lvl, t) for lvl, t in stack if lvl < b.heading_level] + [(b.heading_level, title)]
            current = [Sentence(b.start, b.end, text[b.start : b.end])]
        else:
            current.extend(_split_sentences(text, b.start, b.end))
    if current:
        sections.append(Section(path(), tuple(current)))
    return sections


def sentences(text: str) -> list[Sentence]:
    return [s for sec in segment(text) for s in sec.sentences]

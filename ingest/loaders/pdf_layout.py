"""A PDF's pages -> paragraphs in reading order with their roles, from the geometry of pdfium's lines.

Per page: pdfium's lines (``pdf_chars``) in stream order, which every producer measured writes in reading order
(LibreOffice, LaTeX/xdvipdfmx, XeTeX, Chromium; Chromium's CSS columns column by column). Lines are joined into a
paragraph while the next line continues it:
- same font size (within 12 %); a change between monospace and proportional type (inline code, a URL) only after
  a full line that ends no sentence, and a listing keeps to monospace lines;
- the next baseline no further below than the document's usual line pitch for that size (x 1.25): so 1.5 line
  spacing is still one paragraph, paragraph spacing is a break;
- the boxes overlap horizontally;
- the line before is full: a line that ends early enough for the next line's first word to fit after it was
  broken on purpose (the end of a paragraph, a heading, a list item).

Across pages (cheap once lines are read):
- a paragraph running on across a page break (``runs_on``): the document joins the two pages by a line break;
- running headers and footers: the top (bottom) line of a page whose text, digits aside, repeats at the top
  (bottom) of other pages, or that carries a page number at the usual header (footer) height;
- headings: the PDF's outline (bookmarks) when it has one, matched to the line it points at, its depth the level;
  else type size (>= 1.15 x the body size) or bold short lines, larger sizes higher levels;
- table of contents and index pages: most lines end in page numbers ("Title . . . 7", "\\vec, 48");
- code: lines set in a monospace font, each kept on its own line, never a heading;
- tables: consecutive lines cut at the same wide gaps; each row one paragraph of its cells joined by " | ", the
  header row (the first, or a repeated one) a heading over its rows, so a row carries its column labels.

A word hyphenated at a line end keeps its hyphen and the line break ("-\\n") in the text, as the page draws it;
matching and sentence splitting read "-\\n" between letters as nothing (``verbatim_qa/text/normalize.py``), so
"manip-\\nulation" is found as "manipulation" while its characters still map to the page's boxes.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from .pdf_chars import Font, Glyph, Line, PageChars, split_rows
from .pdf_lines import Reading, Text, line_text, strong_direction, unbalanced

GAP = 1.0  # x font size: a horizontal gap wider than this cuts a line (table cells, gutters)
SIZE_TOLERANCE = 0.12
PITCH_SLACK = 1.25
HEADING_SIZE = 1.15  # x body size
COLUMN_EMS = 10  # x font size: the narrowest column of text a paragraph runs on into the next of
CELL_SEP = " | "
_HYPHENS = "-\u2010\u00ad"
TERMINAL = re.compile(r"[.!?؟:;…]\W*$")
_TOC_LINE = re.compile(r"(?:\.\s*){3,}\s*[\divxlcIVXLC]+$|\S\s+[\divx]+$")
_INDEX_LINE = re.compile(r"^\S.{0,60}?,\s*\d+(?:[–-]\d+)?(?:,\s*\d+(?:[–-]\d+)?)*$|^[A-Z]$")
_BULLET = re.compile(r"^\s*(?:[•◦▪●■–—*]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s")
_DIGITS = re.compile(r"[\d۰-۹٠-٩]+")


@dataclass
class Block:
    lines: list[Line]
    page: int
    role: str = "body"  # body, h1..h6, header, footer, toc, index, code, th (table header row), row
    cells: bool = False  # a table row: its lines are cells

    @property
    def top(self) -> float:
        return min(line.top for line in self.lines)

    @property
    def bottom(self) -> float:
        return max(line.bottom for line in self.lines)

    @property
    def size(self) -> float:
        return max(line.size for line in self.lines)

    def plain(self) -> str:
        return " ".join(line.text for line in self.lines)


@dataclass
class LaidPage:
    number: int
    width: float
    height: float
    blocks: list[Block] = field(default_factory=list)
    fonts: list[Font] = field(default_factory=list)


@dataclass
class PageOut:
    """A page's text, its boxes, and (start, end, role) of each block in the page text."""

    text: Text
    blocks: list[tuple[int, int, str]]


# ---------------------------------------------------------------- lines -> blocks
def lay_out(chars: list[PageChars | None], outline: list[tuple[int, str, int]]) -> list[LaidPage | None]:
    """Pages' characters (None: no text layer) -> pages of blocks with roles. ``outline``: (level, title, page
    index) of each bookmark."""
    lines = [split_rows(c.rows, GAP) if c is not None else None for c in chars]
    body, pitch = _statistics([ls for ls in lines if ls])
    pages: list[LaidPage | None] = []
    for n, (c, ls) in enumerate(zip(chars, lines)):
        if c is None or ls is None:
            pages.append(None)
            continue
        page = LaidPage(n + 1, c.width, c.height, fonts=c.fonts)
        page.blocks = _group(_tables(ls), page, pitch)
        pages.append(page)
    laid = [p for p in pages if p is not None]
    _running(laid)
    _toc_and_index(laid)
    top = _outline_headings(laid, outline)
    _size_headings(laid, body, top)
    return pages


def _statistics(pages: list[list[Line]]) -> tuple[float, dict[float, float]]:
    """The body size (most characters) and, per size, the usual pitch between consecutive lines."""
    sizes: Counter = Counter()
    pitches: dict[float, Counter] = {}
    for lines in pages:
        for a, b in zip(lines, lines[1:]):
            sizes[round(a.size, 1)] += len(a.glyphs)
            d = b.bottom - a.bottom
            if abs(a.size - b.size) <= SIZE_TOLERANCE * a.size and 0.8 * a.size <= d <= 3 * a.size \
                    and b.x0 < a.x1 and a.x0 < b.x1:
                pitches.setdefault(round(a.size, 1), Counter())[round(d, 1)] += 1
        if lines:
            sizes[round(lines[-1].size, 1)] += len(lines[-1].glyphs)
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    return body, {s: c.most_common(1)[0][0] for s, c in pitches.items()}


def _tables(lines: list[Line]) -> list[Line | list[Line]]:
    """Lines, with the cut lines of a table (a run of >= 2 rows whose cells start at the same x) as lists of
    cells; a line cut where no table is (a wide gap of justified text) is joined again; a run of long "cells"
    is two columns of text, read column by column."""
    rows: list[list[Line]] = []
    for line in lines:
        if rows and rows[-1][0].row == line.row:
            rows[-1].append(line)
        else:
            rows.append([line])
    out: list[Line | list[Line]] = []
    i = 0
    while i < len(rows):
        j = i
        if len(rows[i]) > 1:
            j = i + 1
            while j < len(rows) and _aligned(rows[j], rows[i]):
                j += 1
        if j - i >= 2:
            run = rows[i:j]
            cells = [c for r in run for c in r]
            if sorted(len(c.text) for c in cells)[len(cells) // 2] > 40:  # columns of text
                ncol = max(len(r) for r in run)
                out += [r[k] for k in range(ncol) for r in run if k < len(r)]
            else:
                out += run
            i = j
        else:
            row = rows[i]
            out.append(row[0] if len(row) == 1 else _join_cells(row))
            i += 1
    return out


def _aligned(row: list[Line], ref: list[Line]) -> bool:
    """Is ``row`` cut where ``ref`` is: the same number of cells, and at every boundary between two cells the
    left cell ends or the right one starts where it does in ``ref`` (justified text is cut at random places)."""
    if len(row) != len(ref):
        return False
    tol = 0.5 * ref[0].size
    return all(abs(row[i].x1 - ref[i].x1) <= tol or abs(row[i + 1].x0 - ref[i + 1].x0) <= tol
               for i in range(len(row) - 1))


def _join_cells(row: list[Line]) -> Line:
    glyphs = sorted((g for c in row for g in c.glyphs), key=lambda g: g.k)
    return Line(glyphs, row=row[0].row).measure()


def _group(items: list[Line | list[Line]], page: LaidPage, pitch: dict[float, float]) -> list[Block]:
    blocks: list[Block] = []
    for item in items:
        if isinstance(item, list):
            blocks.append(Block(item, page.number, "row", cells=True))
            continue
        b = blocks[-1] if blocks else None
        if b is not None and not b.cells and _continues(b, item, page.fonts, pitch):
            b.lines.append(item)
        else:
            blocks.append(Block([item], page.number, "code" if page.fonts[item.font].mono else "body"))
    _table_headers(blocks)
    return blocks


def _continues(b: Block, line: Line, fonts: list[Font], pitch: dict[float, float]) -> bool:
    a = b.lines[-1]
    if abs(a.size - line.size) > SIZE_TOLERANCE * max(a.size, line.size):
        return False
    mono = fonts[a.font].mono, fonts[line.font].mono
    if b.role == "code":  # a listing: lines follow each other at the listing's pitch
        return mono[1] and 0 < line.bottom - a.bottom <= pitch.get(round(a.size, 1), 1.3 * a.size) * PITCH_SLACK
    # a line of a paragraph mostly in code type ("\renewenvironment command. It uses ... \newenvironment", a URL)
    # goes on with it when the line before is full and ends no sentence (":" before a listing ends one)
    if any(mono) and TERMINAL.search(a.text.rstrip()):
        return False
    if len(b.lines) == 1 and fonts[a.font].bold and not fonts[line.font].bold:
        return False  # a bold line over regular text: a heading
    d = line.bottom - a.bottom
    usual = pitch.get(round(a.size, 1), 1.3 * a.size)
    if d < 0 and _next_column(b, a, line):
        return True
    if not 0.5 * a.size < d <= usual * PITCH_SLACK + 0.5:
        return False
    if not (line.x0 < a.x1 and a.x0 < line.x1):
        return False
    if _BULLET.match(line.text):
        return False
    return not _ends_early(b, a, line)


def _next_column(b: Block, a: Line, line: Line) -> bool:
    """Does the paragraph go on at the top of the next column (left to right): ``line`` drawn above ``a``, wholly
    right of the paragraph so far and at least half as wide, the paragraph (three lines or more) ending on a full
    line that ends no sentence, ``line`` no list item? Chromium's CSS columns cut "between China and Belt | and
    Road countries"."""
    if len(b.lines) < 3 or a.rtl or line.rtl:
        return False
    left, right = min(x.x0 for x in b.lines), max(x.x1 for x in b.lines)
    # a column of text (10 em or more: a newspaper's are 10-12), the next as wide, the last line reaching its edge
    if right - left < COLUMN_EMS * a.size or line.x0 < right or line.x1 - line.x0 < 0.5 * (right - left) \
            or a.x1 < right - 0.5 * a.size:
        return False
    if TERMINAL.search(a.text.rstrip()) or _BULLET.match(line.text):
        return False
    return not _room(a, line, left, right)


def _ends_early(b: Block, a: Line, line: Line) -> bool:
    """Would the next line's first word have fitted at the end of line ``a``?"""
    lines = b.lines + [line]
    return _room(a, line, min(x.x0 for x in lines), max(x.x1 for x in lines))


def _room(a: Line, line: Line, left: float, right: float) -> bool:
    """Is there room for ``line``'s first word after line ``a`` in a column from ``left`` to ``right``?"""
    word = _first_word_width(line)
    space = 0.25 * a.size
    if a.rtl and line.rtl:
        return a.x0 - space - word > left + 0.5 * a.size
    return a.x1 + space + word < right - 0.5 * a.size


def runs_on(prev: LaidPage, page: LaidPage) -> bool:
    """Does ``page``'s first paragraph continue ``prev``'s last one across the page break? Both body text of one
    size and type, ``prev``'s last line full (the next page's first word would not have fitted after it, in the
    column its page's body lines span), the next page's first line not indented against its paragraph's other
    lines (or its column), not a list item. ``prev``'s last paragraph must end its page's text (``page_text``
    puts the running header and footer after the first paragraph)."""
    flow_prev = [b for b in prev.blocks if b.role not in ("header", "footer")]
    flow = [b for b in page.blocks if b.role not in ("header", "footer")]
    if not flow or not flow_prev or len(flow_prev) == 1 and len(flow_prev) < len(prev.blocks):
        return False
    b, nb = flow_prev[-1], flow[0]
    if b.role != "body" or nb.role != "body" or b.cells or nb.cells:
        return False
    a, line = b.lines[-1], nb.lines[0]
    if abs(a.size - line.size) > SIZE_TOLERANCE * max(a.size, line.size) \
            or prev.fonts[a.font].mono != page.fonts[line.font].mono or _BULLET.match(line.text):
        return False
    column = [x for c in prev.blocks if c.role == "body" for x in c.lines if x.x0 < a.x1 and a.x0 < x.x1]
    if len(column) < 3:  # too few lines to know where the column ends
        return False
    if _room(a, line, min(x.x0 for x in column), max(x.x1 for x in column)):
        return False
    others = nb.lines[1:] or [x for c in page.blocks if c.role == "body" for x in c.lines
                             if x.x0 < line.x1 and line.x0 < x.x1]
    indent = 0.5 * line.size
    if line.rtl:
        return line.x1 >= max(x.x1 for x in others) - indent
    return line.x0 <= min(x.x0 for x in others) + indent


def _first_word_width(line: Line) -> float:
    """The width of the line's first word: from the edge the line starts at (the right one when it is RTL) to the
    far side of its last glyph before the first space. Measured along the reading direction, so an RTL line's
    coordinates are mirrored and one walk serves both."""

    def along(g: Glyph) -> tuple[float, float]:  # a glyph's near and far side, in reading order
        return (-g.x1, -g.x0) if line.rtl else (g.x0, g.x1)

    # combining marks left out: LibreOffice writes a right-to-left line's marks (the hamza of "جنبهٔ") first in
    # its stream, then a zero-width space at the line's start edge; neither is the first word
    # spaces pdfium generates count: LaTeX draws none, pdfium puts one at the next word's start
    spans = sorted(((*along(g), g.ch.isspace()) for g in line.glyphs
                    if not unicodedata.combining(g.ch[:1] or " ")), key=lambda s: (s[0], s[1]))
    while spans and spans[0][2]:  # spaces before the first letter start no word
        spans.pop(0)
    if not spans:
        return 0.0
    edge = end = spans[0][0]
    for _, far, space in spans:
        if space:
            break
        end = max(end, far)
    return end - edge


def _table_headers(blocks: list[Block]) -> None:
    """The first row of a run of rows is its header, and a later row with the same cells repeats it."""
    header = None
    prev_row = False
    for b in blocks:
        if b.role != "row":
            prev_row = False
            continue
        key = tuple(c.text.strip() for c in b.lines)
        if not prev_row and header is None or key == header:
            b.role, header = "th", key
        prev_row = True


# ---------------------------------------------------------------- roles across pages
def _key(text: str) -> str:
    return " ".join(_DIGITS.sub("#", text.casefold()).split())


def _top(b: Block) -> float:
    return b.top


def _bottom(b: Block) -> float:
    return b.bottom


def _running(pages: list[LaidPage]) -> None:
    """Running headers and footers: a page's top (bottom) single-line block repeating, digits aside, on other
    pages, or holding a number at the height most pages' top (bottom) blocks have."""
    if len(pages) < 2:
        return
    for kind in ("header", "footer"):
        ends = [min(p.blocks, key=_top) if kind == "header" else max(p.blocks, key=_bottom)
                for p in pages if p.blocks]
        ends = [b for b in ends if len(b.lines) <= 2 and b.role in ("body", "code")]
        keys = Counter(_key(b.plain()) for b in ends)
        heights = Counter(round(b.top if kind == "header" else b.bottom) for b in ends)
        for b in ends:
            h = round(b.top if kind == "header" else b.bottom)
            usual = sum(heights[h + d] for d in (-2, -1, 0, 1, 2))
            numbered = bool(_DIGITS.search(b.plain())) and len(b.plain()) <= 120
            if keys[_key(b.plain())] >= 2 or (numbered and usual >= max(2, len(ends) // 4)):
                b.role = kind


def _toc_and_index(pages: list[LaidPage]) -> None:
    """A page most of whose lines end in page numbers is a table of contents; ending in comma-separated page
    numbers, an index. Each line becomes its own block with that role."""
    for p in pages:
        body = [b for b in p.blocks if b.role in ("body", "row", "th")]
        rows = [" ".join(c.text for c in b.lines) if b.cells else line.text for b in body
                for line in (b.lines[:1] if b.cells else b.lines)]
        if len(rows) < 5:
            continue
        index = sum(bool(_INDEX_LINE.match(r.strip())) for r in rows)
        toc = sum(bool(_TOC_LINE.search(r.strip())) for r in rows)
        role = "index" if index >= 0.4 * len(rows) else "toc" if toc >= 0.5 * len(rows) else None
        if role is None:
            continue
        out: list[Block] = []
        for b in p.blocks:
            if b not in body:
                out.append(b)
            elif b.cells:
                out.append(Block(b.lines, b.page, role, cells=True))
            else:
                out += [Block([line], b.page, role) for line in b.lines]
        p.blocks = out


def _norm(text: str) -> str:
    return re.sub(r"\W+", "", text.casefold())


def _outline_headings(pages: list[LaidPage], outline: list[tuple[int, str, int]]) -> float:
    """Marks the block each bookmark names as a heading of the bookmark's depth; the largest size of those
    headings (0 without an outline, inf when no bookmark was found on its page)."""
    if not outline:
        return 0.0
    sizes = [0.0]
    by_number = {p.number: p for p in pages}
    for level, title, index in outline:
        want = _norm(title)
        if not want:
            continue
        for number in (index + 1, index + 2):
            page = by_number.get(number)
            if page is None:
                continue
            hit = next((b for b in page.blocks if b.role in ("body", "th") and len(b.lines) <= 3
                        and _norm(b.plain()).endswith(want) and len(_norm(b.plain())) <= len(want) + 12), None)
            if hit is not None:
                hit.role = f"h{min(level + 1, 6)}"
                sizes.append(hit.size)
                break
    return max(sizes) or float("inf")


def _size_headings(pages: list[LaidPage], body: float, above: float = 0.0) -> None:
    """Without an outline: short blocks set larger than the body, or bold at body size, are headings; larger
    sizes are higher levels. With one (``above``: its largest heading size): only what is set larger still (a
    title the outline leaves out)."""
    found: list[tuple[Block, float]] = []
    for p in pages:
        for b in p.blocks:
            if b.role != "body" or len(b.lines) > 3:
                continue
            text = b.plain().strip()
            if not text or len(text) > 150 or TERMINAL.search(text) and b.size < HEADING_SIZE * body:
                continue
            if above:
                if b.size > above * (1 + SIZE_TOLERANCE):
                    found.append((b, round(b.size, 1)))
            elif b.size >= HEADING_SIZE * body:
                found.append((b, round(b.size, 1)))
            elif all(p.fonts[line.font].bold for line in b.lines) and len(text) <= 100 \
                    and abs(b.size - body) <= SIZE_TOLERANCE * body:
                found.append((b, round(body, 1)))
    sizes = sorted({s for _, s in found}, reverse=True)
    for b, s in found:
        b.role = f"h{min(sizes.index(s) + 1, 6)}"


# ---------------------------------------------------------------- blocks -> text
def page_text(page: LaidPage) -> PageOut:
    """The page's blocks as text, separated by a blank line, in reading order; the running header and footer
    after the page's first paragraph, so that a paragraph running on from the page before (or a word
    hyphenated across the break) is contiguous text, not cut by the page furniture between."""
    running = [b for b in page.blocks if b.role in ("header", "footer")]
    running.sort(key=lambda b: b.role == "footer")
    flow = [b for b in page.blocks if b.role not in ("header", "footer")]
    blocks = flow[:1] + running + flow[1:]
    out = Text()
    spans: list[tuple[int, int, str]] = []
    for b in blocks:
        t = _block_text(b)
        if not t.chars:
            continue
        if out.chars:
            out.add("\n\n")
        start = len(out)
        out.extend(t)
        spans.append((start, len(out), b.role))
    return PageOut(out, spans)


def _block_text(b: Block) -> Text:
    base = strong_direction(b.lines)
    if b.cells:
        cells = sorted(b.lines, key=lambda c: -c.x1 if base == "R" else c.x0)
        out = Text()
        for c in cells:
            t = line_text(c, "R" if c.rtl else "L")
            if t.chars:
                if out.chars:
                    out.add(CELL_SEP)
                out.extend(t)
        return out
    readings = [Reading(line, base) for line in b.lines]
    out = _lines_text(b, base, True, readings)
    if any(line.rtl or base == "R" for line in b.lines) and unbalanced(out.text()):
        other = _lines_text(b, base, False, readings)
        if unbalanced(other.text()) < unbalanced(out.text()):
            out = other
        _turn_brackets(out)
    return out


_PAIR = {"(": ")", ")": "(", "[": "]", "]": "[", "{": "}", "}": "{", "«": "»", "»": "«"}
_CLOSING_AS_OPENING = re.compile(r"(?<=\S)[(\[{«](?=[\s.,;:!?،؛]|$)|[(\[{«](?=[.,;!?،؛])")
_OPENING_AS_CLOSING = re.compile(r"(?:(?<=\s)|^)[)\]}»](?=[^\s.,;:!?،؛)\]}»])")


def _turn_brackets(out: Text) -> None:
    """A bracket still facing the wrong way where a run of the other direction ends ("2023: 19(." for
    "2023: 19).": the algorithm resolved the mirrored glyph into the Latin run): an opening bracket after a word
    and before a space or a stop, or anywhere right before a stop ("2016 (." of a paragraph Chromium starts on
    a new line inside a citation), closes; a closing one after a space and before a word opens."""
    text = out.text()
    for rx in (_CLOSING_AS_OPENING, _OPENING_AS_CLOSING):
        for m in rx.finditer(text):
            out.chars[m.start()] = _PAIR[out.chars[m.start()]]


def _lines_text(b: Block, base: str, mirror: bool, readings: list[Reading]) -> Text:
    out = Text()
    # the next line's first reading, read without context: only its start is asked for (up to a strong letter)
    firsts = [line_text(line, base, mirror=mirror, reading=r) for line, r in zip(b.lines[1:], readings[1:])] \
        if base == "R" else None
    for i, line in enumerate(b.lines):
        if base == "R":
            after = firsts[i].text()[:200] if i + 1 < len(b.lines) else ""
            # with the space that joins the line: ")Zadeh" after "(Shafiei and Komai" reads as a slip (logical.py)
            context = "".join(out.chars[-200:]) + " " if out.chars else ""
            t = line_text(line, base, context, after, mirror, readings[i])
        else:
            t = line_text(line, base, mirror=mirror, reading=readings[i])
        if not t.chars:
            continue
        if out.chars:
            _join(out, t, b.role == "code")
        out.extend(t)
    return out


def _join(out: Text, nxt: Text, code: bool) -> None:
    """Lines of a paragraph: a space; code lines: a newline; a word hyphenated at the line end: its hyphen stays
    and a newline follows it ("-\\n"), which matching reads as nothing."""
    last = out.chars[-1]
    if code:
        out.add("\n")
    elif last in _HYPHENS and len(out.chars) > 1 and out.chars[-2].isalpha() and nxt.chars[0].isalpha() \
            and nxt.chars[0].islower():
        out.add("\n")
    else:
        out.add(" ")

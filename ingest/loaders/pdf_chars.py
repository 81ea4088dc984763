"""A PDF page's characters as pdfium sees them: each character's text, box, size and font, and the lines pdfium
breaks the page's text into (its generated line ends), cut further where a line jumps vertically or has a gap
wide enough to be a table's cell border or a column gutter.

Why pdfium's characters: pdfminer's layout pass took 41 s for a 147-page book that pdfium reads in 0.4 s. Every
per-character value is one ctypes call; fonts are looked up once per text object (a word or a line in most
producers), so a page of 3,000 characters costs ~4 calls a character.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from bidi import algorithm as uba

Box = tuple[float, float, float, float]  # x0, top, x1, bottom in PDF points from the page's top-left corner
RTL = {"R", "AL"}
SPACES = {" ", "\u00a0", "\u2002", "\u2003", "\u2009", "\u202f", "\u3000"}
_MONO = ("mono", "courier", "typewriter", "consol", "cmtt", "lmtt", "sfmono", "menlo", "code")
_BOLD = ("bold", "black", "heavy", "semibold", "demi", ".b", "-b", "cmbx")
_FIXED_PITCH = 0x1  # PDF font descriptor flag FixedPitch (FPDFText_GetFontInfo's flags)


@dataclass(slots=True)
class Glyph:
    """One character the page draws (or a space pdfium generated, with a point-sized box)."""

    ch: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    font: int  # index into the page's font table (name, monospace, bold)
    k: int  # pdfium's character index: stream order
    generated: bool = False

    @property
    def box(self) -> Box:
        return (self.x0, self.top, self.x1, self.bottom)


@dataclass(frozen=True, slots=True)
class Font:
    name: str
    mono: bool
    bold: bool


@dataclass
class Line:
    """A run of glyphs on one baseline with no wide gap inside (a line of a paragraph, a table cell, a heading)."""

    glyphs: list[Glyph]
    x0: float = 0.0
    top: float = 0.0
    x1: float = 0.0
    bottom: float = 0.0
    size: float = 0.0  # median glyph size
    font: int = 0  # the font of most of its letters
    rtl: bool = False  # more right-to-left letters than left-to-right ones
    row: int = -1  # index of the visual line (pdfium's line) it was cut from
    text: str = ""  # its glyphs in stream order (for tests of shape: numbers, leaders)
    extra: dict = field(default_factory=dict)

    def measure(self) -> Line:
        visible = [g for g in self.glyphs if not g.generated and g.ch not in SPACES] or self.glyphs
        self.x0 = min(g.x0 for g in visible)
        self.x1 = max(g.x1 for g in visible)
        sizes = sorted(g.size for g in visible)
        self.size = sizes[len(sizes) // 2]
        full = [g for g in visible if g.size >= 0.85 * self.size]  # superscripts do not move the line
        self.top = min(g.top for g in full)
        self.bottom = max(g.bottom for g in full)
        fonts: dict[int, int] = {}
        rtl = ltr = 0
        for g in visible:
            fonts[g.font] = fonts.get(g.font, 0) + 1
            t = uba.bidirectional(g.ch[:1]) if g.ch else "ON"
            rtl += t in RTL
            ltr += t == "L"
        self.font = max(fonts, key=fonts.get)
        self.rtl = rtl > ltr
        self.text = "".join(g.ch for g in self.glyphs)
        return self

    @property
    def baseline(self) -> float:
        return self.bottom


class PageChars:
    """The characters of one page, read once."""

    def __init__(self, page: pdfium.PdfPage) -> None:
        self.width, self.height = page.get_size()
        self.fonts: list[Font] = []
        self.rows: list[list[Glyph]] = _read(page, self.height, self.fonts)

    @property
    def has_text(self) -> bool:
        return any(not g.generated and not g.ch.isspace() for row in self.rows for g in row)


_FONT_KEYS: dict = {}


def _fn(name: str, restype):
    """A pdfium function with another return type (a text object as a plain address, usable as a dict key)."""
    if (name, restype) not in _FONT_KEYS:
        f = ctypes.CFUNCTYPE(restype, ctypes.c_void_p, ctypes.c_int)(
            ctypes.cast(getattr(pdfium_c, name), ctypes.c_void_p).value)
        _FONT_KEYS[name, restype] = f
    return _FONT_KEYS[name, restype]


def _font(raw, k: int) -> Font:
    buf = ctypes.create_string_buffer(256)
    flags = ctypes.c_int(0)
    n = pdfium_c.FPDFText_GetFontInfo(raw, k, buf, 256, flags)
    name = buf.value.decode("utf-8", "replace") if n > 0 else ""
    low = name.lower()
    weight = pdfium_c.FPDFText_GetFontWeight(raw, k)
    return Font(name, bool(flags.value & _FIXED_PITCH) or any(m in low for m in _MONO),
                weight >= 600 or any(b in low for b in _BOLD))


def _read(page: pdfium.PdfPage, height: float, fonts: list[Font]) -> list[list[Glyph]]:
    """pdfium's characters as glyphs, cut into rows at pdfium's generated line ends."""
    tp = page.get_textpage()
    try:
        raw = tp.raw
        n = pdfium_c.FPDFText_CountChars(raw)
        get_unicode = pdfium_c.FPDFText_GetUnicode
        loose_box = pdfium_c.FPDFText_GetLooseCharBox
        is_generated = pdfium_c.FPDFText_IsGenerated
        font_size = pdfium_c.FPDFText_GetFontSize
        text_object = _fn("FPDFText_GetTextObject", ctypes.c_void_p)
        raw_ptr = ctypes.cast(raw, ctypes.c_void_p)
        rect = pdfium_c.FS_RECTF()
        matrix = pdfium_c.FS_MATRIX()
        get_matrix = pdfium_c.FPDFText_GetMatrix
        by_object: dict[int | None, tuple[int, float]] = {}
        by_font: dict[Font, int] = {}
        rows: list[list[Glyph]] = [[]]
        for k in range(n):
            u = get_unicode(raw, k)
            # pdfium generates only spaces and line breaks (CPDF_TextPage): other characters need not be asked
            gen = u in (32, 10, 13) and bool(is_generated(raw, k))
            if gen and u in (10, 13):
                if rows[-1]:
                    rows.append([])
                continue
            if u in (2, 0xFFFE):  # pdfium's mark for a hyphen it found at a line end: the page draws "-"
                u = 0x2D
            if 0 < u < 32 or 127 <= u <= 159:  # control characters (category Cc), line breaks among them
                continue
            ch = chr(u) if 0 < u < 0x110000 else "\ufffd"
            loose_box(raw, k, rect)
            obj = text_object(raw_ptr, k)
            info = by_object.get(obj)
            if info is None:
                f = _font(raw, k)
                if f not in by_font:
                    by_font[f] = len(fonts)
                    fonts.append(f)
                # pdfium's font size ignores the text matrix's scale: Chromium's 12 pt text reads 16 x 0.75
                get_matrix(raw, k, matrix)
                scale = abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5 or 1.0
                info = by_object[obj] = (by_font[f], font_size(raw, k) * scale)
            rows[-1].append(Glyph(ch, rect.left, height - rect.top, rect.right, height - rect.bottom,
                                  info[1], info[0], k, gen))
        return [r for r in rows if r]
    finally:
        tp.close()


def split_rows(rows: list[list[Glyph]], gap: float) -> list[Line]:
    """pdfium's rows -> lines: a row is cut where a glyph leaves the row's vertical band (a new line pdfium did
    not mark) and where the horizontal gap between neighbours exceeds ``gap`` x the font size."""
    lines: list[Line] = []
    r = 0  # visual line number: pdfium joins the two lines of a word hyphenated at a line end into one row
    for row in rows:
        bands: list[list[Glyph]] = [[]]
        top = bottom = None
        for g in row:
            if g.generated or g.ch in SPACES:
                bands[-1].append(g)
                continue
            if top is not None and (g.top >= bottom or g.bottom <= top):
                bands.append([])
                top = bottom = None
            bands[-1].append(g)
            top = g.top if top is None else min(top, g.top)
            bottom = g.bottom if bottom is None else max(bottom, g.bottom)
        for band in bands:
            if any(not (g.generated or g.ch in SPACES) for g in band):
                for part in _cut_gaps(band, gap):
                    lines.append(Line(part, row=r).measure())
                r += 1
    return _in_line_order(_attach_marks(lines))


def _in_line_order(lines: list[Line]) -> list[Line]:
    """A line the stream writes before the line drawn above it, both in one column between its neighbours
    (Chromium wrote a Persian paragraph's third line before its second), moves up above it."""
    out: list[Line] = []
    for line in lines:
        i = len(out)
        while i > 0 and _above(line, out[i - 1]) and (i < 2 or _above(out[i - 2], line)):
            i -= 1
        out.insert(i, line)
    return out


def _above(a: Line, b: Line) -> bool:
    """Is ``a`` drawn wholly above ``b`` in the same column (their boxes overlap horizontally)?"""
    return a.bottom <= b.top + 0.2 * min(a.size, b.size) and a.x0 < b.x1 and b.x0 < a.x1


def _attach_marks(lines: list[Line]) -> list[Line]:
    """A footnote mark pdfium puts on a row of its own (Chromium's raised "۱" between two lines of its
    paragraph) joins the line it is raised from: a row of <= 3 glyphs, smaller than the line it overlaps."""
    out: list[Line] = []
    for i, line in enumerate(lines):
        visible = [g for g in line.glyphs if not (g.generated or g.ch in SPACES)]
        if len(visible) <= 3:
            near = [x for x in (out[-1] if out else None, lines[i + 1] if i + 1 < len(lines) else None)
                    if x is not None and len(x.glyphs) > 3 and line.size < 0.85 * x.size
                    and line.top < x.bottom and x.top < line.bottom]
            if near:  # the line it overlaps most: a raised mark overlaps its own line more than the one above
                host = max(near, key=lambda x: min(x.bottom, line.bottom) - max(x.top, line.top))
                host.glyphs = sorted(host.glyphs + line.glyphs, key=lambda g: g.k)
                host.measure()
                continue
        out.append(line)
    return out


def _cut_gaps(glyphs: list[Glyph], gap: float) -> list[list[Glyph]]:
    visible = sorted((g for g in glyphs if not (g.generated or g.ch in SPACES)), key=lambda g: g.x0)
    cuts: list[float] = []
    right = visible[0].x1
    for a, b in zip(visible, visible[1:]):
        if b.x0 - right > gap * max(a.size, b.size):
            cuts.append((right + b.x0) / 2)
        right = max(right, b.x1)
    if not cuts:
        return [glyphs]
    parts: list[list[Glyph]] = [[] for _ in range(len(cuts) + 1)]
    for g in glyphs:
        cx = (g.x0 + g.x1) / 2
        parts[sum(cx > c for c in cuts)].append(g)
    return [p for p in parts if any(not (g.generated or g.ch in SPACES) for g in p)]

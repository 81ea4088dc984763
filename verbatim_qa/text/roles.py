"""What each sentence is in its document: body text, or a heading, the title, a caption, a byline, a reference.

Answers quote body sentences; the others only when a question asks for them (who wrote, which journal, which
figure). Measured on the questions over the bundled corpus: 8 % of citations quoted captions ("شکل ۱- …"),
headings, the article's title, attribution lines and reference-list entries before roles existed.

Roles are decided per block (a paragraph or line: the text between blank lines), from its shape and the section
it sits in; every sentence of a block gets the block's role, except that a heading block is a heading (or the
title). Offsets never change: a role is a label on an existing span.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import replace

from verbatim_qa.types import Section

ROLES = ("body", "heading", "title", "caption", "attribution", "reference", "footnote", "link", "header", "footer",
         "toc", "index", "code")
# roles the loader reads from a page's layout (a PDF's running header, table of contents, ...) that no shape shows
LAYOUT_ROLES = frozenset({"header", "footer", "toc", "index", "code"})

# the section headings a reference list sits under (English and Persian), matched on the heading's own text
_REFERENCE_HEADINGS = re.compile(
    r"^(?:\d+[.)]?\s*)?(?:references?|bibliography|works cited|sources|literature cited|notes and references|"
    r"منابع|منابع و مآخذ|فهرست منابع|کتابنامه|مآخذ|كتابنامه|المراجع|المصادر)\s*:?$",
    re.IGNORECASE,
)
_DIGITS = "0-9۰-۹٠-٩"
_CAPTION = re.compile(
    rf"^\s*[(\[]?\s*(?:figure|fig\.|table|chart|map|graph|diagram|image|photo|شکل|جدول|نمودار|تصویر|نقشه)"
    rf"\s*(?:[{_DIGITS}]+|[{_DIGITS}]+[.\-–][{_DIGITS}]+)\s*[-–—:.)]",
    re.IGNORECASE,
)
_FOOTNOTE = re.compile(rf"^\s*(?:<sup>\s*[{_DIGITS}*]+\s*</sup>|\[\^[^\]]+\]:|\*\s|[¹²³⁴⁵⁶⁷⁸⁹⁰]+\s)")
_URL = re.compile(r"https?://\S+|www\.\S+")
_MARKUP = re.compile(r"<[^>]+>|\*\*|__|`")
_BRACKETS = re.compile(r"[\[\]()<>*_]")
# a reference-list entry: "Surname, Given (2021), ..." / "Surname, G. (2021)." / doi, "Available at:", "Accessed"
_CITATION = re.compile(
    r"^[^\W\d_][\w'’.\-]+(?:\s[\w'’.\-]+){0,3},\s.{0,160}?\(\s*(?:1[89]|20)\d\d[a-z]?\s*\)",
)
_CITATION_MARKS = re.compile(
    r"\bdoi\s*:|\bavailable at\s*:|\baccessed on\b|\bretrieved from\b|\bvol\.\s*\d|\bpp\.\s*\d", re.IGNORECASE)
# a byline or affiliation: "By Jane Doe", "Written by …", "نویسنده: …", "Assistant Professor, Department of …"
_BYLINE = re.compile(
    r"^\s*(?:by\s+[A-Z]|written by\b|reported by\b|photo(?:graph)?s?\s*(?:by|:)|source\s*:|credit\s*:|"
    r"نویسنده|نگارنده|ترجمه\s*:|منبع\s*:|(?:assistant|associate|full)?\s*professor\b|ph\.?d\.? (?:student|candidate)|"
    r"department of\b|faculty of\b|university of\b|\(?\s*date received\b)",
    re.IGNORECASE,
)
# "Aruuke Uran Kyzy, “Why is anti-Chinese sentiment on the rise …?” at The Diplomat": a cited article's line
_ARTICLE_CREDIT = re.compile(r"^[^\W\d_][\w.\-]+(?:\s[\w.\-]+){0,4},\s*[“\"«].{5,200}[”\"»]\s*(?:at|in|,|—|-)\s*\S")
# a table of contents' line: dot leaders to its end (". . . . . 12"), as a text version of a book keeps them
_LEADERS = re.compile(rf"(?:\.[ \t]*){{5,}}[{_DIGITS}ivxlc]*[ \t]*$", re.IGNORECASE | re.MULTILINE)
_NAME_WORD = re.compile(r"^[A-Z][a-z'’\-]+\.?$|^[A-Z]\.$")
_MARKED_NAME = re.compile(r"^[^\W\d_][^\n.!?؟:]{1,60}<sup>[^<]{1,8}</sup>\s*$")  # "دانیال رضاپور<sup>۱</sup>"


def assign_roles(text: str, sections: list[Section], title: str | None = None,
                 layout: tuple[tuple[int, int, str], ...] = ()) -> list[Section]:
    """``sections`` (from ``segment``) with each sentence's role set; spans untouched. ``layout``: the loader's
    paragraphs with their roles; a sentence in a running header, a table of contents, an index or a code listing
    gets that role."""
    blocks = block_spans(text)
    starts = [b[0] for b in blocks]
    marked = sorted((s, e, r) for s, e, r in layout if r in LAYOUT_ROLES)
    marked_starts = [m[0] for m in marked]
    memo: dict[tuple[int, bool], str] = {}

    def role_of_block(i: int, in_refs: bool) -> str:
        if (i, in_refs) not in memo:
            memo[i, in_refs] = block_role(text[blocks[i][0] : blocks[i][1]], title, in_refs)
        return memo[i, in_refs]

    out = []
    for sec in sections:
        headings = (sec.path or "").split(" > ")
        in_refs = any(is_reference_heading(h) for h in headings)
        sents = []
        for n, sent in enumerate(sec.sentences):
            i = bisect_right(starts, sent.char_start) - 1
            if n == 0 and sec.path and _plain(_heading_text(sent.text)) == _plain(headings[-1]):
                if sent.text.lstrip().startswith("#"):
                    role = heading_role(sent.text, title)
                else:  # a heading-like line (short, no final stop): often a byline, a caption or a link
                    shaped = role_of_block(i, False) if i >= 0 else "body"
                    role = shaped if shaped != "body" else heading_role(sent.text, title)
            else:
                role = role_of_block(i, in_refs) if i >= 0 else "body"
            j = bisect_right(marked_starts, sent.char_start) - 1
            if j >= 0 and sent.char_end <= marked[j][1]:
                role = marked[j][2]
            sents.append(sent if role == sent.role else replace(sent, role=role))
        out.append(replace(sec, sentences=tuple(sents)))
    return out


def block_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each block: the runs of non-blank lines, stripped of surrounding whitespace."""
    out = []
    for m in re.finditer(r"(?:[^\n]*\S[^\n]*(?:\n|$))+", text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def is_reference_heading(heading: str) -> bool:
    return bool(_REFERENCE_HEADINGS.match(_plain(heading)))


def block_role(block: str, title: str | None = None, in_references: bool = False) -> str:
    """The role of a non-heading block from its shape (and whether it sits in a reference section)."""
    plain = _plain(block)
    if title and plain.casefold() == _plain(title).casefold() and not re.search(r"[.!?؟。]\s", plain):
        return "title"  # a one-line file whose line is its title is still body text when it is sentences
    if _FOOTNOTE.match(block):
        return "footnote"
    if not _BRACKETS.sub("", _URL.sub("", plain)).strip(" .,:;-–—|/"):
        return "link"
    if _CAPTION.match(plain):
        return "caption"
    if "\n" not in block and plain.startswith("(") and plain.endswith(")") and len(plain) < 200:
        return "caption"  # "(The panorama above is of Khiva, Uzbekistan)": a picture's note
    if in_references or _is_citation(plain):
        return "reference"
    if _LEADERS.search(block):
        return "toc"
    if "\n" not in block and (_BYLINE.match(plain) or _ARTICLE_CREDIT.match(plain) or _is_name_line(plain)
                               or _MARKED_NAME.match(block.strip())):
        return "attribution"
    return "body"


def heading_role(heading: str, title: str | None) -> str:
    return "title" if title and _plain(heading).casefold() == _plain(title).casefold() else "heading"


def _is_citation(plain: str) -> bool:
    if _CITATION.match(plain):
        return True
    return len(_CITATION_MARKS.findall(plain)) >= 2 or bool(_CITATION_MARKS.search(plain) and _URL.search(plain))


def _is_name_line(plain: str) -> bool:
    """A bare personal name on its own line ("Heather Zeiger"): two to four capitalized words, nothing else."""
    words = plain.split()
    return 2 <= len(words) <= 4 and all(_NAME_WORD.match(w) for w in words)


def _heading_text(text: str) -> str:
    return re.sub(r"[ \t]+#+[ \t]*$", "", text.strip()).lstrip("#")


def _plain(text: str) -> str:
    return " ".join(_MARKUP.sub(" ", text).split())

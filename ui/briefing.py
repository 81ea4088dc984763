"""Briefings: questions with their answers, footnoted verbatim quotes and a source list (.md, .html, .docx).

Footnotes are numbered across the whole briefing. Output is a function of the answers, the title and the
index date only (the newest ``ingested_at``, see ``service.index_date``): no clock, so the same index gives
byte-identical files (the .docx zip entries get a fixed timestamp too). Built with the store's ``Origins``, a
briefing ends with a Provenance appendix (one line per quote, see ``provenance``) that ``verbatim verify`` reads.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from verbatim_qa.qa.answer import MODEL_WORDS, UNSUPPORTED, Answer
from verbatim_qa.qa.render import flat, where
from verbatim_qa.text.markdown import escape_html
from verbatim_qa.types import Citation

from .html import FONT_STACK, e, said_paragraphs
from .pages import page_url
from .provenance import HEADING, INTRO, Origins, Record
from .text import direction, is_rtl

FORMATS = (".md", ".html", ".docx")


@dataclass(frozen=True)
class Segment:
    """A run of a briefing paragraph."""

    kind: str  # "text" | "quote" | "marker" | "key" (the answer's key fact, bold) | "label" (MODEL_WORDS, italic)
    text: str
    n: int | None = None  # the footnote number of a marker or a quote


@dataclass
class Note:
    num: int  # footnote number across the briefing
    citation: Citation
    record: Record | None = None  # its provenance (document, text hash, offsets), when built with Origins


@dataclass
class Item:
    question: str
    refused: bool
    paragraphs: list[list[Segment]]  # marker segments carry the footnote number
    notes: list[Note] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # the answerer's notes (e.g. dropped LLM claims)


@dataclass
class Briefing:
    title: str
    date: str | None
    items: list[Item]
    # base URL of the Verbatim server the .html links cited PDF pages to ("": links relative to the server root)
    server: str = ""

    def sources(self) -> list[tuple[str, str, list[str]]]:
        """(title, file, places cited) per cited document, in order of first citation."""
        out: dict[str, tuple[str, list[str]]] = {}
        for item in self.items:
            for note in item.notes:
                c = note.citation
                title, places = out.setdefault(c.source, (c.title, []))
                place = ", ".join(p for p in (c.section if c.section != c.title else None,
                                              f"p. {c.page}" if c.page is not None else None) if p)
                if place and place not in places:
                    places.append(place)
        return [(title, source, places) for source, (title, places) in out.items()]

    def records(self) -> list[Record]:
        return [note.record for item in self.items for note in item.notes if note.record is not None]


def build(answers: list[Answer], title: str = "Briefing", date: str | None = None,
          origins: Origins | None = None) -> Briefing:
    items, num = [], 0
    for a in answers:
        notes = []
        for c in a.citations:
            num += 1
            notes.append(Note(num, c, origins.record(num, c) if origins is not None else None))
        items.append(Item(a.question, a.refused, answer_paragraphs(a, {c.n: note.num for c, note in
                                                                      zip(a.citations, notes)}),
                          notes, list(a.notes)))
    return Briefing(title, date, items)


def answer_paragraphs(a: Answer, footnote: dict[int, int]) -> list[list[Segment]]:
    """The answer's parts as paragraphs of segments (``footnote``: citation number -> footnote number): the key
    fact (bold in every format), the caveat, the language note, the model's sentences, the quotes."""
    if a.refused:
        return [[Segment("text", a.answer)]]
    paras = []
    if a.answer_span is not None:
        span = a.answer_span
        paras.append([Segment("key", span.text), Segment("text", f" (reading: {span.reading})" if span.reading
                                                          else "")])
    paras += [[Segment("text", x)] for x in (a.caveat, a.language_note) if x]
    if a.sentences:
        paras.append([Segment("label", MODEL_WORDS)])
    for para in said_paragraphs(a.sentences):
        segs = []
        for s in para:
            if s is not para[0]:
                segs.append(Segment("text", s.gap))
            for piece in s.pieces:
                if isinstance(piece, str):
                    segs.append(Segment("text", piece))
                elif piece.n is None:
                    segs.append(Segment("text", UNSUPPORTED))
                else:
                    segs.append(Segment("marker", f"[{piece.n}]", footnote[piece.n]))
        paras.append(segs)
    by_n = {c.n: c for c in a.citations}
    for n in a.quoted:
        paras.append([Segment("text", "“"), Segment("quote", by_n[n].quote, footnote[n]), Segment("text", "” "),
                      Segment("marker", f"[{n}]", footnote[n])])
    return paras


def _summary(b: Briefing) -> str:
    n = len(b.items)
    quotes = sum(len(i.notes) for i in b.items)
    s = f"{n} question{'s' if n != 1 else ''}, {quotes} verbatim quote{'s' if quotes != 1 else ''}"
    return s + (f"; index as of {b.date}" if b.date else "")


# ---- Markdown ---------------------------------------------------------------------------------------------
def to_markdown(b: Briefing) -> str:
    lines = [f"# {flat(b.title)}", "", f"_{_summary(b)}._", ""]
    for k, item in enumerate(b.items, 1):
        lines += [f"## {k}. {flat(item.question)}", ""]
        if item.refused:
            lines += ["_Not answered by the documents._", ""]
        for segs in item.paragraphs:
            lines += ["".join(f"[^{s.n}]" if s.kind == "marker" else f"**{s.text}**" if s.kind == "key" else
                              f"_{s.text}_" if s.kind == "label" else s.text for s in segs), ""]
        lines += [f"> Note: {flat(x)}" for x in item.extra] + ([""] if item.extra else [])
        for note in item.notes:
            lines.append(f"[^{note.num}]: “{flat(note.citation.quote)}” — {where(note.citation)}")
        if item.notes:
            lines.append("")
    lines += ["## Sources", ""]
    srcs = b.sources()
    lines += [f"- **{flat(t)}** ({s})" + (f": {'; '.join(p)}" if p else "") for t, s, p in srcs] or ["- none cited"]
    if records := b.records():
        lines += ["", f"## {HEADING}", "", INTRO, ""] + [f"- {r.line()}" for r in records]
    return escape_html("\n".join(lines)) + "\n"


# ---- HTML -------------------------------------------------------------------------------------------------
_CSS = f"""
body {{ font-family: {FONT_STACK}; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.6;
       color: #1f2937; }}
h1 {{ font-size: 1.7rem; }} h2 {{ font-size: 1.2rem; margin-top: 2rem; }}
.summary {{ color: #6b7280; }} .refused {{ color: #92400e; font-style: italic; }}
.quote {{ background: #f3f4f6; }} .said-tag {{ color: #6b7280; }} sup a {{ text-decoration: none; }}
ol.notes {{ font-size: .92rem; color: #374151; }} .where {{ color: #6b7280; }}
.provenance li {{ font-size: .8rem; overflow-wrap: anywhere; }}
"""


def to_html(b: Briefing) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(b.title)}</title><style>{_CSS}</style></head><body>",
           f'<h1 dir="auto">{e(b.title)}</h1>', f'<p class="summary">{e(_summary(b))}.</p>']
    for k, item in enumerate(b.items, 1):
        out.append(f'<section><h2 dir="auto">{k}. {e(item.question)}</h2>')
        if item.refused:
            out.append('<p class="refused">Not answered by the documents.</p>')
        for segs in item.paragraphs:
            text = "".join(s.text for s in segs)
            html_segs = []
            for s in segs:
                if s.kind == "marker":
                    html_segs.append(f'<sup><a href="#fn-{s.n}" id="ref-{s.n}">{s.n}</a></sup>')
                elif s.kind == "quote":
                    html_segs.append(f'<span class="quote" dir="auto">{e(s.text)}</span>')
                elif s.kind == "key":
                    html_segs.append(f'<b class="key" dir="auto">{e(s.text)}</b>')
                elif s.kind == "label":
                    html_segs.append(f'<i class="said-tag">{e(s.text)}</i>')
                else:
                    html_segs.append(e(s.text))
            out.append(f'<p dir="{direction(text) or "auto"}">{"".join(html_segs)}</p>')
        out += [f'<p class="refused" dir="auto">Note: {e(x)}</p>' for x in item.extra]
        if item.notes:
            out.append(f'<ol class="notes" start="{item.notes[0].num}">')
            for note in item.notes:
                c = note.citation
                page = ""
                if note.record is not None and note.record.doc_id and c.page is not None \
                        and c.source.lower().endswith(".pdf"):
                    url = b.server.rstrip("/") + page_url(note.record.doc_id, c.page, c.char_start, c.char_end,
                                                          collection=note.record.collection)
                    page = f' <a class="page" href="{e(url)}">page {e(c.page)}, quote highlighted</a>'
                out.append(f'<li id="fn-{note.num}"><span dir="auto">“{e(c.quote)}”</span> '
                           f'<span class="where" dir="auto">— {e(where(c))}</span>{page} '
                           f'<a href="#ref-{note.num}">↩</a></li>')
            out.append("</ol>")
        out.append("</section>")
    out.append("<section><h2>Sources</h2><ul>")
    srcs = b.sources()
    out += [f'<li dir="auto"><b>{e(t)}</b> ({e(s)})' + (f": {e('; '.join(p))}" if p else "") + "</li>"
            for t, s, p in srcs] or ["<li>none cited</li>"]
    out.append("</ul></section>")
    if records := b.records():
        out.append(f'<section class="provenance"><h2>{HEADING}</h2><p class="where">{e(INTRO)}</p><ul>')
        out += [f'<li class="where" dir="ltr">{e(r.line())}</li>' for r in records]
        out.append("</ul></section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# ---- DOCX -------------------------------------------------------------------------------------------------
def to_docx(b: Briefing) -> bytes:
    import docx
    from docx.shared import Pt

    d = docx.Document()
    stamp = _stamp(b.date)
    props = d.core_properties
    props.title, props.author, props.last_modified_by = b.title, "Verbatim", "Verbatim"
    props.created = props.modified = stamp
    props.last_printed = stamp
    props.revision = 1
    props.comments = ""
    d.add_heading(b.title, 0)
    d.add_paragraph(_summary(b) + ".").runs[0].italic = True
    for k, item in enumerate(b.items, 1):
        _bidi(d.add_heading(f"{k}. {flat(item.question)}", 1), item.question)
        if item.refused:
            d.add_paragraph().add_run("Not answered by the documents.").italic = True
        for segs in item.paragraphs:
            text = "".join(s.text for s in segs)
            p = _bidi(d.add_paragraph(), text)
            for s in segs:
                if s.kind == "marker":
                    run = p.add_run(str(s.n))
                    run.font.superscript = True
                else:
                    run = p.add_run(s.text)
                    run.italic = s.kind in ("quote", "label")
                    run.bold = s.kind == "key"
                _rtl_run(run, s.text)
        for x in item.extra:
            d.add_paragraph().add_run(f"Note: {x}").italic = True
        for note in item.notes:
            c = note.citation
            p = _bidi(d.add_paragraph(), c.quote)
            p.paragraph_format.left_indent = Pt(12)
            num = p.add_run(f"{note.num}. ")
            num.bold = True
            q = p.add_run(f"“{flat(c.quote)}”")
            _rtl_run(q, c.quote)
            p.add_run(f" — {where(c)}").font.size = Pt(9)
    d.add_heading("Sources", 1)
    srcs = b.sources()
    for t, s, places in srcs:
        p = _bidi(d.add_paragraph(style="List Bullet"), t)
        p.add_run(t).bold = True
        p.add_run(f" ({s})" + (f": {'; '.join(places)}" if places else ""))
    if not srcs:
        d.add_paragraph("none cited", style="List Bullet")
    if records := b.records():
        d.add_heading(HEADING, 1)
        d.add_paragraph().add_run(INTRO).font.size = Pt(9)
        for r in records:
            d.add_paragraph().add_run(r.line()).font.size = Pt(8)
    buf = io.BytesIO()
    d.save(buf)
    return _fixed_zip(buf.getvalue(), stamp)


def _stamp(date: str | None) -> datetime:
    if date:
        return datetime.fromisoformat(date).replace(tzinfo=UTC)
    return datetime(2000, 1, 1, tzinfo=UTC)


def _bidi(paragraph, text: str):
    """Right-to-left paragraph when its text starts with a right-to-left letter (Persian)."""
    if is_rtl(text):
        from docx.oxml import OxmlElement

        paragraph._p.get_or_add_pPr().append(OxmlElement("w:bidi"))
    return paragraph


def _rtl_run(run, text: str) -> None:
    if is_rtl(text):
        from docx.oxml import OxmlElement

        run._r.get_or_add_rPr().append(OxmlElement("w:rtl"))


def _fixed_zip(data: bytes, stamp: datetime) -> bytes:
    """Re-pack with one fixed timestamp per entry, so equal documents are equal bytes."""
    when = (max(stamp.year, 1980), stamp.month, stamp.day, 0, 0, 0)
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=when)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


# ---- files ------------------------------------------------------------------------------------------------
def render(b: Briefing, fmt: str) -> bytes:
    if fmt == ".md":
        return to_markdown(b).encode("utf-8")
    if fmt == ".html":
        return to_html(b).encode("utf-8")
    if fmt == ".docx":
        return to_docx(b)
    raise ValueError(f"unsupported briefing format {fmt!r}: use {', '.join(FORMATS)}")


def write(b: Briefing, out: Path) -> None:
    data = render(b, out.suffix.lower())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)

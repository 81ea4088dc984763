"""HTML for the web chat. Document text is untrusted: every piece of it goes through ``html.escape`` here.

Nothing in this module runs scripts; the page's one handler (``ui/static/chat.js``) copies a citation's
pre-rendered, already escaped source block into the source panel and copies an answer's Markdown.
Direction: messages, quotes and passages carry ``dir="auto"`` (Persian, Arabic, Urdu and Hebrew right-to-left by the
bidi class of their letters, every other script left-to-right);
a paragraph gets an explicit direction from its first strong character, because ``dir="auto"`` on it would
skip the quote inside (which has its own ``dir``).
"""

from __future__ import annotations

import html

from verbatim_qa.qa.answer import Answer

from .pages import page_url
from .text import direction, paragraphs, segments

# Per script the first installed font that has it: Persian/Arabic/Urdu (Vazirmatn, Tahoma, Noto Naskh Arabic, Noto
# Nastaliq Urdu), Hebrew (Tahoma, Noto Sans Hebrew), Cyrillic and Latin (Segoe UI, Noto Sans, DejaVu Sans), Chinese
# (Microsoft YaHei on Windows, PingFang SC on macOS, Noto Sans CJK SC on Linux); the browser falls back per glyph.
FONT_STACK = ("Vazirmatn, Tahoma, 'Noto Naskh Arabic', 'Noto Nastaliq Urdu', 'Noto Sans Hebrew', 'Segoe UI', "
              "'Noto Sans', 'DejaVu Sans', 'Microsoft YaHei', 'PingFang SC', 'Noto Sans CJK SC', sans-serif")
CARD_QUOTE_CHARS = 240


def e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


# ---- the answer as the UI keeps it ------------------------------------------------------------------------
def answer_view(answer: Answer, records=(), token: str = "") -> dict:
    """A plain dict of what the chat shows; each citation carries the chunk it lies in (the panel's context), its
    document id and, for PDFs, how the text was extracted (``records``: the store's DocRecords) and the address
    of its page image (signed with ``token`` when the server has one)."""
    extracted = {r.doc_id: r.extracted_by for r in records}
    view = answer.to_dict()
    view.pop("retrieved")
    view["answerer"] = answer.answerer
    view["notes"] = list(answer.notes)
    for c in view["citations"]:
        c["context"], c["context_start"] = c["quote"], c["char_start"]
        for r in answer.retrieved:
            ch = r.chunk
            if ch.source == c["source"] and ch.char_start <= c["char_start"] and c["char_end"] <= ch.char_end:
                c["context"], c["context_start"] = ch.text, ch.char_start
                c["doc_id"], c["extracted_by"] = ch.doc_id, extracted.get(ch.doc_id, "")
                if c.get("page") is not None and c["source"].lower().endswith(".pdf"):
                    c["page_url"] = page_url(ch.doc_id, c["page"], c["char_start"], c["char_end"], token)
                break
    return view


# ---- conversation -----------------------------------------------------------------------------------------
WELCOME = (
    '<div class="vb-welcome"><p><b>Ask a question about your documents.</b> Every quote in an answer is an exact '
    "span of a source: click a marker <span class=\"vb-cite-demo\">1</span> or a source card to see it in "
    "its passage. When the documents do not answer, Verbatim says so.</p>"
    '<p dir="rtl">پرسش خود را به فارسی یا انگلیسی بنویسید.</p></div>'
)

PANEL_EMPTY = (
    '<div class="vb-panel"><div class="vb-panel-head">Source</div>'
    '<div class="vb-panel-body" id="vb-panel-body"><p class="vb-muted">Click a citation marker or a source card '
    "to see the passage it quotes, with the quoted words highlighted.</p></div></div>"
)


def conversation(turns: list[dict]) -> str:
    if not turns:
        return WELCOME
    return '<div class="vb-convo">' + "".join(turn_html(i, t) for i, t in enumerate(turns)) + "</div>"


def turn_html(i: int, turn: dict) -> str:
    parts = [f'<div class="vb-msg vb-user" dir="auto">{e(turn["question"])}</div>']
    status = turn.get("status")
    if status == "streaming":
        text = "".join(f'<p dir="{direction(p) or "auto"}">{e(p)}</p>' for p in paragraphs(turn.get("text", "")))
        parts.append(f'<div class="vb-msg vb-bot vb-streaming" dir="auto">{text}<span class="vb-caret"></span></div>')
    elif status == "error":
        parts.append('<div class="vb-msg vb-error" role="alert"><b>Could not answer.</b> '
                     f'<span dir="auto">{e(turn.get("error", ""))}</span></div>')
    else:
        parts.append(answer_html(i, turn["answer"], turn.get("markdown", "")))
    return f'<div class="vb-turn" id="vb-turn-{i}">' + "".join(parts) + "</div>"


def _src_id(i: int, n: int) -> str:
    return f"vb-src-{i}-{n}"


def answer_html(i: int, view: dict, markdown: str) -> str:
    cits = view["citations"]
    quotes = {c["n"]: c["quote"] for c in cits}
    by_n = {c["n"]: c for c in cits}
    body = []
    if view["refused"]:
        body.append('<div class="vb-refusal-tag">Not answered by the documents</div>')
    paras = paragraphs(view["answer"])
    span = view.get("answer_span")
    if span and paras and paras[0].startswith(f"**{span['text']}**"):  # the key fact, marked in bold
        reading = (f' <span class="vb-reading">(reading: {e(span["reading"])})</span>' if span.get("reading")
                   else "")
        body.append(f'<p class="vb-key" dir="auto"><b dir="auto">{e(span["text"])}</b>{reading}</p>')
        paras = paras[1:]
    if view.get("caveat") and paras and paras[0] == view["caveat"]:
        body.append(f'<p class="vb-caveat" dir="auto">{e(view["caveat"])}</p>')
        paras = paras[1:]
    for p in paras:
        pieces = []
        for seg in segments(p, quotes):
            if seg.kind == "quote":
                pieces.append(f'<span class="vb-quote" dir="auto">{e(seg.text)}</span>')
            elif seg.kind == "marker":
                c = by_n[seg.n]
                pieces.append(f'<button type="button" class="vb-cite" data-src="{_src_id(i, seg.n)}" '
                              f'title="{e(c["title"])}">{seg.n}</button>')
            else:
                pieces.append(e(seg.text))
        body.append(f'<p dir="{direction(p) or "auto"}">{"".join(pieces)}</p>')
    kind = "vb-bot vb-refusal" if view["refused"] else "vb-bot"
    out = [f'<div class="vb-msg {kind}" dir="auto">{"".join(body)}']
    searched = view.get("search_query")
    if searched and searched != view["question"]:  # a follow-up: what was searched for it
        out.append(f'<p class="vb-searched vb-muted" dir="auto">Searched as: {e(searched)}</p>')
    if view.get("notes"):
        out.append('<ul class="vb-notes">' + "".join(f'<li dir="auto">{e(n)}</li>' for n in view["notes"]) + "</ul>")
    if cits:
        out.append('<div class="vb-cards">' + "".join(card_html(i, c) for c in cits) + "</div>")
    out.append(
        '<div class="vb-tools"><button type="button" class="vb-copy">Copy as Markdown</button>'
        f'<textarea class="vb-md" hidden readonly>{e(markdown)}</textarea>'
        f'<span class="vb-answerer">{e(view.get("answerer", ""))}</span></div>'
    )
    out.append("".join(source_html(i, c) for c in cits))
    out.append("</div>")
    return "".join(out)


def where_html(c: dict) -> str:
    parts = []
    if c.get("section") and c["section"] != c["title"]:
        parts.append(f'<span dir="auto">{e(c["section"])}</span>')
    if c.get("page") is not None:
        parts.append(f"p. {e(c['page'])}")
    return " · ".join(parts)


def card_html(i: int, c: dict) -> str:
    quote = " ".join(c["quote"].split())
    if len(quote) > CARD_QUOTE_CHARS:
        quote = quote[: CARD_QUOTE_CHARS - 1] + "…"
    where = where_html(c)
    return (
        f'<div class="vb-card" role="button" tabindex="0" data-src="{_src_id(i, c["n"])}">'
        f'<div class="vb-card-head"><span class="vb-card-n">{c["n"]}</span>'
        f'<span class="vb-card-title" dir="auto">{e(c["title"])}</span></div>'
        + (f'<div class="vb-card-where">{where}</div>' if where else "")
        + f'<div class="vb-quote vb-card-quote" dir="auto">{e(quote)}</div></div>'
    )


def source_html(i: int, c: dict) -> str:
    """The panel content for one citation (hidden in the answer; the click handler shows it in the panel)."""
    ctx, base = c["context"], c["context_start"]
    a, b = c["char_start"] - base, c["char_end"] - base
    if not (0 <= a <= b <= len(ctx)) or ctx[a:b] != c["quote"]:
        ctx, a, b = c["quote"], 0, len(c["quote"])
    text = f"{e(ctx[:a])}<mark>{e(ctx[a:b])}</mark>{e(ctx[b:])}"
    rows = [("File", f'<span dir="auto">{e(c["source"])}</span>')]
    if c.get("section"):
        rows.append(("Section", f'<span dir="auto">{e(c["section"])}</span>'))
    rows.append(("Page", e(c["page"]) if c.get("page") is not None else "—"))
    rows.append(("Characters", f"{c['char_start']}–{c['char_end']}"))
    if "ocr" in c.get("extracted_by", ""):
        rows.append(("Text", "read by OCR (Tesseract) from a scanned page: check the quote against the image"))
    meta = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    image = ""
    if c.get("page_url"):
        url = c["page_url"]
        # loading="lazy": the hidden blocks of every citation do not fetch their page until shown in the panel
        image = (f'<a href="{e(url)}" target="_blank" rel="noopener"><img class="vb-page" loading="lazy" '
                 f'src="{e(url)}" alt="Page {e(c["page"])} of {e(c["source"])}, the quote highlighted"></a>')
    return (
        f'<div class="vb-src" id="{_src_id(i, c["n"])}" hidden>'
        f'<div class="vb-src-title"><span class="vb-card-n">{c["n"]}</span> '
        f'<span dir="auto">{e(c["title"])}</span></div>'
        f'<dl class="vb-src-meta">{meta}</dl>{image}'
        f'<div class="vb-src-text" dir="auto">{text}</div></div>'
    )


# ---- library ----------------------------------------------------------------------------------------------
def library(rows: list[dict]) -> str:
    if not rows:
        return '<p class="vb-muted" id="vb-library-empty">No documents yet: upload some above.</p>'
    head = "<tr><th>Title</th><th>File</th><th>Language</th><th>Chunks</th><th>Ingested</th></tr>"
    body = "".join(
        f'<tr data-doc-id="{e(r["id"])}"><td dir="auto">{e(r["title"])}</td><td dir="auto">{e(r["source"])}</td>'
        f'<td>{e(", ".join(r["langs"]))}</td><td>{e(r["chunks"])}</td><td>{e(r["ingested_at"])}</td></tr>'
        for r in rows
    )
    return f'<table class="vb-lib"><thead>{head}</thead><tbody>{body}</tbody></table>'


def upload_status(lines: list[tuple[bool, str, str]]) -> str:
    """(ok, file name, message) per file."""
    if not lines:
        return ""
    items = "".join(
        f'<li class="{"vb-ok" if ok else "vb-bad"}"><span class="vb-file" dir="auto">{e(name)}</span>: '
        f'<span dir="auto">{e(msg)}</span></li>'
        for ok, name, msg in lines
    )
    return f'<ul class="vb-status">{items}</ul>'


def notice(ok: bool, message: str) -> str:
    return f'<p class="{"vb-ok" if ok else "vb-bad"}" dir="auto">{e(message)}</p>'

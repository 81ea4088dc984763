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

from verbatim_qa.qa.answer import MODEL_WORDS, UNSUPPORTED, Answer, Marker, ModelSentence
from verbatim_qa.types import Chunk, Citation

from .pages import page_url
from .text import direction, paragraphs

# Per script the first installed font that has it: Persian/Arabic/Urdu (Vazirmatn, Tahoma, Noto Naskh Arabic, Noto
# Nastaliq Urdu), Hebrew (Tahoma, Noto Sans Hebrew), Cyrillic and Latin (Segoe UI, Noto Sans, DejaVu Sans), Chinese
# (Microsoft YaHei on Windows, PingFang SC on macOS, Noto Sans CJK SC on Linux); the browser falls back per glyph.
FONT_STACK = ("Vazirmatn, Tahoma, 'Noto Naskh Arabic', 'Noto Nastaliq Urdu', 'Noto Sans Hebrew', 'Segoe UI', "
              "'Noto Sans', 'DejaVu Sans', 'Microsoft YaHei', 'PingFang SC', 'Noto Sans CJK SC', sans-serif")
CARD_QUOTE_CHARS = 240


def e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


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


def conversation(turns: list[dict], token: str = "") -> str:
    """The chat's turns: {"question", "status": "streaming" | "done" | "error", "text" (the LLM's draft while
    streaming), "answer" (an Answer, when done), "markdown", "error"}. ``token``: the server's, to sign page images."""
    if not turns:
        return WELCOME
    return '<div class="vb-convo">' + "".join(turn_html(i, t, token) for i, t in enumerate(turns)) + "</div>"


def turn_html(i: int, turn: dict, token: str = "") -> str:
    parts = [f'<div class="vb-msg vb-user" dir="auto">{e(turn["question"])}</div>']
    status = turn.get("status")
    if status == "streaming":
        draft = "".join(f'<p dir="{direction(p) or "auto"}">{e(p)}</p>' for p in paragraphs(turn.get("text", "")))
        if draft:  # the language model's words as they arrive, before its quotes are checked
            draft = '<p class="vb-draft-tag vb-muted">Draft: the quotes are being checked</p>' + draft
        parts.append(f'<div class="vb-msg vb-bot vb-streaming" dir="auto">{draft}<span class="vb-caret"></span></div>')
    elif status == "error":
        parts.append('<div class="vb-msg vb-error" role="alert"><b>Could not answer.</b> '
                     f'<span dir="auto">{e(turn.get("error", ""))}</span></div>')
    else:
        parts.append(answer_html(i, turn["answer"], turn.get("markdown", ""), token, turn.get("collection", "")))
    return f'<div class="vb-turn" id="vb-turn-{i}">' + "".join(parts) + "</div>"


def _src_id(i: int, n: int) -> str:
    return f"vb-src-{i}-{n}"


def answer_html(i: int, answer: Answer, markdown: str, token: str = "", collection: str = "") -> str:
    """One answer, rendered from its parts: the key fact, the caveat, the language note, the model's own sentences
    (LLM answers), the quotes; then the notes, the source cards, the tools and the hidden source panels."""
    by_n = {c.n: c for c in answer.citations}
    body = []
    if answer.refused:
        body.append('<div class="vb-refusal-tag">Not answered by the documents</div>')
        body.append(f'<p dir="{direction(answer.answer) or "auto"}">{e(answer.answer)}</p>')
    span = answer.answer_span
    if span is not None:
        reading = f' <span class="vb-reading">(reading: {e(span.reading)})</span>' if span.reading else ""
        body.append(f'<p class="vb-key" dir="auto"><b dir="auto">{e(span.text)}</b>{reading}</p>')
    if answer.caveat:
        body.append(f'<p class="vb-caveat" dir="auto">{e(answer.caveat)}</p>')
    if answer.language_note:
        body.append(f'<p class="vb-lang-note" dir="{direction(answer.language_note) or "auto"}">'
                    f"{e(answer.language_note)}</p>")
    if answer.sentences:  # the model's own words, set apart from the verified quotes (a label, and vb-said's style)
        body.append(f'<p class="vb-said-tag">{e(MODEL_WORDS)}</p>')
    for para in said_paragraphs(answer.sentences):
        text = "".join(s.text() for s in para)
        pieces = "".join(_said_html(i, piece, by_n) for s in para for piece in s.pieces)
        body.append(f'<p class="vb-said" dir="{direction(text) or "auto"}">{pieces}</p>')
    for n in answer.quoted:
        c = by_n[n]
        body.append(f'<p dir="{direction(c.quote) or "auto"}">“<span class="vb-quote" dir="auto">{e(c.quote)}</span>'
                    f"” {_marker_html(i, c)}</p>")
    kind = "vb-bot vb-refusal" if answer.refused else "vb-bot"
    out = [f'<div class="vb-msg {kind}" dir="auto">{"".join(body)}']
    if answer.search_query and answer.search_query != answer.question:  # a follow-up: what was searched for it
        out.append(f'<p class="vb-searched vb-muted" dir="auto">Searched as: {e(answer.search_query)}</p>')
    if answer.notes:
        out.append('<ul class="vb-notes">' + "".join(f'<li dir="auto">{e(n)}</li>' for n in answer.notes) + "</ul>")
    if answer.citations:
        out.append('<div class="vb-cards">' + "".join(card_html(i, c) for c in answer.citations) + "</div>")
    out.append(
        '<div class="vb-tools"><button type="button" class="vb-copy">Copy as Markdown</button>'
        f'<textarea class="vb-md" hidden readonly>{e(markdown)}</textarea>'
        f'<span class="vb-answerer">{e(answer.answerer)}</span></div>'
    )
    out.append("".join(source_html(i, c, context_of(answer, c), page_link(c, token, collection))
               for c in answer.citations))
    out.append("</div>")
    return "".join(out)


def said_paragraphs(sentences: tuple[ModelSentence, ...]) -> list[list[ModelSentence]]:
    """The model's sentences grouped in its paragraphs (a blank line before a sentence starts a new one)."""
    paras: list[list[ModelSentence]] = []
    for s in sentences:
        if not paras or "\n\n" in s.gap:
            paras.append([s])
        else:
            paras[-1].append(s)
    return paras


def _said_html(i: int, piece: str | Marker, by_n: dict[int, Citation]) -> str:
    if isinstance(piece, str):
        return e(piece)
    if piece.n is None:
        return f'<span class="vb-unsupported" title="no verified quote backs this claim">{e(UNSUPPORTED)}</span>'
    return _marker_html(i, by_n[piece.n])


def _marker_html(i: int, c: Citation) -> str:
    return f'<button type="button" class="vb-cite" data-src="{_src_id(i, c.n)}" title="{e(c.title)}">{c.n}</button>'


def context_of(answer: Answer, c: Citation) -> Chunk | None:
    """The retrieved chunk the citation lies in (the panel shows the quote inside it)."""
    return next((r.chunk for r in answer.retrieved if r.chunk.doc_id == c.doc_id
                 and r.chunk.char_start <= c.char_start and c.char_end <= r.chunk.char_end), None)


def page_link(c: Citation, token: str = "", collection: str = "") -> str | None:
    """The address of a cited PDF page's image with the quote highlighted (signed with ``token`` when set);
    ``collection``: the answer's, when not the default."""
    if c.page is None or not c.doc_id or not c.source.lower().endswith(".pdf"):
        return None
    return page_url(c.doc_id, c.page, c.char_start, c.char_end, token, collection)


def where_html(c: Citation) -> str:
    parts = []
    if c.section and c.section != c.title:
        parts.append(f'<span dir="auto">{e(c.section)}</span>')
    if c.page is not None:
        parts.append(f"p. {e(c.page)}")
    return " · ".join(parts)


def card_html(i: int, c: Citation) -> str:
    quote = " ".join(c.quote.split())
    if len(quote) > CARD_QUOTE_CHARS:
        quote = quote[: CARD_QUOTE_CHARS - 1] + "…"
    where = where_html(c)
    return (
        f'<div class="vb-card" role="button" tabindex="0" data-src="{_src_id(i, c.n)}">'
        f'<div class="vb-card-head"><span class="vb-card-n">{c.n}</span>'
        f'<span class="vb-card-title" dir="auto">{e(c.title)}</span></div>'
        + (f'<div class="vb-card-where">{where}</div>' if where else "")
        + f'<div class="vb-quote vb-card-quote" dir="auto">{e(quote)}</div></div>'
    )


def source_html(i: int, c: Citation, context: Chunk | None = None, url: str | None = None) -> str:
    """The panel content for one citation (hidden in the answer; the click handler shows it in the panel): the quote
    highlighted inside ``context`` (its chunk), and the image of its page at ``url`` (PDFs)."""
    ctx, base = (context.text, context.char_start) if context is not None else (c.quote, c.char_start)
    a, b = c.char_start - base, c.char_end - base
    if not (0 <= a <= b <= len(ctx)) or ctx[a:b] != c.quote:
        ctx, a, b = c.quote, 0, len(c.quote)
    text = f"{e(ctx[:a])}<mark>{e(ctx[a:b])}</mark>{e(ctx[b:])}"
    rows = [("File", f'<span dir="auto">{e(c.source)}</span>')]
    if c.section:
        rows.append(("Section", f'<span dir="auto">{e(c.section)}</span>'))
    rows.append(("Page", e(c.page) if c.page is not None else "—"))
    rows.append(("Characters", f"{c.char_start}–{c.char_end}"))
    if c.ocr:
        rows.append(("Text", "read by OCR (Tesseract) from a scanned page: check the quote against the image"))
    meta = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    image = ""
    if url:
        # loading="lazy": the hidden blocks of every citation do not fetch their page until shown in the panel
        image = (f'<a href="{e(url)}" target="_blank" rel="noopener"><img class="vb-page" loading="lazy" '
                 f'src="{e(url)}" alt="Page {e(c.page)} of {e(c.source)}, the quote highlighted"></a>')
    return (
        f'<div class="vb-src" id="{_src_id(i, c.n)}" hidden>'
        f'<div class="vb-src-title"><span class="vb-card-n">{c.n}</span> '
        f'<span dir="auto">{e(c.title)}</span></div>'
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

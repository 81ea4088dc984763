"""The web chat (Gradio Blocks): a Chat tab with streamed, cited answers and a source panel; a Library tab.

The page loads nothing from outside the server: analytics off, a theme of locally installed fonts only (no
Google Fonts), no footer links, no run history. All document text reaches the page through ``ui/html.py``
(escaped); the one script (``CHAT_JS``) only moves already escaped HTML into the source panel and copies
Markdown to the clipboard.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from pathlib import Path

# Forced, not defaulted: some Gradio telemetry (error analytics) reads only this variable, not the Blocks flag.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402

from qa.render import to_markdown  # noqa: E402

from . import briefing  # noqa: E402
from . import html as H  # noqa: E402
from .service import Service, index_date, one_line  # noqa: E402
from .uploads import UploadError, allowed_types, size_text, stage_file  # noqa: E402

log = logging.getLogger(__name__)

EXAMPLES = [
    "Which country did China help open a police centre equipped with facial recognition?",
    "What share of Central Asian arms imports came from China?",  # answered from the Persian body
    "Where and when did Huawei hold its first Central Asia Innovation Day?",
    "چین در آسیای مرکزی چه هدف‌هایی دارد؟",
]
STREAM_EVERY = 0.03  # seconds between streamed re-renders of the conversation

THEME = gr.themes.Default(
    font=["Vazirmatn", "Tahoma", "Noto Naskh Arabic", "Segoe UI", "DejaVu Sans", "sans-serif"],
    font_mono=["DejaVu Sans Mono", "monospace"],
)

CSS = f"""
.gradio-container {{ font-family: {H.FONT_STACK}; }}
#vb-chat {{ min-height: 160px; }}
.vb-welcome {{ padding: 1rem 1.2rem; border: 1px dashed var(--border-color-primary); border-radius: 10px;
  color: var(--body-text-color-subdued); }}
.vb-cite-demo, .vb-cite {{ display: inline-block; min-width: 1.5em; padding: 0 .35em; margin: 0 .15em;
  border-radius: 999px; border: 1px solid #2563eb; background: #eff6ff; color: #1d4ed8; font-size: .8em;
  line-height: 1.45; font-weight: 600; text-align: center; cursor: pointer; vertical-align: super; }}
.vb-cite:hover, .vb-cite:focus {{ background: #2563eb; color: #fff; }}
.vb-turn {{ margin: 0 0 1.1rem 0; }}
.vb-msg {{ padding: .7rem 1rem; border-radius: 12px; margin: .35rem 0; line-height: 1.75; overflow-wrap: anywhere; }}
.vb-msg p {{ margin: .35rem 0; white-space: pre-wrap; }}
.vb-user {{ background: #eef2ff; margin-inline-start: 18%; border: 1px solid #c7d2fe; }}
.vb-bot {{ background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary);
  margin-inline-end: 6%; }}
.vb-quote {{ font-style: normal; }}
.vb-bot .vb-quote {{ background: #fefce8; box-decoration-break: clone; -webkit-box-decoration-break: clone; }}
.vb-refusal {{ background: #fffbeb; border: 1px solid #fcd34d; border-inline-start: 5px solid #f59e0b; }}
.vb-refusal-tag {{ font-weight: 600; color: #92400e; font-size: .9em; }}
.vb-error {{ background: #fef2f2; border: 1px solid #fca5a5; color: #991b1b; }}
.vb-streaming .vb-caret {{ display: inline-block; width: .5em; height: 1em; background: #6b7280;
  animation: vb-blink 1s steps(2) infinite; vertical-align: text-bottom; }}
@keyframes vb-blink {{ 50% {{ opacity: 0; }} }}
.vb-cards {{ display: flex; flex-wrap: wrap; gap: .5rem; margin-top: .6rem; }}
.vb-card {{ flex: 1 1 14rem; max-width: 100%; border: 1px solid var(--border-color-primary); border-radius: 10px;
  padding: .45rem .65rem; background: var(--background-fill-primary); cursor: pointer; font-size: .88em; }}
.vb-card:hover, .vb-card:focus, .vb-card.vb-active {{ border-color: #2563eb; box-shadow: 0 0 0 2px #bfdbfe; }}
.vb-card-head {{ display: flex; gap: .4rem; align-items: baseline; font-weight: 600; }}
.vb-card-n {{ display: inline-block; min-width: 1.4em; text-align: center; border-radius: 999px; background: #2563eb;
  color: #fff; font-size: .8em; padding: 0 .3em; }}
.vb-card-where {{ color: var(--body-text-color-subdued); font-size: .9em; }}
.vb-card-quote {{ margin-top: .3rem; color: var(--body-text-color); line-height: 1.6; }}
.vb-tools {{ display: flex; gap: .6rem; align-items: center; margin-top: .5rem; font-size: .85em; }}
.vb-copy {{ border: 1px solid var(--border-color-primary); border-radius: 6px; padding: .1rem .6rem;
  background: var(--background-fill-primary); cursor: pointer; font-size: .85rem; font-weight: 500; }}
.vb-answerer {{ color: var(--body-text-color-subdued); }}
.vb-notes {{ font-size: .85em; color: #92400e; }}
.vb-panel {{ border: 1px solid var(--border-color-primary); border-radius: 12px; padding: .8rem 1rem;
  position: sticky; top: .5rem; max-height: 85vh; overflow: auto; background: var(--background-fill-primary); }}
.vb-panel-head {{ font-weight: 700; margin-bottom: .4rem; }}
.vb-src-title {{ font-weight: 700; font-size: 1.05em; margin-bottom: .3rem; }}
.vb-src-meta {{ display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; font-size: .85em;
  color: var(--body-text-color-subdued); margin: 0 0 .6rem 0; }}
.vb-src-meta dd {{ margin: 0; }}
.vb-src-text {{ white-space: pre-wrap; line-height: 1.85; font-size: .95em; }}
.vb-src-text mark {{ background: #fde047; color: #111827; padding: .05em 0; border-radius: 2px; }}
.vb-muted {{ color: var(--body-text-color-subdued); }}
.vb-lib {{ width: 100%; border-collapse: collapse; font-size: .92em; }}
.vb-lib th, .vb-lib td {{ text-align: start; padding: .35rem .5rem;
  border-bottom: 1px solid var(--border-color-primary); }}
.vb-status {{ list-style: none; padding: 0; margin: .3rem 0; }}
.vb-ok {{ color: #166534; }} .vb-bad {{ color: #991b1b; }}
.vb-status li::before {{ content: "✓ "; }} .vb-status li.vb-bad::before {{ content: "✗ "; }}
.vb-file {{ font-weight: 600; }}
"""

# Runs once when the conversation component mounts (gr.HTML js_on_load): one delegated click handler.
CHAT_JS = r"""
const panelBody = () => document.getElementById('vb-panel-body');
function show(target) {
  const src = element.querySelector('#' + CSS.escape(target.dataset.src));
  const body = panelBody();
  if (!src || !body) return;
  body.innerHTML = src.innerHTML;  // pre-rendered server-side, every document string escaped
  element.querySelectorAll('.vb-active').forEach((x) => x.classList.remove('vb-active'));
  target.classList.add('vb-active');
  body.closest('.vb-panel').scrollIntoView({block: 'nearest'});
}
function copy(button) {
  const md = button.parentElement.querySelector('textarea.vb-md').value;
  const done = () => {
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = 'Copy as Markdown'; }, 1500);
  };
  const fallback = () => {
    const t = document.createElement('textarea'); t.value = md; document.body.appendChild(t); t.select();
    try { document.execCommand('copy'); done(); } finally { t.remove(); }
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(md).then(done, fallback);
  else fallback();
}
element.addEventListener('click', (ev) => {
  const target = ev.target.closest('[data-src]');
  if (target && element.contains(target)) { ev.preventDefault(); show(target); return; }
  const button = ev.target.closest('.vb-copy');
  if (button && element.contains(button)) { ev.preventDefault(); copy(button); }
});
element.addEventListener('keydown', (ev) => {
  const target = ev.target.closest('[data-src]');
  if (target && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); show(target); }
});
(function autoDir(tries) {  // the question box may render after this component: retry for a few seconds
  const q = document.querySelector('#vb-question textarea');
  if (q) q.setAttribute('dir', 'auto');
  else if (tries > 0) setTimeout(() => autoDir(tries - 1), 100);
})(100);
"""


def build_ui(service: Service) -> gr.Blocks:
    settings = service.settings
    max_size = size_text(settings.max_file_bytes)

    def source_choices() -> list[str]:
        return sorted({r.source for r in service.records()})

    def delete_choices() -> list[tuple[str, str]]:
        return [(f"{r.title} — {r.source}", r.doc_id) for r in service.records()]

    def refresh():
        return (H.library(service.documents()), gr.update(choices=delete_choices(), value=None),
                gr.update(choices=source_choices()))

    # ---- chat ---------------------------------------------------------------------------------------------
    def respond(question: str, turns: list[dict], k: float, sources: list[str] | None, answerer: str):
        question = (question or "").strip()
        if not question:
            yield H.conversation(turns), turns, gr.update()
            return
        turn = {"question": question, "status": "streaming", "text": ""}
        turns = [*turns, turn]
        yield H.conversation(turns), turns, ""
        last = time.monotonic()
        try:
            for ev in service.events(question, int(k), sources or None, answerer):
                if ev["type"] == "token":
                    turn["text"] += ev["text"]
                    if time.monotonic() - last >= STREAM_EVERY:
                        last = time.monotonic()
                        yield H.conversation(turns), turns, gr.update()
                elif ev["type"] == "answer":
                    answer = ev["answer"]
                    turn.update(status="done", answer=H.answer_view(answer), markdown=to_markdown(answer))
        except ValueError as exc:  # a bad setting (unknown source, unconfigured answerer)
            turn.update(status="error", error=one_line(exc))
        except Exception as exc:  # never a stack trace on the page
            log.exception("answering %r failed", question)
            turn.update(status="error", error=f"internal error ({type(exc).__name__}); see the server log")
        if turn["status"] == "streaming":
            turn.update(status="error", error="no answer was produced")
        yield H.conversation(turns), turns, gr.update()

    def briefing_files(turns: list[dict]):
        answers = [briefing.answer_from_view(t["answer"]) for t in turns if t.get("status") == "done"]
        if not answers:
            return gr.update(value=None, interactive=False), gr.update(value=None, interactive=False)
        b = briefing.build(answers, "Verbatim briefing", index_date(service.records()))
        paths = []
        for fmt in (".md", ".docx"):
            data = briefing.render(b, fmt)
            folder = _briefing_dir() / hashlib.sha256(data).hexdigest()[:16]
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"verbatim-briefing{fmt}"
            path.write_bytes(data)
            paths.append(path)
        return (gr.update(value=str(paths[0]), interactive=True), gr.update(value=str(paths[1]), interactive=True))

    def clear():
        return H.conversation([]), [], H.PANEL_EMPTY

    # ---- library ------------------------------------------------------------------------------------------
    def ingest_uploads(files, progress=gr.Progress()):
        files = files or []
        lines = []
        for i, f in enumerate(files):
            path = Path(f if isinstance(f, str) else getattr(f, "name", ""))
            progress((i, len(files)), desc=f"ingesting {path.name}")
            lines.append(ingest_one(path))
        return (H.upload_status(lines), *refresh(), None)

    def ingest_one(path: Path) -> tuple[bool, str, str]:
        name = path.name
        try:
            staged = stage_file(settings, path, name)
            name = staged.name
            result = service.ingest_staged(staged)
        except UploadError as exc:
            return False, name, exc.reason
        except Exception as exc:
            log.exception("ingesting upload %s failed", name)
            return False, name, f"internal error ({type(exc).__name__}); nothing was changed"
        if result["skipped"]:
            return True, name, "already in the library, unchanged"
        verb = "updated" if result["updated"] else "added"
        chunks = result["chunks"]
        return True, name, f"{verb}: {chunks} chunk{'s' if chunks != 1 else ''}"

    def delete_doc(doc_id: str | None):
        if not doc_id:
            return H.notice(False, "Choose a document to delete."), *refresh()
        record = service.store.document(doc_id)
        result = service.delete(doc_id)
        if result is None:
            return H.notice(False, "That document is no longer in the library."), *refresh()
        title = record.title if record else result["source"]
        return H.notice(True, f"Deleted “{title}” ({result['source']})."), *refresh()

    # ---- layout -------------------------------------------------------------------------------------------
    with gr.Blocks(title="Verbatim", analytics_enabled=False, fill_width=True, delete_cache=(3600, 3600)) as demo:
        turns = gr.State([])
        gr.HTML('<div class="vb-header"><h1 style="margin:.2rem 0">Verbatim</h1>'
                '<p class="vb-muted" style="margin:0">Answers from your documents, every quote verbatim and cited.'
                "</p></div>", js_on_load=None)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat", elem_id="vb-tab-chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        chat = gr.HTML(H.conversation([]), elem_id="vb-chat", js_on_load=CHAT_JS, autoscroll=True)
                        with gr.Row(equal_height=True):
                            question = gr.Textbox(show_label=False, placeholder="Ask a question (English or فارسی)",
                                                  lines=1, max_lines=4, scale=6, elem_id="vb-question",
                                                  autofocus=True)
                            ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="vb-ask")
                        gr.Examples(EXAMPLES, inputs=question, label="Example questions", elem_id="vb-examples")
                        with gr.Accordion("Settings", open=False, elem_id="vb-settings"):
                            k = gr.Slider(1, 20, value=min(settings.top_k, 20), step=1,
                                          label="Passages retrieved", elem_id="vb-k")
                            sources = gr.Dropdown(source_choices(), value=[], multiselect=True,
                                                  label="Restrict to documents (none = all)", elem_id="vb-sources")
                            llm = service.llm_configured
                            choices = [("Extractive: verbatim sentences, no model", "extractive")]
                            if llm:
                                choices.append((f"LLM: {settings.llm_model or 'configured model'}, quotes verified",
                                                "llm"))
                            answerer = gr.Radio(choices, value="llm" if llm else "extractive", label="Answerer",
                                                interactive=llm, elem_id="vb-answerer",
                                                info=None if llm else "Set VERBATIM_LLM_BASE_URL to enable the LLM.")
                        with gr.Row():
                            clear_btn = gr.Button("Clear conversation", size="sm", elem_id="vb-clear")
                            dl_md = gr.DownloadButton("Briefing (.md)", value=None, interactive=False, size="sm",
                                                      elem_id="vb-dl-md")
                            dl_docx = gr.DownloadButton("Briefing (.docx)", value=None, interactive=False, size="sm",
                                                        elem_id="vb-dl-docx")
                    with gr.Column(scale=2, min_width=320):
                        panel = gr.HTML(H.PANEL_EMPTY, elem_id="vb-panel", js_on_load=None)
            with gr.Tab("Library", id="library", elem_id="vb-tab-library"):
                gr.Markdown(f"Upload {allowed_types()} files, up to {max_size} each. A file that cannot be "
                            "read is refused with its reason and nothing else changes.")
                upload = gr.File(label="Upload documents", file_count="multiple", type="filepath",
                                 elem_id="vb-upload")
                status = gr.HTML("", elem_id="vb-upload-status", js_on_load=None)
                library = gr.HTML(H.library(service.documents()), elem_id="vb-library", js_on_load=None)
                with gr.Row(equal_height=True):
                    doc = gr.Dropdown(delete_choices(), value=None, label="Document", scale=4,
                                      elem_id="vb-delete-doc")
                    delete = gr.Button("Delete document", variant="stop", scale=1, elem_id="vb-delete")
                delete_status = gr.HTML("", elem_id="vb-delete-status", js_on_load=None)

        ask_inputs = [question, turns, k, sources, answerer]
        for trigger in (ask.click, question.submit):
            trigger(respond, ask_inputs, [chat, turns, question], show_progress="hidden").then(
                briefing_files, turns, [dl_md, dl_docx], show_progress="hidden")
        clear_btn.click(clear, None, [chat, turns, panel]).then(briefing_files, turns, [dl_md, dl_docx])
        upload.upload(ingest_uploads, upload, [status, library, doc, sources, upload])
        delete.click(delete_doc, doc, [delete_status, library, doc, sources])
        demo.load(refresh, None, [library, doc, sources])
    demo.queue(default_concurrency_limit=2)
    return demo


_BRIEFINGS: Path | None = None


def _briefing_dir() -> Path:
    """One temporary folder per process for conversation briefings; entries older than an hour are removed."""
    global _BRIEFINGS
    if _BRIEFINGS is None:
        _BRIEFINGS = Path(tempfile.mkdtemp(prefix="verbatim-briefings-"))
    cutoff = time.time() - 3600
    for old in _BRIEFINGS.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                for f in old.iterdir():
                    f.unlink()
                old.rmdir()
        except OSError:
            pass
    return _BRIEFINGS


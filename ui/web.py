"""The web chat (Gradio Blocks): a Chat tab with streamed, cited answers and a source panel; a Library tab.

The page loads nothing from outside the server: analytics off, a theme of locally installed fonts only (no
Google Fonts), no footer links, no run history. All document text reaches the page through ``ui/html.py``
(escaped); the one script (``static/chat.js``) only moves already escaped HTML into the source panel and
copies Markdown to the clipboard. The stylesheet and script are package data (``ui/static``), read when the page
is built. The one public Gradio endpoint is ``/ask`` (the chat answer); every other handler is private.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from importlib import resources
from pathlib import Path

# Forced, not defaulted: some Gradio telemetry (error analytics) reads only this variable, not the Blocks flag.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402

from verbatim_qa.contract import MAX_QUESTION_CHARS  # noqa: E402
from verbatim_qa.qa.events import Done, Token  # noqa: E402
from verbatim_qa.qa.render import to_markdown  # noqa: E402
from verbatim_qa.text.lines import one_line  # noqa: E402
from verbatim_qa.vectorstore.writer import WriterBusy  # noqa: E402

from . import briefing  # noqa: E402
from . import html as H  # noqa: E402
from .access import WRITE, Grant, Logins, NoAccess, acting_as  # noqa: E402
from .provenance import Origins  # noqa: E402
from .service import Service, check_question, index_date  # noqa: E402
from .uploads import UploadError, allowed_types, size_text, stage_file  # noqa: E402

log = logging.getLogger(__name__)

EXAMPLES = (
    "Which country did China help open a police centre equipped with facial recognition?",
    "What share of Central Asian arms imports came from China?",  # answered from the Persian body
    "Where and when did Huawei hold its first Central Asia Innovation Day?",
    "چین در آسیای مرکزی چه هدف‌هایی دارد؟",
)
STREAM_EVERY = 0.03  # seconds between streamed re-renders of the conversation

STATIC = "static"  # the page's stylesheet and script, package data of ``ui`` (see pyproject.toml)


def static_text(name: str) -> str:
    """A file of ``ui/static``, read from the installed package (editable or not)."""
    return resources.files(__package__).joinpath(STATIC, name).read_text(encoding="utf-8")


def page_theme() -> gr.themes.Base:
    """Gradio's default theme with the page's font stack (``H.FONT_STACK``), local fonts only."""
    fonts = [f.strip().strip("'\"") for f in H.FONT_STACK.split(",")]
    return gr.themes.Default(font=fonts, font_mono=["DejaVu Sans Mono", "monospace"])


def page_css() -> str:
    """``static/chat.css`` after the one value it takes from Python: the font stack, as ``--vb-font-stack``."""
    return f".gradio-container {{ --vb-font-stack: {H.FONT_STACK}; }}\n" + static_text("chat.css")


def build_ui(service: Service, logins: Logins | None = None) -> gr.Blocks:
    """The page over ``service``; ``logins``: the app's sign-in (ui/access.py), whose user every handler acts as."""
    settings = service.settings
    max_size = size_text(settings.max_file_bytes)
    briefing_dir = BriefingFolder()
    logins = logins or Logins(service.access)
    page_key = logins.access.page_key if logins.access.guarded else ""

    def user(request: gr.Request | None) -> Grant:
        """The signed-in user's grant: every handler reads the library as that user."""
        return logins.grant(getattr(request, "username", None))

    def shown(collection: str | None) -> str:
        """The collection as page links carry it: empty for the default."""
        return "" if not collection or collection == service.default else collection

    def source_choices(collection: str | None) -> list[str]:
        return sorted({r.source for r in service.records(collection)})

    def delete_choices(collection: str | None) -> list[tuple[str, str]]:
        return [(f"{r.title} — {r.source}", r.doc_id) for r in service.records(collection)]

    def library_parts(collection: str | None):
        return (H.library(service.documents(collection)), gr.update(choices=delete_choices(collection), value=None),
                gr.update(choices=source_choices(collection), value=[]))

    def refresh(collection: str | None, request: gr.Request):
        with acting_as(user(request)):
            try:
                return library_parts(collection)
            except (NoAccess, ValueError) as exc:
                return H.notice(False, one_line(exc)), gr.update(choices=[], value=None), gr.update(choices=[])

    def start(request: gr.Request):
        """On page load: the collections this user may read (the picker shows only with more than one)."""
        with acting_as(user(request)):
            names = list(service.collections())
            current = service.default if service.default in names else next(iter(names), None)
            picker = gr.update(choices=names, value=current, visible=len(names) > 1)
            if current is None:
                return picker, H.library([]), gr.update(choices=[], value=None), gr.update(choices=[], value=[])
            return picker, *library_parts(current)

    # ---- chat ---------------------------------------------------------------------------------------------
    def respond(question: str, turns: list[dict], k: float, sources: list[str] | None, answerer: str,
                collection: str | None = None, request: gr.Request = None):
        question = (question or "").strip()
        if not question:
            yield H.conversation(turns, page_key), turns, gr.update()
            return
        try:
            check_question(question)
        except ValueError as exc:  # before the turn is shown: the client gets an error event, the page a toast
            raise gr.Error(one_line(exc)) from exc
        # This conversation's earlier turns (answered ones): a follow-up ("Who built it?") is searched with them.
        history = [{"question": t["question"], "answer": t.get("text", "")} for t in turns if t.get("status") == "done"]
        turn = {"question": question, "status": "streaming", "text": "", "collection": shown(collection)}
        turns = [*turns, turn]
        yield H.conversation(turns, page_key), turns, ""
        last = time.monotonic()
        try:
            with acting_as(user(request)):  # the collection is opened (and its right checked) here, once
                events = service.events(question, int(k), sources or None, answerer, history=history,
                                        collection=collection or None)
            for ev in events:
                if isinstance(ev, Token):  # the language model's draft, shown until the verified answer replaces it
                    turn["text"] += ev.text
                    if time.monotonic() - last >= STREAM_EVERY:
                        last = time.monotonic()
                        yield H.conversation(turns, page_key), turns, gr.update()
                elif isinstance(ev, Done):
                    turn.update(status="done", answer=ev.answer, text=ev.answer.answer, markdown=to_markdown(ev.answer))
        except (ValueError, NoAccess) as exc:  # a bad setting (unknown source, unconfigured answerer), no right
            turn.update(status="error", error=one_line(exc))
        except Exception as exc:  # never a stack trace on the page
            log.exception("answering %r failed", question)
            turn.update(status="error", error=f"internal error ({type(exc).__name__}); see the server log")
        if turn["status"] == "streaming":
            turn.update(status="error", error="no answer was produced")
        yield H.conversation(turns, page_key), turns, gr.update()

    def briefing_files(turns: list[dict], request: gr.Request):
        done = [t for t in turns if t.get("status") == "done"]
        if not done:
            return gr.update(value=None, interactive=False), gr.update(value=None, interactive=False)
        collection = done[-1].get("collection") or None  # a briefing is of one collection: the last answer's
        answers = [t["answer"] for t in done if (t.get("collection") or None) == collection]
        with acting_as(user(request)):
            try:
                store = service.library(collection).store
            except NoAccess:
                return gr.update(value=None, interactive=False), gr.update(value=None, interactive=False)
            b = briefing.build(answers, "Verbatim briefing", index_date(store.documents()), Origins(store))
        paths = []
        for fmt in (".md", ".docx"):
            data = briefing.render(b, fmt)
            folder = briefing_dir() / hashlib.sha256(data).hexdigest()[:16]
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"verbatim-briefing{fmt}"
            path.write_bytes(data)
            paths.append(path)
        return (gr.update(value=str(paths[0]), interactive=True), gr.update(value=str(paths[1]), interactive=True))

    def clear():
        return H.conversation([]), [], H.PANEL_EMPTY

    # ---- library ------------------------------------------------------------------------------------------
    def ingest_uploads(files, collection: str | None, request: gr.Request, progress=gr.Progress()):
        files = files or []
        lines = []
        with acting_as(user(request)):
            for i, f in enumerate(files):
                path = Path(f if isinstance(f, str) else getattr(f, "name", ""))
                progress((i, len(files)), desc=f"ingesting {path.name}")
                lines.append(ingest_one(path, collection or None))
        return (H.upload_status(lines), *refresh(collection, request), None)

    def ingest_one(path: Path, collection: str | None) -> tuple[bool, str, str]:
        name = path.name
        try:
            service.check(collection, WRITE)
            staged = stage_file(settings, path, name)
            name = staged.name
            result = service.ingest_staged(staged, collection)
        except UploadError as exc:
            return False, name, exc.reason
        except (NoAccess, ValueError) as exc:
            return False, name, one_line(exc)
        except Exception as exc:  # a bug, not bad input: logged with its traceback, shown as one line for this
            log.exception("ingesting upload %s failed", name)  # file; the other files of the batch still go in
            return False, name, f"internal error ({type(exc).__name__}); nothing was changed"
        if result["skipped"]:
            return True, name, "already in the library, unchanged"
        verb = "updated" if result["updated"] else "added"
        chunks = result["chunks"]
        return True, name, f"{verb}: {chunks} chunk{'s' if chunks != 1 else ''}"

    def delete_doc(doc_id: str | None, collection: str | None, request: gr.Request):
        if not doc_id:
            return H.notice(False, "Choose a document to delete."), *refresh(collection, request)
        with acting_as(user(request)):
            try:
                record = service.library(collection or None, WRITE).store.document(doc_id)
                result = service.delete(doc_id, collection or None)
            except (WriterBusy, NoAccess, ValueError) as exc:
                return H.notice(False, one_line(exc)), *refresh(collection, request)
        if result is None:
            return H.notice(False, "That document is no longer in the library."), *refresh(collection, request)
        title = record.title if record else result["source"]
        return H.notice(True, f"Deleted “{title}” ({result['source']})."), *refresh(collection, request)

    # What the page is built with, before anyone signs in: the default collection on an open server, nothing of
    # any collection on a guarded one (each user's own fills in on load, ``start``).
    with acting_as(user(None)):
        try:
            initial = (service.documents(), delete_choices(None), source_choices(None))
        except NoAccess:
            initial = ([], [], [])

    # ---- layout -------------------------------------------------------------------------------------------
    with gr.Blocks(title="Verbatim", analytics_enabled=False, fill_width=True, delete_cache=(3600, 3600)) as demo:
        turns = gr.State([])
        gr.HTML('<div class="vb-header"><h1 style="margin:.2rem 0">Verbatim</h1>'
                '<p class="vb-muted" style="margin:0">Answers from your documents, every quote verbatim and cited.'
                "</p></div>", js_on_load=None)
        # The collection asked and shown in the Library tab; filled per user on load (only those it may read).
        # A name typed by an API client is checked by the service (ui/access.py), not against the list.
        collection = gr.Dropdown([], value=None, label="Collection", visible=False, elem_id="vb-collection",
                                 allow_custom_value=True)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat", elem_id="vb-tab-chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        chat = gr.HTML(H.conversation([]), elem_id="vb-chat", js_on_load=static_text("chat.js"),
                                       autoscroll=True)
                        with gr.Row(equal_height=True):
                            question = gr.Textbox(show_label=False, placeholder="Ask a question (English or فارسی)",
                                                  lines=1, max_lines=4, scale=6, elem_id="vb-question",
                                                  max_length=MAX_QUESTION_CHARS,
                                                  autofocus=True)
                            ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="vb-ask")
                        gr.Examples(list(EXAMPLES), inputs=question, label="Example questions", elem_id="vb-examples",
                                    api_visibility="private")
                        with gr.Accordion("Settings", open=False, elem_id="vb-settings"):
                            k = gr.Slider(1, 20, value=min(settings.retrieval.top_k, 20), step=1,
                                          label="Passages retrieved", elem_id="vb-k")
                            sources = gr.Dropdown(initial[2], value=[], multiselect=True, allow_custom_value=True,
                                                  label="Restrict to documents (none = all)", elem_id="vb-sources")
                            llm = service.llm_configured
                            choices = [("Extractive: verbatim sentences, no model", "extractive")]
                            if llm:
                                choices.append((f"LLM: {settings.llm.llm_model or 'configured model'}, quotes verified",
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
                library = gr.HTML(H.library(initial[0]), elem_id="vb-library", js_on_load=None)
                with gr.Row(equal_height=True):
                    doc = gr.Dropdown(initial[1], value=None, label="Document", scale=4,
                                      elem_id="vb-delete-doc")
                    delete = gr.Button("Delete document", variant="stop", scale=1, elem_id="vb-delete")
                delete_status = gr.HTML("", elem_id="vb-delete-status", js_on_load=None)

        # One endpoint is meant for clients: the chat answer, "/ask" (evals/load.py calls it through gradio_client).
        # Every other handler is the page's own and private: not listed in /gradio_api/info (not even with
        # all_endpoints) and not callable through the Gradio clients; the page calls it by its index.
        ask_inputs, ask_outputs = [question, turns, k, sources, answerer, collection], [chat, turns, question]
        ask.click(respond, ask_inputs, ask_outputs, show_progress="hidden", api_name="ask",
                  api_description="Answer a question from the documents: the conversation as HTML, every quote "
                  "cited, and the emptied question box.").then(
            briefing_files, turns, [dl_md, dl_docx], show_progress="hidden", api_visibility="private")
        question.submit(respond, ask_inputs, ask_outputs, show_progress="hidden", api_visibility="private").then(
            briefing_files, turns, [dl_md, dl_docx], show_progress="hidden", api_visibility="private")
        clear_btn.click(clear, None, [chat, turns, panel], api_visibility="private").then(
            briefing_files, turns, [dl_md, dl_docx], api_visibility="private")
        upload.upload(ingest_uploads, [upload, collection], [status, library, doc, sources, upload],
                      api_visibility="private")
        delete.click(delete_doc, [doc, collection], [delete_status, library, doc, sources], api_visibility="private")
        collection.change(refresh, collection, [library, doc, sources], api_visibility="private")
        demo.load(start, None, [collection, library, doc, sources], api_visibility="private")
    demo.queue(default_concurrency_limit=2)
    return demo


class BriefingFolder:
    """One temporary folder per built UI for conversation briefings, made on first use; on every use, entries
    older than an hour are removed."""

    def __init__(self) -> None:
        self._path: Path | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Path:
        with self._lock:
            if self._path is None:
                self._path = Path(tempfile.mkdtemp(prefix="verbatim-briefings-"))
            path = self._path
        cutoff = time.time() - 3600
        for old in path.iterdir():
            try:
                if old.stat().st_mtime < cutoff:
                    for f in old.iterdir():
                        f.unlink()
                    old.rmdir()
            except OSError:
                pass
        return path

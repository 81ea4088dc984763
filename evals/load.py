"""A bounded load run over HTTP: concurrent ``POST /api/ask`` clients while documents are uploaded and one is
deleted, every answer checked against the contract, latency reported as p50/p95.

What it proves is that readers and the single writer share one Service safely: answerers swapped after each
write, BM25 rebuilt, Chroma read and written from many threads. ``run_load`` drives a running server;
``python -m verbatim_qa.evals.load --clients 20 --requests 200`` serves a temporary copy of your index
(``VERBATIM_HOME``, or ``--home``) on 127.0.0.1, runs the load and prints the table; your index is never written.
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import queue
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from verbatim_qa.contract import ANSWER_KEYS, CITATION_KEYS, RETRIEVED_KEYS, SPAN_KEYS

from .metrics import percentile

DEV = Path(__file__).resolve().parent.parent / "evals" / "datasets" / "dev.jsonl"
UPLOADS = [  # written during the load; the first is deleted again once all are in
    ("load-glacier.md", "# Glacier notes\n\nThe Wakhan corridor bridge at Ishkashim was rebuilt in 2003 with funding "
                        "from the Aga Khan Foundation. Traders cross it every Saturday.\n"),
    ("load-customs.txt", "Customs memo\n\nThe Murghab customs post at Kulma Pass opened to trucks in 2004. Trucks "
                         "wait there until the road to Karakul reopens in spring.\n"),
    ("load-fa.md", "# یادداشت جاده\n\nجاده پامیر در سال ۱۹۴۰ تکمیل شد و خرگوش را به اوش وصل می‌کند. کامیون‌ها در "
                   "زمستان پشت گردنه منتظر می‌مانند.\n"),
]
_UI_QUOTE = re.compile(r'<span class="vb-quote" dir="auto">(.*?)</span>', re.S)
UPLOAD_QUESTIONS = ["When was the Wakhan corridor bridge at Ishkashim rebuilt?",
                    "When did the Murghab customs post at Kulma Pass open to trucks?"]


def dev_questions(path: Path = DEV) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class DocumentTexts:
    """Document text by file name, remembered once seen: an answer may cite a document deleted since."""

    def __init__(self, store) -> None:
        self.store, self._texts, self._lock = store, {}, threading.Lock()

    def remember_all(self) -> None:
        for r in self.store.documents():
            if r.source not in self._texts:
                text = self.store.document_text(r.doc_id)
                with self._lock:
                    self._texts[r.source] = text

    def get(self, source: str) -> str | None:
        if source not in self._texts:
            self.remember_all()
        return self._texts.get(source)

    def all(self) -> list[str]:
        self.remember_all()
        return list(self._texts.values())


def check_answer(ans: dict, question: str, text_of: Callable[[str], str | None] | None = None) -> list[str]:
    """Contract problems of one ``/api/ask`` answer (empty when it is valid). Without ``text_of`` quotes are
    checked against the retrieved passages only."""
    if not isinstance(ans, dict) or set(ans) != ANSWER_KEYS:
        return [f"keys {sorted(ans) if isinstance(ans, dict) else type(ans).__name__}"]
    bad = []
    if ans["question"] != question or not isinstance(ans["answer"], str) or not isinstance(ans["refused"], bool):
        bad.append("question/answer/refused types")
    retrieved = ans["retrieved"] if isinstance(ans["retrieved"], list) else []
    for r in retrieved:
        if not isinstance(r, dict) or set(r) != RETRIEVED_KEYS or not isinstance(r["score"], float):
            bad.append(f"retrieved entry {r!r:.80}")
            continue
        text = text_of(r["source"]) if text_of else None
        if text is not None and text[r["char_start"] : r["char_end"]] != r["text"]:
            bad.append(f"retrieved text of {r['source']} [{r['char_start']}:{r['char_end']}] is not the document's")
    citations = ans["citations"] if isinstance(ans["citations"], list) else None
    if citations is None or (ans["refused"] and citations) or (not ans["refused"] and not citations):
        return [*bad, f"citations {ans['citations']!r:.80} for refused={ans['refused']}"]
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", ans["answer"])}
    for i, c in enumerate(citations, 1):
        if not isinstance(c, dict) or set(c) != CITATION_KEYS or c["n"] != i or i not in markers:
            bad.append(f"citation {i} {c!r:.80}")
            continue
        start, end, quote = c["char_start"], c["char_end"], c["quote"]
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
            bad.append(f"citation {i} offsets {start}:{end}")
        elif text_of is not None:
            text = text_of(c["source"])
            if text is None or text[start:end] != quote:
                bad.append(f"citation {i}: quote is not {c['source']}[{start}:{end}]")
        elif not any(r["source"] == c["source"] and r["char_start"] <= start and end <= r["char_end"]
                     and r["text"][start - r["char_start"]:end - r["char_start"]] == quote for r in retrieved):
            bad.append(f"citation {i}: quote is not inside a retrieved passage")
    span = ans["answer_span"]
    if span is not None:
        inside = [c for c in citations if isinstance(c, dict) and c.get("source") == span.get("source")
                  and c["char_start"] <= span.get("char_start", -1) < span.get("char_end", -1) <= c["char_end"]]
        if set(span) != SPAN_KEYS or not inside:
            bad.append(f"answer_span {span!r:.80} is not inside a cited quote")
        elif (c := inside[0])["quote"][span["char_start"] - c["char_start"] : span["char_end"] - c["char_start"]] \
                != span["text"]:
            bad.append("answer_span text is not its quote's text at its offsets")
    if ans["caveat"] is not None and not isinstance(ans["caveat"], str):
        bad.append(f"caveat {ans['caveat']!r:.80}")
    return bad


def check_ui_page(page: str, texts: DocumentTexts | None = None) -> list[str]:
    """Problems of the web chat's rendered turn: an error box, no answer, or a quote no document contains."""
    if "vb-error" in page or "vb-bot" not in page or "vb-streaming" in page:
        return [f"web chat turn is not a finished answer: {page[-200:]!r}"]
    known = texts.all() if texts is not None else None
    quotes = [html.unescape(q) for q in _UI_QUOTE.findall(page)]
    return [f"web chat quote not in any document: {q[:80]!r}" for q in quotes
            if known is not None and not any(q in t for t in known)]


@dataclass
class Timed:
    what: str
    status: int  # HTTP status; 0 when the request itself failed
    t0: float
    t1: float
    detail: str = ""
    web: bool = False  # asked through the web chat rather than the API

    @property
    def ms(self) -> float:
        return (self.t1 - self.t0) * 1000


@dataclass
class LoadReport:
    asks: list[Timed] = field(default_factory=list)
    writes: list[Timed] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # HTTP errors, failed writes, contract violations
    wall_s: float = 0.0

    def overlapping(self) -> int:
        """Asks in flight while a write was."""
        return sum(any(a.t0 < w.t1 and w.t0 < a.t1 for w in self.writes) for a in self.asks)

    def summary(self) -> dict:
        """API asks' latency (ms) and errors; web-chat asks are counted on their own."""
        api = [a for a in self.asks if not a.web]
        ms = [a.ms for a in api if a.status == 200]
        web_ms = [a.ms for a in self.asks if a.web and a.status == 200]
        return {"requests": len(api), "errors": sum(a.status != 200 for a in self.asks),
                "problems": len(self.problems), "p50_ms": round(percentile(ms, 50)),
                "p95_ms": round(percentile(ms, 95)), "max_ms": round(max(ms, default=0.0)),
                "req_per_s": round(len(api) / max(self.wall_s, 1e-9), 2), "wall_s": round(self.wall_s, 1),
                "during_writes": self.overlapping(), "web_chat": len(self.asks) - len(api),
                "web_p50_ms": round(percentile(web_ms, 50))}

    def table(self) -> str:
        s = self.summary()
        lines = ["  ".join(f"{k:>13}" for k in s), "  ".join(f"{v!s:>13}" for v in s.values())]
        lines += [f"{w.what}: HTTP {w.status} in {w.ms / 1000:.1f} s {w.detail}".rstrip() for w in self.writes]
        return "\n".join(lines + [f"problem: {p}" for p in self.problems[:20]])


def run_load(base_url: str, questions: list[str], clients: int = 20, requests: int = 60,
             uploads: list[tuple[str, str]] = UPLOADS, delete_first: bool = True, texts: DocumentTexts | None = None,
             ui_clients: int = 0, ui_requests: int = 3, token: str = "", timeout: float = 300.0) -> LoadReport:
    """``requests`` asks from ``clients`` threads; after the first tenth, ``uploads`` go in one by one (and the
    first is deleted) from another thread. ``ui_clients`` more threads ask ``ui_requests`` questions each through
    the web chat (Gradio's queue, needs the UI mounted). Answers are checked after the run, against ``texts``
    when given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    report, answers, pages, lock = LoadReport(), [], [], threading.Lock()
    todo: queue.Queue[tuple[str, int | None]] = queue.Queue()
    for q, k in zip(itertools.islice(itertools.cycle(questions), requests), itertools.cycle([None, 3, 8])):
        todo.put((q, k))
    warmed = threading.Event()

    def asker() -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=timeout) as client:
            while True:
                try:
                    question, k = todo.get_nowait()
                except queue.Empty:
                    return
                t0 = time.monotonic()
                try:
                    r = client.post("/api/ask", json={"question": question, **({"k": k} if k else {})})
                    status, body = r.status_code, (r.json() if r.status_code == 200 else r.text[:200])
                except httpx.HTTPError as exc:
                    status, body = 0, f"{type(exc).__name__}: {exc}"
                done = Timed(question, status, t0, time.monotonic(), "" if status == 200 else str(body))
                with lock:
                    report.asks.append(done)
                    if status == 200:
                        answers.append((question, body))
                    else:
                        report.problems.append(f"ask {question!r}: HTTP {status} {body}")
                    if len(report.asks) >= max(1, requests // 10):
                        warmed.set()

    def ui_asker(i: int) -> None:
        from gradio_client import Client  # the web chat's own endpoint, through Gradio's queue

        client = Client(base_url.rstrip("/") + "/", verbose=False)
        try:
            for question in itertools.islice(itertools.cycle(questions), i, i + ui_requests):
                t0 = time.monotonic()
                try:
                    page, status = client.predict(question, 5, [], "extractive", api_name="/ask")[0], 200
                except Exception as exc:  # gradio_client raises AppError, httpx and queue errors: all failures
                    page, status = f"{type(exc).__name__}: {exc}", 0
                with lock:
                    report.asks.append(Timed(question, status, t0, time.monotonic(), web=True))
                    if status == 200:
                        pages.append(page)
                    else:
                        report.problems.append(f"web chat {question!r}: {page}")
        finally:
            client.close()  # ends its heartbeat stream, which would otherwise hold the server open at shutdown

    def writer() -> None:
        warmed.wait(timeout)
        try:
            write_all()
        except httpx.HTTPError as exc:
            report.problems.append(f"writer: {type(exc).__name__}: {exc}")

    def write_all() -> None:
        ids = {}
        with httpx.Client(base_url=base_url, headers=headers, timeout=timeout) as client:
            for name, text in uploads:
                t0 = time.monotonic()
                r = client.post("/api/ingest", files={"file": (name, text.encode("utf-8"), "text/plain")})
                ok = r.status_code == 200 and r.json().get("added") == 1
                report.writes.append(Timed(f"ingest {name}", r.status_code, t0, time.monotonic(),
                                           "" if ok else r.text[:200]))
                if not ok:
                    report.problems.append(f"ingest {name}: HTTP {r.status_code} {r.text[:200]}")
                    continue
                ids[name] = r.json()["document"]["id"]
                if texts is not None:
                    texts.remember_all()  # before any delete: answers may cite it after
            if delete_first and uploads and uploads[0][0] in ids:
                t0 = time.monotonic()
                r = client.delete(f"/api/sources/{ids[uploads[0][0]]}")
                report.writes.append(Timed(f"delete {uploads[0][0]}", r.status_code, t0, time.monotonic()))
                if r.status_code != 200:
                    report.problems.append(f"delete {uploads[0][0]}: HTTP {r.status_code} {r.text[:200]}")

    started = time.monotonic()
    threads = [threading.Thread(target=asker, name=f"ask-{i}") for i in range(clients)]
    threads += [threading.Thread(target=ui_asker, args=(i,), name=f"web-{i}") for i in range(ui_clients)]
    threads.append(threading.Thread(target=writer, name="writer"))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report.wall_s = time.monotonic() - started
    for question, body in answers:
        report.problems += [f"answer to {question!r}: {p}" for p in check_answer(body, question, texts and texts.get)]
    for page in pages:
        report.problems += check_ui_page(page, texts)
    return report


def main(argv: list[str] | None = None) -> int:
    from verbatim_qa.settings import Settings
    from verbatim_qa.ui.api import create_app
    from verbatim_qa.ui.server import BackgroundServer
    from verbatim_qa.ui.service import Service

    p = argparse.ArgumentParser(prog="python -m verbatim_qa.evals.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--home", type=Path, help="index to copy and serve (default: VERBATIM_HOME)")
    p.add_argument("--ui-clients", type=int, default=0, help="more clients asking through the web chat")
    p.add_argument("--no-writes", action="store_true", help="asks only: no uploads, no delete")
    args = p.parse_args(argv)
    source = Settings.from_env(**({"home": args.home} if args.home else {}))
    if not source.chroma_dir.exists():
        p.error(f"no index at {source.deployment.home}: run `verbatim ingest` first")
    with tempfile.TemporaryDirectory(prefix="verbatim-load-") as tmp:
        shutil.copytree(source.deployment.home, Path(tmp) / "home", ignore=shutil.ignore_patterns("uploads"))
        settings = source.with_(home=Path(tmp) / "home", token="", tokens_file="", llm_base_url="")
        service = Service(settings)
        with BackgroundServer(create_app(settings, service=service, ui=args.ui_clients > 0)) as url:
            report = run_load(url, dev_questions() + UPLOAD_QUESTIONS, args.clients, args.requests,
                              uploads=[] if args.no_writes else UPLOADS, texts=DocumentTexts(service.store),
                              ui_clients=args.ui_clients)
    print(report.table())
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

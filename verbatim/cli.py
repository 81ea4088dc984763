"""The ``verbatim`` command. Exit codes: 0 ok, 1 partial failure, 2 usage error."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is ever downloaded at run time
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # model loading must not garble the one-line-per-file output
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, Progress, TextColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from verbatim.settings import Settings  # noqa: E402

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        err.print(f"[red]configuration error:[/] {exc}")
        raise typer.Exit(2) from exc


def open_store(settings: Settings):
    """The store, or exit 2 with one line on stderr (mismatched embedder, unknown embedder, bad Chroma URL)."""
    from rich.markup import escape

    from vectorstore.store import EmbedderMismatch, Store

    try:
        return Store(settings)
    except (EmbedderMismatch, ValueError) as exc:
        err.print(f"[red]error:[/] {escape(' '.join(str(exc).split()))}", soft_wrap=True)
        raise typer.Exit(2) from exc


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(None, help="Files or folders (recursive). Default: corpus/"),
    prune: bool = typer.Option(False, help="Remove documents whose files are gone."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Ingest documents: unchanged ones are skipped, changed ones replaced."""
    from rich.markup import escape

    from ingest.pipeline import count_files, ingest_paths

    paths = paths or [Path("corpus")]
    missing = [p for p in paths if not p.exists()]
    if missing:
        err.print(f"[red]error:[/] no such file or folder: {escape(', '.join(map(str, missing)))}", soft_wrap=True)
        raise typer.Exit(2)
    store = open_store(_settings())
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  console=err, transient=True, disable=as_json or not err.is_terminal) as bar:
        task = bar.add_task("ingesting", total=count_files(paths))

        def on_file(path: Path) -> None:
            bar.update(task, description=f"ingesting {path.name}")
            bar.advance(task)

        report = ingest_paths(store, paths, prune=prune, on_file=on_file)
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        console.print(
            f"added {report.added}, updated {report.updated}, skipped {report.skipped}, "
            f"deleted {report.deleted}, failed {len(report.failed)}"
        )
        for f in report.failed:
            err.print(f"[yellow]failed:[/] {escape(f['path'])}: {escape(f['reason'])}", soft_wrap=True)
    raise typer.Exit(report.exit_code)


@app.command()
def sources(as_json: bool = typer.Option(False, "--json")) -> None:
    """List ingested documents."""
    from rich.markup import escape

    records = open_store(_settings()).documents()
    rows = [{"id": r.doc_id, "title": r.title, "source": r.source, "langs": list(r.langs), "chunks": r.chunks,
             "ingested_at": datetime.fromtimestamp(r.ingested_at).isoformat(timespec="seconds")} for r in records]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("title", "file", "language", "chunks", "ingested at")
    for r in rows:
        table.add_row(escape(r["title"]), escape(r["source"]), ",".join(r["langs"]), str(r["chunks"]), r["ingested_at"])
    console.print(table)


@app.command()
def search(
    question: str,
    k: int = typer.Option(5, "-k", min=1, max=100),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ranked chunks for a question (retrieval only)."""
    from qa.retriever import HybridRetriever

    settings = _settings()
    retriever = HybridRetriever.from_store(open_store(settings))
    hits = retriever.retrieve(question, k=k)
    rows = [{"source": h.chunk.source, "section": h.chunk.section, "char_start": h.chunk.char_start,
             "char_end": h.chunk.char_end, "score": round(h.score, 6), "text": h.chunk.text} for h in hits]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    for i, r in enumerate(rows, 1):
        console.print(f"[bold]{i}.[/] {r['source']} [dim]{r['section'] or ''} [{r['char_start']}:{r['char_end']}] "
                      f"score {r['score']:.4f}[/]")
        console.print(r["text"], markup=False)
        console.print()


@app.command()
def ask(
    question: str = typer.Argument(None, help="The question (or use --questions)."),
    k: int = typer.Option(5, "-k", min=1, max=50, help="Passages retrieved and reported."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object (the answer contract)."),
    markdown: bool = typer.Option(False, "--markdown", help="A briefing-ready snippet with footnotes."),
    questions: Path = typer.Option(None, help="JSONL with a 'question' field, or one question per line."),
    answerer: str = typer.Option("auto", help="auto | extractive | llm"),
) -> None:
    """Answer with verbatim, cited quotes (or say the documents do not answer)."""
    from qa.chain import build_answerer
    from qa.render import to_markdown

    if (question is None) == (questions is None):
        err.print("[red]error:[/] give a QUESTION or --questions FILE (not both)", soft_wrap=True)
        raise typer.Exit(2)
    batch = _read_questions(questions) if questions is not None else [question]
    settings = _settings()
    try:
        bot = build_answerer(settings, open_store(settings), answerer)
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(2) from exc
    for q in batch:
        ans = bot.answer(q, k)
        if as_json or questions is not None:
            print(json.dumps(ans.to_dict(), ensure_ascii=False))
        elif markdown:
            print(to_markdown(ans))
        else:
            _print_answer(ans)


def _read_questions(path: Path) -> list[str]:
    if not path.is_file():
        err.print(f"[red]error:[/] {path}: no such file", soft_wrap=True)
        raise typer.Exit(2)
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                out.append(str(json.loads(line)["question"]))
            except (json.JSONDecodeError, KeyError) as exc:
                err.print(f"[red]error:[/] {path}:{n}: not a JSON object with a 'question' field", soft_wrap=True)
                raise typer.Exit(2) from exc
        else:
            out.append(line)
    return out


def _print_answer(ans) -> None:
    from rich.markup import escape

    from qa.render import where

    style = "yellow" if ans.refused else "bold"
    console.print(f"[{style}]{escape(ans.answer)}[/]", soft_wrap=True)
    for c in ans.citations:
        console.print(f"[dim][{c.n}] {escape(where(c))}[/]", soft_wrap=True)


def _register_more() -> None:
    """Commands that live with their layer (store, evals, ui) are registered here, at the end of the flow."""
    from evals.cli import register as register_evals
    from ui.cli import register as register_ui
    from vectorstore.cli import register as register_store

    register_store(app)
    register_evals(app)
    register_ui(app)


_register_more()


def main() -> None:  # pragma: no cover - console entry
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)

"""Library commands: ``ingest``, ``sources``, ``delete``, ``doctor``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from .app import COLLECTION, announce_waits, app, console, env_settings, err, fail, open_store


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(None, help="Files or folders (recursive). Default: corpus/"),
    prune: bool = typer.Option(False, help="Remove documents whose files are gone."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    collection: str = COLLECTION,
) -> None:
    """Ingest documents: unchanged ones are skipped, changed ones replaced."""
    from rich.markup import escape

    from verbatim_qa.ingest.pipeline import count_files, ingest_paths

    paths = paths or [Path("corpus")]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise fail(f"no such file or folder: {', '.join(map(str, missing))}")
    store = open_store(env_settings(collection))
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
def sources(as_json: bool = typer.Option(False, "--json"), collection: str = COLLECTION) -> None:
    """List ingested documents."""
    from rich.markup import escape

    records = open_store(env_settings(collection), read_only=True).documents()
    rows = [r.to_dict() for r in records]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("title", "file", "language", "chunks", "ingested at")
    for r in rows:
        table.add_row(escape(r["title"]), escape(r["source"]), ",".join(r["langs"]), str(r["chunks"]), r["ingested_at"])
    console.print(table)


@app.command()
def delete(
    target: str = typer.Argument(..., help="Document id, file name or path (see `verbatim sources`)."),
    as_json: bool = typer.Option(False, "--json"),
    collection: str = COLLECTION,
) -> None:
    """Remove a document from the index (its file is left alone). Exit 2 if no or several documents match."""


    store = open_store(env_settings(collection))
    records = store.documents()
    matches = ([r for r in records if r.doc_id == target]
               or [r for r in records if r.path == str(Path(target).expanduser().resolve())]
               or [r for r in records if r.source == target])
    if len(matches) != 1:
        why = (f"{len(matches)} documents are named {target!r} ({', '.join(r.doc_id for r in matches)}): give the id"
               if matches else f"no document {target!r} (see `verbatim sources`)")
        raise fail(why)
    record = matches[0]
    store.delete_document(record.doc_id)
    if as_json:
        print(json.dumps({"deleted": record.doc_id, "source": record.source}, ensure_ascii=False))
    else:
        print(f"deleted {record.source} ({record.doc_id})")


@app.command()
def doctor(
    fix: bool = typer.Option(False, "--repair", help="Sweep orphans, re-ingest inconsistent documents, rebuild BM25."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object instead of lines."),
    collection: str = COLLECTION,
) -> None:
    """Check the index against its commit records and documents; one line per problem. Exit 0 healthy, 1 not."""

    from verbatim_qa.ingest.doctor import checkup

    settings = env_settings(collection)
    store, extra = _open_for_doctor(settings)
    if store is not None:
        announce_waits(store)
    result = checkup(store, fix=fix, extra=extra) if store is not None else None
    if as_json:
        print(json.dumps(result.to_dict() if result else {"healthy": False, "problems": [vars(f) for f in extra]},
                         ensure_ascii=False))
    elif result is None:
        print("\n".join(f.line() for f in extra))
    else:
        _print_checkup(result, fix)
    raise typer.Exit(0 if result is not None and result.healthy else 1)


def _open_for_doctor(settings):
    """The store and any embedder finding: a mismatched index is examined with the embedder it was built with."""

    from verbatim_qa.ingest.doctor import Finding
    from verbatim_qa.vectorstore.store import EmbedderMismatch, Store

    try:
        return Store(settings), []
    except EmbedderMismatch as exc:
        found = [Finding("embedder", " ".join(str(exc).split()), repairable=False)]
        try:
            return Store(settings.with_(embedder=exc.stored)), found
        except (EmbedderMismatch, ValueError):
            return None, found
    except ValueError as exc:
        raise fail(exc) from exc


def _print_checkup(result, fix: bool) -> None:
    for f in sorted(result.findings, key=lambda f: f.warning):
        print(f.line())
    for line in result.repaired:
        print(f"repaired: {line}")
    if fix:
        for f in result.remaining:
            print(f"unrepaired: {f.line()}")
    c = result.counts
    size = f"{c['documents']} documents, {c['chunks']} chunks, {c['sentences']} sentences"
    if result.healthy:
        print(f"healthy: {size}" + (f" ({len(result.problems)} problems repaired)" if result.problems else ""))
    elif fix:
        print(f"{len(result.remaining)} problems remain: {size}")
    else:
        print(f"{len(result.problems)} problems found (`verbatim doctor --repair` fixes what it can): {size}")


@app.command()
def collections(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the collections of the home (or Chroma server) with their documents; * marks the default."""
    settings = env_settings()
    found = open_store(settings, read_only=True).collections()
    default = settings.deployment.collection
    if as_json:
        print(json.dumps([{"name": n, "documents": c, "default": n == default} for n, c in found.items()],
                         ensure_ascii=False))
        return
    table = Table("collection", "documents")
    for name, count in found.items():
        table.add_row(name + (" *" if name == default else ""), str(count))
    console.print(table)

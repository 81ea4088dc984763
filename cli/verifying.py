"""``verify``: re-check the quotes of a briefing or of ``ask --json`` output against the sources."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .app import COLLECTION, app, console, env_settings, err, fail, open_store


@app.command()
def verify(
    file: Path = typer.Argument(..., help="A briefing (.md, .html, .docx) or `ask --json` output (.json, .jsonl)."),
    corpus: Path = typer.Option(None, "--corpus", help="Read the sources from this folder, not from the index."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object: every quote's status and provenance."),
    collection: str = COLLECTION,
) -> None:
    """One line per quote: ok, changed source, quote differs or source missing. Exit 0 only when all are ok."""
    from verbatim_qa.ui.claims import ClaimsError, read_claims
    from verbatim_qa.ui.verify import STATUSES, CorpusSources, IndexSources
    from verbatim_qa.ui.verify import verify as run

    try:
        claims = read_claims(file)
    except ClaimsError as exc:
        raise fail(str(exc)) from exc
    settings = env_settings(collection)
    if corpus is not None:
        if not corpus.is_dir():
            raise fail(f"{corpus}: not a folder")
        sources = CorpusSources(corpus, settings.max_file_bytes)
    else:
        # each quote is read in the collection its provenance records, unless --collection names one
        sources = IndexSources(open_store(settings, read_only=True),
                               lambda name: open_store(settings.with_(collection=name), read_only=True),
                               pinned=collection is not None)
    results = run(claims, sources)
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    ok = counts["ok"] == len(results)
    if as_json:
        print(json.dumps({"file": str(file), "ok": ok, "counts": counts, "quotes": [r.to_dict() for r in results]},
                         ensure_ascii=False))
    else:
        for r in results:
            console.print(r.line(), markup=False, highlight=False, soft_wrap=True)
        err.print(f"{file}: {len(results)} quotes, " + ", ".join(f"{n} {s}" for s, n in counts.items() if n),
                  markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(0 if ok else 1)

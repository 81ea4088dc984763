"""Question commands: ``search`` (retrieval only) and ``ask`` (answers with verbatim, cited quotes)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from verbatim_qa.contract import MAX_COLLECTIONS, MAX_K

from .app import ANSWERER_HELP, COLLECTIONS, app, console, env_settings, fail, open_store, read_asks


@app.command()
def search(
    question: str,
    k: int = typer.Option(5, "-k", min=1, max=MAX_K, help="Passages retrieved."),
    as_json: bool = typer.Option(False, "--json"),
    collection: list[str] = COLLECTIONS,
) -> None:
    """Ranked chunks for a question (retrieval only); of several collections, one fused ranking."""
    from verbatim_qa.qa import several
    from verbatim_qa.qa.retriever import HybridRetriever

    stores = open_stores(collection)
    if len(stores) > 1:
        hits = several.retrieve(extractive(stores), question, k)
    else:
        retriever = HybridRetriever.from_store(next(iter(stores.values())))
        hits = retriever.retrieve(retriever.analyzer.analyze(question), k=k)
    rows = [h.to_dict() for h in hits]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    for i, r in enumerate(rows, 1):
        source = f"{r['collection']}: {r['source']}" if "collection" in r else r["source"]
        console.print(f"[bold]{i}.[/] {source} [dim]{r['section'] or ''} [{r['char_start']}:{r['char_end']}] "
                      f"score {r['score']:.4f}[/]")
        console.print(r["text"], markup=False)
        console.print()


@app.command()
def ask(
    question: str = typer.Argument(None, help="The question (or use --questions)."),
    k: int = typer.Option(5, "-k", min=1, max=MAX_K, help="Passages retrieved and reported."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object (the answer contract)."),
    markdown: bool = typer.Option(False, "--markdown", help="A briefing-ready snippet with footnotes."),
    questions: Path = typer.Option(None, help="JSONL with a 'question' field (and optionally 'history': the earlier "
                                              "questions of a conversation), or one question per line."),
    answerer: str = typer.Option(None, help=ANSWERER_HELP + "; of several collections: extractive"),
    collection: list[str] = COLLECTIONS,
) -> None:
    """Answer with verbatim, cited quotes (or say the documents do not answer); of several collections (a repeated
    --collection), one answer whose citations name their collection."""
    from verbatim_qa.qa import several
    from verbatim_qa.qa.chain import build_answerer
    from verbatim_qa.qa.render import to_markdown
    from verbatim_qa.ui.provenance import Origins, with_extraction, with_extractions

    if (question is None) == (questions is None):
        raise fail("give a QUESTION or --questions FILE (not both)")
    batch = read_asks(questions) if questions is not None else [(question, [])]
    stores = open_stores(collection)
    store = next(iter(stores.values()))
    if len(stores) > 1:
        if answerer not in (None, "auto", "extractive"):
            raise fail(several.LLM_ONE_COLLECTION)
        bots = extractive(stores)

        def answer(q: str, history: list[str]):
            return with_extractions(several.answer(bots, q, k, history=history), stores)
    else:
        try:
            bot = build_answerer(store.settings, store, answerer)
        except ValueError as exc:
            raise fail(exc) from exc

        def answer(q: str, history: list[str]):
            return with_extraction(bot.answer(q, k, history=history), store)
    origins = Origins(store, stores)
    for q, history in batch:
        ans = answer(q, history)
        if as_json or questions is not None:
            # provenance (document id and text hash of every quote) lets `verbatim verify` re-check the output
            print(json.dumps({**ans.to_dict(), "provenance": origins.records(ans.citations)}, ensure_ascii=False))
        elif markdown:
            print(to_markdown(ans))
        else:
            _print_answer(ans)


def open_stores(names: list[str] | None) -> dict:
    """The store of each collection named (each once; the default when none), read-only; exit 2 with one line for a
    collection that does not exist when several are named (alone, a missing one reads as empty, as before)."""
    names = list(dict.fromkeys(names or []))
    if len(names) > MAX_COLLECTIONS:
        raise fail(f"{len(names)} collections named: at most {MAX_COLLECTIONS} may be asked at once")
    first = open_store(env_settings(names[0] if names else None), read_only=True)
    if len(names) <= 1:
        return {first.settings.deployment.collection: first}
    missing = sorted(set(names) - set(first.collections()))
    if missing:
        raise fail(f"no collection {', '.join(map(repr, missing))} (see `verbatim collections`)")
    try:
        return {name: first.sibling(name) for name in sorted(names)}
    except ValueError as exc:  # a name that cannot be a collection
        raise fail(exc) from exc


def extractive(stores: dict) -> dict:
    """An extractive answerer per collection, each on its own retriever."""
    from verbatim_qa.qa.chain import build_answerer

    return {name: build_answerer(store.settings, store, "extractive") for name, store in stores.items()}


def _print_answer(ans) -> None:
    from rich.markup import escape

    from verbatim_qa.qa.render import where

    style = "yellow" if ans.refused else "bold"
    console.print(f"[{style}]{escape(ans.answer)}[/]", soft_wrap=True)
    for c in ans.citations:
        console.print(f"[dim][{c.n}] {escape(where(c))}[/]", soft_wrap=True)

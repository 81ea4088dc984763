"""Question commands: ``search`` (retrieval only) and ``ask`` (answers with verbatim, cited quotes)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from verbatim_qa.contract import MAX_K

from .app import ANSWERER_HELP, COLLECTION, app, console, env_settings, fail, open_store, read_asks


@app.command()
def search(
    question: str,
    k: int = typer.Option(5, "-k", min=1, max=MAX_K, help="Passages retrieved."),
    as_json: bool = typer.Option(False, "--json"),
    collection: str = COLLECTION,
) -> None:
    """Ranked chunks for a question (retrieval only)."""
    from verbatim_qa.qa.retriever import HybridRetriever

    settings = env_settings(collection)
    retriever = HybridRetriever.from_store(open_store(settings, read_only=True))
    hits = retriever.retrieve(retriever.analyzer.analyze(question), k=k)
    rows = [h.to_dict() for h in hits]
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
    k: int = typer.Option(5, "-k", min=1, max=MAX_K, help="Passages retrieved and reported."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object (the answer contract)."),
    markdown: bool = typer.Option(False, "--markdown", help="A briefing-ready snippet with footnotes."),
    questions: Path = typer.Option(None, help="JSONL with a 'question' field (and optionally 'history': the earlier "
                                              "questions of a conversation), or one question per line."),
    answerer: str = typer.Option(None, help=ANSWERER_HELP),
    collection: str = COLLECTION,
) -> None:
    """Answer with verbatim, cited quotes (or say the documents do not answer)."""
    from verbatim_qa.qa.chain import build_answerer
    from verbatim_qa.qa.render import to_markdown
    from verbatim_qa.ui.provenance import Origins, with_extraction

    if (question is None) == (questions is None):
        raise fail("give a QUESTION or --questions FILE (not both)")
    batch = read_asks(questions) if questions is not None else [(question, [])]
    settings = env_settings(collection)
    store = open_store(settings, read_only=True)
    try:
        bot = build_answerer(settings, store, answerer)
    except ValueError as exc:
        raise fail(exc) from exc
    origins = Origins(store)
    for q, history in batch:
        ans = with_extraction(bot.answer(q, k, history=history), store)
        if as_json or questions is not None:
            # provenance (document id and text hash of every quote) lets `verbatim verify` re-check the output
            print(json.dumps({**ans.to_dict(), "provenance": origins.records(ans.citations)}, ensure_ascii=False))
        elif markdown:
            print(to_markdown(ans))
        else:
            _print_answer(ans)


def _print_answer(ans) -> None:
    from rich.markup import escape

    from verbatim_qa.qa.render import where

    style = "yellow" if ans.refused else "bold"
    console.print(f"[{style}]{escape(ans.answer)}[/]", soft_wrap=True)
    for c in ans.citations:
        console.print(f"[dim][{c.n}] {escape(where(c))}[/]", soft_wrap=True)

"""Serving commands: ``serve`` (web chat and HTTP API), ``mcp`` (MCP over stdio) and ``brief`` (a briefing file)."""

from __future__ import annotations

from pathlib import Path

import typer

from verbatim_qa.contract import MAX_K

from .app import ANSWERER_HELP, COLLECTION, app, env_settings, err, fail, open_store, read_asks


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind. Anything but loopback needs VERBATIM_TOKEN or "
                                               "VERBATIM_TOKENS_FILE."),
    port: int = typer.Option(7860, min=1, max=65535),
    collection: str = COLLECTION,
) -> None:
    """Web chat and HTTP API (uvicorn): the chat at /, the API under /api, OpenAPI at /openapi.json."""

    from verbatim_qa.ui.access import Access
    from verbatim_qa.ui.server import is_loopback

    settings = env_settings(collection)
    if not is_loopback(host) and not (settings.deployment.token or settings.deployment.tokens_file):
        raise fail(f"refusing to serve on {host} (not loopback) without a token: set VERBATIM_TOKEN (or "
                   "VERBATIM_TOKENS_FILE), or bind 127.0.0.1")
    try:
        Access.from_settings(settings)  # a tokens file that does not parse: exit 2 with one line naming it
    except ValueError as exc:
        raise fail(exc) from exc
    if settings.deployment.token and len(settings.deployment.token) < settings.deployment.token_min_chars:
        raise fail(
            f"VERBATIM_TOKEN has {len(settings.deployment.token)} characters, fewer than "
            f"{settings.deployment.token_min_chars}: "
            "a short token can be guessed; make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(24))'"
        )
    open_store(settings, read_only=True)  # a mismatched or unreachable index: exit 2 with one line, at once
    from verbatim_qa.ui.api import create_app
    from verbatim_qa.ui.server import serve as run

    raise typer.Exit(run(create_app(settings), host, port, grace_s=settings.limits.shutdown_grace_s))


@app.command()
def mcp(collection: str = COLLECTION) -> None:
    """MCP server over stdio (tools search, ask, sources), for desktop clients that spawn it; logs on stderr."""
    import contextlib
    import sys

    settings = env_settings(collection)
    open_store(settings, read_only=True)  # a mismatched or unreachable index: exit 2 with one line, at once
    # stdout is the protocol's wire: anything printed while the models load goes to stderr instead.
    with contextlib.redirect_stdout(sys.stderr):
        from verbatim_qa.ui.access import Access
        from verbatim_qa.ui.mcp_server import build_mcp
        from verbatim_qa.ui.service import Service

        # spawned by the user's own client, on the user's own home: no token to check, every collection readable
        server = build_mcp(Service(settings, access=Access()))
    server.run("stdio")


@app.command()
def brief(
    questions_file: Path = typer.Argument(..., help="JSONL with a 'question' field, or one question per line."),
    out: Path = typer.Option(..., "-o", "--out", help="Output file: .md, .html or .docx."),
    k: int = typer.Option(5, "-k", min=1, max=MAX_K, help="Passages retrieved per question (as `ask`)."),
    answerer: str = typer.Option(None, help=ANSWERER_HELP),
    title: str = typer.Option("Briefing", help="Title of the briefing."),
    collection: str = COLLECTION,
) -> None:
    """A briefing: each question, its answer, footnoted verbatim quotes and a source list."""
    from rich.markup import escape

    from verbatim_qa.qa.chain import build_answerer
    from verbatim_qa.ui import briefing
    from verbatim_qa.ui.provenance import Origins
    from verbatim_qa.ui.service import index_date

    if out.suffix.lower() not in briefing.FORMATS:
        raise fail(f"{out}: the output must end in .md, .html or .docx")
    questions = read_asks(questions_file)  # a line may carry its 'history': a follow-up of the brief
    if not questions:
        raise fail(f"{questions_file}: no questions")
    settings = env_settings(collection)
    store = open_store(settings, read_only=True)
    try:
        bot = build_answerer(settings, store, answerer)
    except ValueError as exc:
        raise fail(exc) from exc
    answers = [bot.answer(q, k, history=h) for q, h in questions]
    b = briefing.build(answers, title, index_date(store.documents()), Origins(store))
    try:
        briefing.write(b, out)
    except OSError as exc:
        raise fail(f"{out}: {exc.strerror or str(exc)}") from exc
    quotes = sum(len(a.citations) for a in answers)
    refused = sum(a.refused for a in answers)
    err.print(f"wrote {escape(str(out))}: {len(answers)} questions, {quotes} quotes, {refused} not answered",
              soft_wrap=True)

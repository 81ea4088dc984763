"""The ``verbatim`` command's shared parts: the Typer app, consoles, settings and store opening.

Exit codes: 0 ok, 1 partial failure, 2 usage error. Module level imports stay light (typer, rich, the base):
``verbatim --help`` must not load chromadb, langchain, torch or gradio; each command imports what it needs.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is ever downloaded at run time
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # model loading must not garble the one-line-per-file output
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

from verbatim_qa.contract import ANSWERERS  # noqa: E402
from verbatim_qa.settings import Settings  # noqa: E402

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Document-grounded answers with verbatim, cited quotes. Exit codes: 0 ok, 1 partial failure, "
                       "2 usage error.")
ANSWERER_HELP = f"{' | '.join(ANSWERERS)} (default: VERBATIM_ANSWERER, else auto)"
console = Console()
err = Console(stderr=True)


COLLECTION = typer.Option(None, "--collection", help="The collection (default: VERBATIM_COLLECTION, else verbatim; "
                                                      "see `verbatim collections`).")
COLLECTIONS = typer.Option(None, "--collection", help="The collection (default: VERBATIM_COLLECTION, else verbatim; "
                                                       "see `verbatim collections`); repeated, several asked at once.")


def env_settings(collection: str | None = None) -> Settings:
    """The settings from the environment (``collection``: the ``--collection`` given), or exit 2 with one line
    naming the variable."""
    try:
        return Settings.from_env(**({"collection": collection} if collection is not None else {}))
    except ValueError as exc:
        raise fail(exc, label="configuration error") from exc


def fail(message: object, code: int = 2, label: str = "error") -> typer.Exit:
    """Every error exit of the command line: print one ``error: message`` line on stderr (whitespace folded,
    markup escaped) and return the exit for the caller to raise: code 2 a usage error, 1 a partial failure."""
    from rich.markup import escape

    err.print(f"[red]{label}:[/] {escape(' '.join(str(message).split()))}", soft_wrap=True)
    return typer.Exit(code)


def open_store(s: Settings, read_only: bool = False):
    """The store, or exit 2 with one line on stderr (mismatched embedder, unknown embedder, bad Chroma URL).
    ``read_only``: for commands that only read, so opening writes nothing (a missing index reads as empty)."""
    from verbatim_qa.vectorstore.store import EmbedderMismatch, Store

    try:
        store = Store(s, read_only=read_only)
    except (EmbedderMismatch, ValueError) as exc:
        raise fail(exc) from exc
    return announce_waits(store)


def announce_waits(store):
    """The store, printing one line on stderr when a write has to wait for another process writing the home."""
    store.on_wait = lambda line: err.print(line, soft_wrap=True, markup=False, highlight=False)
    return store


def read_asks(path: Path) -> list[tuple[str, list[str]]]:
    """(question, history) per line: JSONL with a 'question' and an optional 'history' (the earlier questions of
    the conversation, oldest first), or one plain question per line (no history)."""
    if not path.is_file():
        raise fail(f"{path}: no such file")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                raw = json.loads(line)
                question, history = str(raw["question"]), raw.get("history") or []
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise fail(f"{path}:{n}: not a JSON object with a 'question' field") from exc
            if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
                raise fail(f"{path}:{n}: 'history' must be a list of earlier questions (strings)")
            out.append((question, history))
        else:
            out.append((line, []))
    return out



def main() -> None:  # pragma: no cover - console entry
    from verbatim_qa.vectorstore.embeddings import EmbedderMismatch
    from verbatim_qa.vectorstore.remote import EmbedderUnavailable
    from verbatim_qa.vectorstore.writer import WriterBusy

    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except (WriterBusy, EmbedderUnavailable) as exc:  # another process kept the home's writer lock: one line naming
        err.print(f"error: {exc}", soft_wrap=True, markup=False, highlight=False)  # it; a remote embedder failed
        sys.exit(1)
    except EmbedderMismatch as exc:  # a remote embedder computes another model than the one named
        err.print(f"error: {exc}", soft_wrap=True, markup=False, highlight=False)
        sys.exit(2)

"""CLI commands of the ui layer (``serve``, ``brief``), registered on the main ``verbatim`` app."""

from __future__ import annotations


def register(app) -> None:
    return None

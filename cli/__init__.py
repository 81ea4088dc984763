"""The ``verbatim`` command, above every layer: each module registers its commands on one Typer app,
in the order ``verbatim --help`` lists them."""

# isort: off
from . import library, asking, serving, verifying, measuring  # noqa: F401
# isort: on
from .app import app, main

__all__ = ["app", "main"]

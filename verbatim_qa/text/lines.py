"""Messages as one line: every error Verbatim reports names its file and reason on one line."""

from __future__ import annotations

from collections.abc import Iterable


def one_line(value: BaseException | str, limit: int = 300, kind: bool = False) -> str:
    """``value`` (an exception or a message) with its white space folded, cut to ``limit`` characters;
    ``kind`` puts the exception's type first ("ValueError: ...") or, when it has no message, stands alone."""
    msg = " ".join(str(value).split())
    if isinstance(value, BaseException) and (kind or not msg):
        msg = f"{type(value).__name__}: {msg}" if msg else type(value).__name__
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."


def field_problems(errors: Iterable[dict]) -> str:
    """Pydantic's validation errors as one line, ``field: reason; ...`` (never the rejected values: they are the
    caller's data; ``body`` is left out of a location, and names the whole input)."""
    return "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ()) if x != 'body') or 'body'}: {e.get('msg', 'invalid')}"
                     for e in errors)

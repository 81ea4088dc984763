"""Messages as one line: every error Verbatim reports names its file and reason on one line."""

from __future__ import annotations


def one_line(value: BaseException | str, limit: int = 300, kind: bool = False) -> str:
    """``value`` (an exception or a message) with its white space folded, cut to ``limit`` characters;
    ``kind`` puts the exception's type first ("ValueError: ...") or, when it has no message, stands alone."""
    msg = " ".join(str(value).split())
    if isinstance(value, BaseException) and (kind or not msg):
        msg = f"{type(value).__name__}: {msg}" if msg else type(value).__name__
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."

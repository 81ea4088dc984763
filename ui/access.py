"""Who may do what: each token's holder and its rights per collection, and the grant of the request being served.

Rights are ranked: ``admin`` includes ``write``, which includes ``read``. ``read``: questions, search, the sources
list, page images and counts of a collection; ``write``: uploads and deletes; ``admin``: creating a collection (the
first upload into a name that holds nothing). ``VERBATIM_TOKEN`` is admin of every collection; ``VERBATIM_TOKENS_FILE``
names more tokens, in TOML::

    [[token]]
    holder = "alice"                       # shown in logs and as the chat's user name
    token = "a-long-random-secret"          # at least VERBATIM_TOKEN_MIN_CHARS characters
    collections = { projects = "write", verbatim = "read" }   # "*" = every collection

The file is read again when its modification time or size changes (no restart); a file that no longer parses
refuses every token it held, with one line in the log, until it is mended. Tokens are compared timing-safe, each
against every token (no early exit).

The grant of the request being served is a context variable set by the token check (ui/api.py ``BearerToken``);
the service (ui/service.py ``Service.library``) asks it before it opens a collection, so no route reads a
collection without the right. On a guarded server (a token or a tokens file) a request without a grant has none.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import threading
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from verbatim_qa.settings import Settings, check_collection

log = logging.getLogger(__name__)

READ, WRITE, ADMIN = "read", "write", "admin"
RANK = {READ: 1, WRITE: 2, ADMIN: 3}
EVERY = "*"


class NoAccess(PermissionError):
    """The grant lacks a right. ``status``: 404 when it cannot read the collection (the reply is the same whether
    or not the collection exists), 403 when it can read it but not write."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Grant:
    holder: str
    rights: Mapping[str, str] = field(default_factory=dict)  # collection (or "*") -> its highest right

    def allows(self, collection: str, need: str) -> bool:
        have = self.rights.get(collection, self.rights.get(EVERY))
        return have is not None and RANK[have] >= RANK[need]

    def readable(self, collections) -> list[str]:
        return [c for c in collections if self.allows(c, READ)]


EVERYTHING = Grant("admin", {EVERY: ADMIN})  # the single VERBATIM_TOKEN, and a server without any token
NOTHING = Grant("nobody")

CURRENT: ContextVar[Grant | None] = ContextVar("verbatim_grant", default=None)


@contextmanager
def acting_as(grant: Grant) -> Iterator[None]:
    """The grant of the code run inside (a request's handler)."""
    reset = CURRENT.set(grant)
    try:
        yield
    finally:
        CURRENT.reset(reset)


def parse_tokens(text: str, where: str, min_chars: int) -> list[tuple[bytes, Grant]]:
    """The tokens of a tokens file's text; ValueError with one line naming ``where`` and the entry."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{where}: not TOML ({exc})") from None
    entries = raw.get("token", [])
    if not isinstance(entries, list) or set(raw) - {"token"}:
        raise ValueError(f"{where}: expected only [[token]] tables")
    out: list[tuple[bytes, Grant]] = []
    holders: set[str] = set()
    for n, e in enumerate(entries, 1):
        what = f"{where}: token {n}"
        if not isinstance(e, dict) or set(e) - {"holder", "token", "collections"}:
            raise ValueError(f"{what}: keys are holder, token and collections")
        holder, token, rights = e.get("holder"), e.get("token"), e.get("collections", {})
        if not isinstance(holder, str) or not holder.strip() or holder in holders:
            raise ValueError(f"{what}: needs a holder name of its own")
        if not isinstance(token, str) or len(token) < min_chars:
            raise ValueError(f"{what} ({holder}): the token needs at least {min_chars} characters")
        if not isinstance(rights, dict):
            raise ValueError(f"{what} ({holder}): collections must be a table of collection = right")
        for name, right in rights.items():
            if name != EVERY:
                try:
                    check_collection(name)
                except ValueError as exc:
                    raise ValueError(f"{what} ({holder}): {exc}") from None
            if right not in RANK:
                raise ValueError(f"{what} ({holder}): right {right!r} for {name}: use read, write or admin")
        holders.add(holder)
        out.append((token.encode("utf-8"), Grant(holder, dict(rights))))
    return out


class Access:
    """The server's tokens: ``VERBATIM_TOKEN`` (admin of everything) and those of ``VERBATIM_TOKENS_FILE``."""

    def __init__(self, token: str = "", tokens_file: Path | None = None, min_chars: int = 16,
                 default: str = "verbatim") -> None:
        self.token = token.encode("utf-8")
        self.default = default  # the collection a request names by naming none
        # signs the chat's page image links (ui/pages.py): the token, else a key of this process
        self.page_key = token or secrets.token_urlsafe(32)
        self.path, self.min_chars = tokens_file, min_chars
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._tokens: list[tuple[bytes, Grant]] = []
        if tokens_file is not None:
            self._tokens = parse_tokens(self._read(), str(tokens_file), min_chars)  # a bad file: fail at start

    @classmethod
    def from_settings(cls, settings: Settings) -> Access:
        d = settings.deployment
        return cls(d.token, Path(d.tokens_file).expanduser() if d.tokens_file else None, d.token_min_chars,
                   d.collection)

    @property
    def guarded(self) -> bool:
        return bool(self.token) or self.path is not None

    def current(self) -> Grant:
        """The grant of the request being served: everything on an open server, nothing without one."""
        grant = CURRENT.get()
        if grant is not None:
            return grant
        return NOTHING if self.guarded else EVERYTHING

    def grant_for(self, given: bytes) -> Grant | None:
        """The grant of a presented token, or None. Every token is compared (timing-safe, no early exit)."""
        found = EVERYTHING if self.token and hmac.compare_digest(given, self.token) else None
        for token, grant in self.tokens():
            if hmac.compare_digest(given, token) and found is None:
                found = grant
        return found

    def holder(self, name: str) -> Grant | None:
        return next((g for _, g in self.tokens() if g.holder == name), None)

    def tokens(self) -> list[tuple[bytes, Grant]]:
        """The tokens file's tokens, read again when it changed."""
        if self.path is None:
            return []
        with self._lock:
            try:
                stat = self.path.stat()
                stamp = (stat.st_mtime_ns, stat.st_size)
            except OSError as exc:
                stamp = None
                if self._stamp != stamp:
                    log.error("%s: cannot read the tokens file (%s): its tokens are refused", self.path, exc.strerror)
                self._tokens, self._stamp = [], stamp
                return []
            if stamp != self._stamp:
                try:
                    self._tokens = parse_tokens(self._read(), str(self.path), self.min_chars)
                except (ValueError, OSError) as exc:
                    log.error("%s; its tokens are refused until it is mended", exc)
                    self._tokens = []
                self._stamp = stamp
            return self._tokens

    def _read(self) -> str:
        assert self.path is not None
        try:
            with open(self.path, encoding="utf-8") as f:
                self._stamp = (os.fstat(f.fileno()).st_mtime_ns, os.fstat(f.fileno()).st_size)
                return f.read()
        except OSError as exc:
            raise ValueError(f"{self.path}: {exc.strerror}") from None


class Logins:
    """The chat's login maps to the same tokens: the user name is the token's holder (a tokens-file token), or any
    other name with ``VERBATIM_TOKEN``. A Gradio session knows only its user name, so how each name last signed in
    is kept: a holder removed from the file gets nothing, and the server token cannot sign in as a holder."""

    def __init__(self, access: Access) -> None:
        self.access = access
        self._how: dict[str, bool] = {}  # user name -> signed in with the server token

    def login(self, username: str, password: str) -> bool:
        username = (username or "").strip()
        grant = self.access.grant_for((password or "").encode("utf-8"))
        if grant is None or not username:
            return False
        server = grant is EVERYTHING
        if (server and self.access.holder(username) is not None) or (not server and grant.holder != username):
            return False
        self._how[username] = server
        return True

    def grant(self, username: str | None) -> Grant:
        """The grant of a signed-in user name (of everyone on an open server)."""
        if not self.access.guarded:
            return EVERYTHING
        if not username or username not in self._how:
            return NOTHING
        if self._how[username]:
            return EVERYTHING
        return self.access.holder(username) or NOTHING

"""No cross-site requests: one ASGI guard, outermost on the app, so it holds on every route (``/api``, ``/v1``,
``/mcp``, the web chat and its Gradio routes, page images), with a token and without.

- **Host** (without a token only): it must be a loopback name (``127.0.0.1``, ``localhost``, ``[::1]``, any port)
  or one of ``VERBATIM_ALLOWED_HOSTS``; else 421. A page of another site whose name the attacker points at
  127.0.0.1 (DNS rebinding) is same-origin with itself, so its requests carry its own name as Host: they are
  refused before they read anything. With a token, the token guards every route and any name may reach it.
- **Origin**: a request carrying an ``Origin`` that is neither the server's own (the Host it was reached by) nor
  one of ``VERBATIM_ALLOWED_ORIGINS`` is refused (403) on any method. Browsers send ``Origin`` on every POST (a
  form's too) and on cross-origin ``fetch``, never on a plain navigation or ``<img>``; so a page on another
  site, or on another port of this machine, can neither plant a file (a multipart form POST is a CORS "simple"
  request: no preflight asks first) nor read an answer (Gradio's own CORS layer would let any localhost origin
  read its routes). The chat page's own requests carry its own origin and pass; clients that are not browsers
  (curl, the SDKs) send no ``Origin`` and pass.
- **Sec-Fetch-Site**: a state-changing request (any method but GET, HEAD, OPTIONS) that the browser marks
  ``cross-site`` or ``same-site`` (another origin) is refused (403) unless its ``Origin`` is allowed, in case a
  browser left ``Origin`` out.

WebSocket handshakes are held to the Host and Origin rules and closed before they are accepted.
"""

from __future__ import annotations

from verbatim_qa.settings import Settings, parse_hosts, parse_origins

from .errors import refuse
from .server import is_loopback

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OTHER_ORIGIN = frozenset({b"cross-site", b"same-site"})  # Sec-Fetch-Site values of a request from another origin


def host_name(host: str) -> str:
    """The name part of a Host header, lowercased: ``127.0.0.1:7860`` -> ``127.0.0.1``, ``[::1]:7860`` -> ``[::1]``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.index("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class SameOrigin:
    """Pure ASGI middleware: the Host, Origin and Sec-Fetch-Site checks above, before anything else runs."""

    def __init__(self, app, settings: Settings) -> None:
        self.app = app
        deployment = settings.deployment
        self.check_host = not deployment.token
        self.hosts = frozenset(parse_hosts(deployment.allowed_hosts))
        self.origins = frozenset(parse_origins(deployment.allowed_origins))

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reason = self.refusal(scope)
        if reason is None:
            await self.app(scope, receive, send)
        else:
            await refuse(scope, receive, send, *reason)

    def refusal(self, scope) -> tuple[int, str] | None:
        """(status, one-line reason) when the request must be refused, else None."""
        headers: dict[bytes, bytes] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name, value)  # the first of a repeated header, as Starlette reads it
        host = headers.get(b"host", b"").decode("latin-1").strip()
        if self.check_host and not (is_loopback(host_name(host)) or host_name(host) in self.hosts):
            shown = repr(host) if host else "no Host header"
            return 421, (f"refused: {shown} is not a loopback name, and without VERBATIM_TOKEN this server answers "
                         "loopback names only (a proxy's name goes in VERBATIM_ALLOWED_HOSTS)")
        origin = headers.get(b"origin", b"").decode("latin-1").strip().lower().rstrip("/")
        if origin and not self.allowed_origin(origin, host):
            return 403, (f"refused: a cross-site request from origin {origin!r} (allowed: this server's own "
                         "pages and VERBATIM_ALLOWED_ORIGINS)")
        unsafe = scope["type"] == "websocket" or scope.get("method", "GET") not in SAFE_METHODS
        if unsafe and not origin and headers.get(b"sec-fetch-site", b"").lower() in OTHER_ORIGIN:
            return 403, "refused: a cross-site request (Sec-Fetch-Site) may not change anything here"
        return None

    def allowed_origin(self, origin: str, host: str) -> bool:
        # The scheme is not compared: behind a TLS-terminating proxy an https page reaches this server over http.
        own = origin.partition("://")[2] == host.lower()
        return own or origin in self.origins

"""The HTTP API (FastAPI) with the web UI (Gradio) mounted at ``/``.

    POST   /api/ask          {"question", "k"?, "sources"?, "answerer"?, "history"?, "quotes_only"?} -> the answer
                             contract (Answer.to_dict); history: earlier questions or {"question", "answer"?},
                             oldest first; quotes_only: an LLM answer's verified quotes only, none of its own words
    POST   /api/ask/stream   same body -> NDJSON events (or SSE with ``Accept: text/event-stream``):
                             {"type": "retrieved"}, on the LLM path {"type": "token", "text"}... (the model's
                             draft as it arrives), then {"type": "answer", "answer"} (verified; qa/events.py)
    GET    /api/sources      documents: id, title, source, langs, chunks, ingested_at
    POST   /api/ingest       multipart, one file in field ``file`` -> ingest counts, file name, document
    DELETE /api/sources/{id} removes the document (and its stored upload)
    GET    /api/sources/{id}/pages/{n}.png?start=&end=   page n of a PDF as PNG, characters start:end highlighted
    GET    /api/collections  the collections the token may read: name, documents, default
    GET    /api/health       {"status": "ok"}; never needs the token

Every route of a collection's documents takes ``collection`` (in the body of /api/ask*, ``?collection=`` on the
others; none: the default collection) and reads it only with the right (ui/access.py, ``Service.library``).
/api/ask* also take ``collections``: several asked at once, one answer whose citations name their collection
(qa/several.py); one of them the token may not read is the same 404 as when it is asked alone.
    GET    /v1/models, POST /v1/chat/completions   OpenAI-compatible chat (ui/openai_api.py)
    POST   /mcp              MCP over Streamable HTTP: tools search, ask, sources (ui/mcp_server.py)

With ``VERBATIM_TOKEN`` (or ``VERBATIM_TOKENS_FILE``) set, every ``/api/*`` route but health, ``/v1/*``, ``/mcp``
and ``/openapi.json`` need
``Authorization: Bearer <token>`` (a page image may instead carry ``sig``, the HMAC of its address under the
token, which the signed-in UI puts in its ``<img>`` links: ui/pages.py) and the UI asks for a login (any user
name, the token as password; Gradio's session heartbeat needs that login too). Wrong tokens are counted per client
address: too many within a minute get 429 (``Lockout``). Errors are ``{"error": "one line"}`` (under ``/v1``: OpenAI's
``{"error": {"message": "one line", ...}}``).
Outermost, one guard for every route (ui/crosssite.py): without a token only loopback Host names are served
(421), and a request from another origin (a foreign ``Origin``, or ``Sec-Fetch-Site: cross-site`` on a write)
is refused (403), token or not.
The OpenAPI schema is at ``/openapi.json``; the Swagger/ReDoc pages are off because they load from a CDN.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection
from starlette.routing import Mount

from verbatim_qa.contract import MAX_COLLECTIONS, MAX_K, MAX_QUESTION_CHARS, QUOTES_ONLY_DOC, VERSION, AnswererName
from verbatim_qa.settings import Settings
from verbatim_qa.text.lines import field_problems, one_line
from verbatim_qa.vectorstore.store import Store
from verbatim_qa.vectorstore.writer import WriterBusy

from . import openai_api
from .access import EVERYTHING, READ, WRITE, Access, Grant, Logins, NoAccess, acting_as
from .crosssite import SameOrigin
from .errors import error, error_at, refuse
from .mcp_server import build_mcp, http_routes
from .pages import PageError, page_png, signed
from .service import Service
from .uploads import UploadError, receive_upload

log = logging.getLogger(__name__)
QUOTES_ONLY = Field(False, description=QUOTES_ONLY_DOC)
COLLECTION_DOC = "The collection (as /api/collections lists them); none: the default collection."
COLLECTION_FIELD = Field(None, description=COLLECTION_DOC)
COLLECTION = Query(None, description=COLLECTION_DOC)


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str | None = Field(None, max_length=20000)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int | None = Field(None, ge=1, le=MAX_K)
    sources: list[str] | None = Field(None, description="Restrict to these file names (as listed by /api/sources).")
    answerer: AnswererName | None = None  # None: the VERBATIM_ANSWERER setting
    # an earlier question is bounded like the question (contract.MAX_QUESTION_CHARS), as a string or in a Turn
    history: list[Annotated[str, Field(max_length=MAX_QUESTION_CHARS)] | Turn] = Field(
        default_factory=list, max_length=100, description=(
        "Earlier turns of the conversation, oldest first: questions, or {question, answer?} objects. A follow-up "
        "question (\"What about Turkmenistan?\") is searched with them; see search_query in the answer."))
    quotes_only: bool = QUOTES_ONLY
    collection: str | None = COLLECTION_FIELD
    collections: list[str] | None = Field(None, max_length=MAX_COLLECTIONS, description=(
        "Several collections to ask at once (with `collection`, if given): one answer from all, each citation "
        "naming its `collection`; every one must be readable with the token. Answered extractively."))

    def turns(self) -> list:
        return [h if isinstance(h, str) else h.model_dump(exclude_none=True) for h in self.history]

    @field_validator("question")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("question is empty")
        return v.strip()


# With a token, what the web chat's login page loads (the page, its scripts, styles and the login form's POST) is
# open, so that the login can be shown. Every other route of the UI (Gradio's, whether or not Gradio checks its
# login there: heartbeat, reset, cancel, stream, app_id, startup-events, monitoring, ...) needs the login's session
# cookie or the bearer token.
LOGIN_PAGE = ("/", "/login", "/login/", "/logout", "/theme.css", "/favicon.ico", "/robots.txt")
LOGIN_ASSETS = ("/assets/", "/static/")  # Gradio's built frontend: the same files for everyone, no user data


def needs_token(path: str) -> bool:
    """An API route: the bearer token (or a page image's signature) only."""
    return (path.startswith(("/api/", "/v1/")) and path != "/api/health") or path in ("/mcp", "/openapi.json") or \
        path.startswith("/mcp/")


def open_path(path: str) -> bool:
    """A route that never needs the token: health, and the login page with its assets."""
    return path == "/api/health" or path in LOGIN_PAGE or path.startswith(LOGIN_ASSETS)


class Lockout:
    """Wrong tokens per client address in a sliding window: ``failures`` of them within ``window`` seconds lock the
    address out until the oldest expires. At most ``MAX_CLIENTS`` addresses are remembered (the oldest go)."""

    MAX_CLIENTS = 10_000

    def __init__(self, failures: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.failures, self.window, self.clock = failures, window, clock
        self._seen: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> float:
        """Seconds until ``client`` may try again; 0 when it is not locked out."""
        times = self._seen.get(client)
        if times is None:
            return 0.0
        now = self.clock()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._seen[client]
            return 0.0
        return times[-self.failures] + self.window - now if len(times) >= self.failures else 0.0

    def fail(self, client: str) -> None:
        if client not in self._seen and len(self._seen) >= self.MAX_CLIENTS:
            del self._seen[next(iter(self._seen))]
        self._seen.setdefault(client, deque()).append(self.clock())


class BearerToken:
    """Pure ASGI middleware: ``/api/*`` (except ``/api/health``), ``/v1/*``, ``/mcp`` and ``/openapi.json`` need a
    bearer token (``VERBATIM_TOKEN`` or one of the tokens file), checked before the body; every other route but the
    login page (``open_path``) needs it or the chat's login cookie. The token's grant (ui/access.py) is the
    request's: what it may read and write. Wrong tokens are counted per client address (``Lockout``): a request
    without any credential is not a guess and is not counted."""

    def __init__(self, app, token: str | Access, failures: int = 10, lockout_s: float = 60.0) -> None:
        self.app = app
        self.access = token if isinstance(token, Access) else Access(token)
        self.lockout = Lockout(failures, lockout_s)

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or open_path(path):
            await self.app(scope, receive, send)
            return
        ui_session = not needs_token(path)
        client = (scope.get("client") or ("",))[0]
        wait = self.lockout.retry_after(client)
        if wait > 0:
            seconds = str(math.ceil(wait))
            await refuse(scope, receive, send, 429,
                         f"too many wrong tokens from this address: try again in {seconds} s", {"Retry-After": seconds})
            return
        given = b""
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, rest = value.partition(b" ")
                given = rest.strip() if scheme.lower() == b"bearer" else b""
        query = scope.get("query_string", b"").decode("latin-1")
        grant = self.access.grant_for(given) if given else None
        if grant is None and scope.get("method") == "GET" and signed(self.access.page_key, path, query):
            # a link the chat signed for a user who could read it: that page image of that collection only
            collection = parse_qs(query).get("collection", [self.access.default])[0]
            grant = Grant("page link", {collection: READ})
        if grant is not None:
            with acting_as(grant):
                await self.app(scope, receive, send)
            return
        if ui_session and _signed_in(scope):  # the chat's handlers act as the user signed in (ui/web.py)
            await self.app(scope, receive, send)
            return
        if given or "sig=" in query:
            self.lockout.fail(client)
        await refuse(scope, receive, send, 401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})


class Open:
    """An app without a token (loopback only, ui/crosssite.py): every request may read and write every collection."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        with acting_as(EVERYTHING):
            await self.app(scope, receive, send)


def _signed_in(scope) -> bool:
    """Whether the request carries the session cookie of a chat signed in with the token (``_mount_ui``)."""
    check = getattr(getattr(scope.get("app"), "state", None), "ui_signed_in", None)
    return check is not None and check(HTTPConnection(scope).cookies)


class CatchAll:
    """Unexpected exceptions become ``{"error": ...}`` 500s, logged with their traceback and not re-raised
    (Starlette's own handler re-raises, and uvicorn then drops the keep-alive connection)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # the last boundary: logged with its traceback, a one-line 500 (re-raised when the
            log.error("%s %s failed", scope.get("method"), scope.get("path"), exc_info=exc)  # response has started)
            if started:
                raise
            message = f"internal error ({type(exc).__name__}); see the server log"
            await error_at(scope.get("path", ""), 500, message)(scope, receive, send)


def create_app(settings: Settings, store: Store | None = None, service: Service | None = None,
               ui: bool = True) -> FastAPI:
    """The app: one Store and answerer shared by every request and the UI, built here (not per request).

    ``settings`` decides the token; pass ``service`` to share one already built (its store, limits and
    answerers) between apps, e.g. the same index served with and without a token.
    """
    service = service or Service(settings, store)
    # the app's tokens are its settings' (a service shared with an app of other tokens keeps its own)
    access = service.access if service.settings.deployment == settings.deployment else Access.from_settings(settings)
    mcp = build_mcp(service)
    mcp_routes = http_routes(mcp)  # before the lifespan: it makes the session manager

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with mcp.session_manager.run():
            yield

    app = FastAPI(title="Verbatim", version=VERSION, summary="Document-grounded answers with verbatim quotes.",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json", lifespan=lifespan)
    app.state.service = service
    _handlers(app)
    _routes(app, service)
    app.include_router(openai_api.router(service))
    app.router.routes.extend(mcp_routes)  # before the UI's mount at "/", which would take every path
    app.add_middleware(CatchAll)
    if access.guarded:
        app.add_middleware(BearerToken, token=access, failures=settings.limits.token_failures,
                           lockout_s=settings.limits.token_lockout_s)
    else:
        app.add_middleware(Open)
    app.add_middleware(SameOrigin, settings=settings)  # added last: the outermost layer, before the token check
    if ui:
        _mount_ui(app, service, settings, Logins(access))
    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return error_at(request.url.path, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(NoAccess)
    async def no_access(request: Request, exc: NoAccess):
        return error_at(request.url.path, exc.status, exc.reason)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            return error_at(request.url.path, 422, "invalid request: the body is not valid JSON")
        return error_at(request.url.path, 422, "invalid request: " + one_line(field_problems(exc.errors()), 1000))


def _routes(app: FastAPI, service: Service) -> None:
    settings = service.settings

    @app.get("/api/health", tags=["meta"])
    def health() -> dict:
        return {"status": "ok"}

    @app.post("/api/ask", tags=["answers"])
    def ask(req: AskRequest) -> dict:
        """The answer contract: answer text with [n] markers, refused, citations (exact spans), retrieved."""
        try:
            events = service.events(req.question, req.k, req.sources, req.answerer, req.turns(), req.quotes_only,
                                    req.collection, req.collections)
        except ValueError as exc:
            return error(422, one_line(exc))
        *_, done = events
        return done.answer.to_dict()

    @app.post("/api/ask/stream", tags=["answers"], response_class=StreamingResponse)
    def ask_stream(req: AskRequest, request: Request):
        """NDJSON (default) or server-sent events: retrieved, token... (the LLM's draft), answer (or error)."""
        try:
            events = service.events(req.question, req.k, req.sources, req.answerer, req.turns(), req.quotes_only,
                                    req.collection, req.collections)
        except ValueError as exc:
            return error(422, one_line(exc))
        sse = "text/event-stream" in request.headers.get("accept", "")

        def encode(event: dict) -> bytes:
            data = json.dumps(event, ensure_ascii=False)
            return f"event: {event['type']}\ndata: {data}\n\n".encode() if sse else (data + "\n").encode()

        def stream():
            try:
                for ev in events:
                    yield encode(ev.to_dict())
            except Exception as exc:  # headers are sent: the error becomes the last event
                log.error("stream for %r failed", req.question, exc_info=exc)
                yield encode({"type": "error", "error": f"internal error ({type(exc).__name__})"})

        return StreamingResponse(stream(), media_type="text/event-stream" if sse else "application/x-ndjson",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/api/collections", tags=["library"])
    def collections() -> list[dict]:
        """The collections this token may read: name, documents, and which is the default."""
        return [{"name": name, "documents": n, "default": name == service.default}
                for name, n in service.collections().items()]

    @app.get("/api/sources", tags=["library"])
    def sources(collection: str | None = COLLECTION) -> list[dict]:
        try:
            return service.documents(collection)
        except ValueError as exc:
            return error(422, one_line(exc))

    @app.delete("/api/sources/{doc_id}", tags=["library"])
    def delete(doc_id: str, collection: str | None = COLLECTION) -> dict:
        try:
            result = service.delete(doc_id, collection)
        except ValueError as exc:
            return error(422, one_line(exc))
        except WriterBusy as exc:
            return error(503, str(exc))
        if result is None:
            return error(404, f"no document {doc_id}")
        return result

    @app.get("/api/sources/{doc_id}/pages/{n}.png", tags=["library"], response_class=Response,
             responses={200: {"content": {"image/png": {}}}})
    def page_image(doc_id: str, n: int, start: int | None = Query(None, ge=0),
                   end: int | None = Query(None, ge=0), collection: str | None = COLLECTION):
        """Page ``n`` (1-based) of a PDF, rendered, with the document's characters ``start:end`` (the offsets of a
        citation) tinted where the page draws them."""
        try:
            png = page_png(service.library(collection).store, settings, doc_id, n, start, end)
        except ValueError as exc:
            return error(422, one_line(exc))
        except PageError as exc:
            return error(exc.status, exc.reason)
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})

    upload_body = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}}}}}}}

    @app.post("/api/ingest", tags=["library"], openapi_extra=upload_body)
    async def ingest(request: Request, collection: str | None = COLLECTION):
        """One file in field ``file``: type and size checked while it streams in; refused files change nothing.
        Needs the write right on the collection (admin to create one)."""
        try:
            service.check(collection, WRITE)  # before the body is read: no right, no upload
        except ValueError as exc:
            return error(422, one_line(exc))
        try:
            staged = await receive_upload(request, settings)
        except UploadError as exc:
            return error(exc.status, exc.reason)
        try:
            return await run_in_threadpool(service.ingest_staged, staged, collection)
        except UploadError as exc:
            return error(exc.status, exc.reason)


def _mount_ui(app: FastAPI, service: Service, settings: Settings, logins: Logins) -> None:
    import gradio as gr

    from .web import build_ui, page_css, page_theme

    guarded = logins.access.guarded
    gr.mount_gradio_app(
        app,
        build_ui(service, logins),
        path="/",
        auth=logins.login if guarded else None,
        auth_message="Verbatim: sign in with your token as password and its holder's name as user name (with the "
                     "server's VERBATIM_TOKEN: any other user name)." if guarded else None,
        theme=page_theme(),
        css=page_css(),
        footer_links=[],
        run_history=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        show_error=False,
        max_file_size=settings.max_file_bytes,
        blocked_paths=[str(settings.deployment.home)],
    )
    if guarded:  # the login's cookie names and sessions, for BearerToken on Gradio's unguarded routes
        ui = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "")
        names = (f"access-token-{ui.cookie_id}", f"access-token-unsecure-{ui.cookie_id}")
        app.state.ui_signed_in = lambda cookies: any(cookies.get(n) in ui.tokens for n in names if cookies.get(n))

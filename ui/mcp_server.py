"""Verbatim as an MCP server (the official ``mcp`` SDK): tools for agents, editors and desktop clients.

    search(query, k=5, sources?, collection?, collections?)
                                        ranked passages: rank, source, section, char_start, char_end, text, score
                                        (and collection, of several)
    ask(question, k?, sources?, history?, quotes_only?, collection?, collections?)
                                        the answer object (``Answer.to_dict()``: answer with [n] markers, refused,
                                        citations with verbatim offsets, retrieved, and any newer fields)
    sources(collection?)                the documents: id, title, source, langs, chunks, ingested_at
    collections()                       the collections the caller may read, with their documents

``collection``: none is the default collection; ``collections``: several asked at once (one fused ranking or
answer, each passage and citation naming its collection: qa/several.py). Over HTTP, a collection the bearer token
may not read is a tool error, the same whether or not it exists (ui/access.py), and so is a list holding one.

Two transports, one server definition: stdio (``verbatim mcp``, what desktop clients spawn) and Streamable
HTTP at ``/mcp`` of ``verbatim serve`` (stateless, JSON responses; behind the same bearer token as ``/api/*``).
A bad argument (an unknown source, k out of range) is a tool error with one line; tools run in a worker
thread (the SDK's ``run_sync``), so a slow answer never blocks the server's event loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import Field, ValidationError
from starlette.routing import BaseRoute

from verbatim_qa.contract import MAX_COLLECTIONS, MAX_K, MAX_QUESTION_CHARS, QUOTES_ONLY_DOC, VERSION
from verbatim_qa.text.lines import field_problems, one_line

from .access import NoAccess
from .service import Service

PATH = "/mcp"
INSTRUCTIONS = ("Answers and passages from the user's own documents. Every quote in a citation is verbatim: "
                "document_text[char_start:char_end] == quote. Use `ask` for an answer with citations (refused is "
                "true when the documents do not answer), `search` for ranked passages, `sources` for the documents; "
                "`collections` lists the libraries you may read, each tool's `collection` picks one (`collections`: "
                "several at once).")
READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)

K = Annotated[int, Field(ge=1, le=MAX_K, description=f"Passages retrieved (1-{MAX_K}).")]
QUESTION = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS)]
SOURCES = Annotated[list[str] | None, Field(description="Restrict to these file names (as `sources` lists them).")]
COLLECTION = Annotated[str | None, Field(max_length=63, description=(
    "The collection (as `collections` lists them); none: the default collection."))]
COLLECTIONS = Annotated[list[Annotated[str, Field(max_length=63)]] | None, Field(
    max_length=MAX_COLLECTIONS, description=("Several collections asked at once (with `collection`, if given): one "
                                             "answer or ranking from all, each citation naming its collection."))]


class OneLineErrors(MCPServer):
    """Arguments that fail the tool's schema are a one-line tool error, ``field: reason; ...`` (the SDK's own is
    pydantic's multi-line report with a help URL, found by tests/test_fuzz.py)."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context=None):
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(exc, UnexpectedToolError) or not isinstance(cause, ValidationError):
                raise
            raise ToolError(f"Error executing tool {name}: invalid arguments: "
                            f"{one_line(field_problems(cause.errors()), 1000)}") from cause


def build_mcp(service: Service) -> MCPServer:
    # log_level: the SDK configures the root logger when it builds a server; at its default (INFO) every
    # httpx request of the process was logged (158 lines in one `verbatim bench`)
    mcp = OneLineErrors("verbatim", title="Verbatim", version=VERSION, instructions=INSTRUCTIONS, log_level="WARNING")

    @mcp.tool(annotations=READ_ONLY)
    def search(query: QUESTION, k: K = 5, sources: SOURCES = None, collection: COLLECTION = None,
               collections: COLLECTIONS = None) -> dict[str, Any]:
        """Ranked passages for a query (retrieval only), each with its file and character offsets."""
        with tool_errors():
            hits = service.search(query, k, sources, collection, collections)
        return {"query": query, "passages": [{"rank": i, **h.to_dict()} for i, h in enumerate(hits, 1)]}

    @mcp.tool(annotations=READ_ONLY)
    def ask(question: QUESTION, k: K | None = None,
            sources: SOURCES = None,
            history: Annotated[list[QUESTION] | None, Field(max_length=100, description=(
                "Earlier questions of the conversation, oldest first, for a follow-up question."))] = None,
            quotes_only: Annotated[bool, Field(description=QUOTES_ONLY_DOC)] = False,
            collection: COLLECTION = None,
            collections: COLLECTIONS = None,
            ) -> dict[str, Any]:
        """Answer from the documents with verbatim, cited quotes: `answer` has [n] markers, each citation holds
        the quote, its file, section, page and offsets; `refused` is true when the documents do not answer."""
        with tool_errors():
            if not question.strip():
                raise ValueError("question is empty")
            return service.ask(question.strip(), k, sources, history=history or (), quotes_only=quotes_only,
                               collection=collection, collections=collections).to_dict()

    @mcp.tool(annotations=READ_ONLY)
    def sources(collection: COLLECTION = None) -> dict[str, Any]:
        """The documents in the library: id, title, file name (`source`), languages, chunks, ingested_at."""
        with tool_errors():
            return {"collection": collection or service.default, "documents": service.documents(collection)}

    @mcp.tool(annotations=READ_ONLY)
    def collections() -> dict[str, Any]:
        """The collections you may read: name, documents, and which one is asked when none is named."""
        return {"default": service.default, "collections": [{"name": name, "documents": n}
                                                            for name, n in service.collections().items()]}

    return mcp


@contextmanager
def tool_errors() -> Iterator[None]:
    """A ValueError (a bad argument: unknown source, blank question, an unconfigured answerer) reaches the client
    as a one-line tool error; the SDK hides every other exception's text from the client and logs its traceback."""
    try:
        yield
    except (ValueError, NoAccess) as exc:
        raise ToolError(one_line(exc)) from exc


def http_routes(mcp: MCPServer) -> list[BaseRoute]:
    """The Streamable HTTP endpoint at ``/mcp``, for the app's own router (its lifespan must enter
    ``mcp.session_manager.run()``). Stateless: any worker answers any request, no session to lose.

    The SDK's own DNS rebinding check is off: the app's one Host and Origin guard (ui/crosssite.py) covers
    ``/mcp`` as every other route, with the same settings (a proxy's name in VERBATIM_ALLOWED_HOSTS).
    """
    security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app = mcp.streamable_http_app(streamable_http_path=PATH, stateless_http=True, json_response=True,
                                  transport_security=security, host="127.0.0.1")
    return list(app.routes)

"""Error responses in the shape each route's clients read: OpenAI's under ``/v1``, ``{"error": "one line"}``
elsewhere."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from . import openai_api


def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def error_at(path: str, status: int, message: str, headers: dict | None = None) -> JSONResponse:
    """The error in the shape the route's clients read: OpenAI's under ``/v1``, ``{"error": ...}`` elsewhere."""
    if path.startswith("/v1/"):
        return openai_api.openai_error(status, message, headers)
    return error(status, message, headers)


async def refuse(scope, receive, send, status: int, message: str, headers: dict | None = None) -> None:
    """``error_at`` as the reply of an ASGI middleware; a WebSocket handshake is closed instead (policy violation,
    before it is accepted: the client sees 403)."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
        return
    await error_at(scope.get("path", ""), status, message, headers)(scope, receive, send)

"""The server token without a server or a model (issue 26): ``serve`` refuses a short one, the bearer middleware
guards ``/openapi.json`` and Gradio's heartbeat too, and wrong tokens lock out the address that sends them and no
other. The middleware runs over a bare ASGI app through httpx's ASGI transport, which sets the client address;
the real server's routes are checked in test_api.py."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from typer.testing import CliRunner

from verbatim_qa.cli import app as cli
from verbatim_qa.ui.api import BearerToken, Lockout, needs_token

TOKEN = "a-token-of-24-characters"
GOOD = {"Authorization": f"Bearer {TOKEN}"}


async def ok(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def statuses(guard: BearerToken, requests: list[tuple[str, str, dict]]) -> list[int]:
    """(client address, path, headers) per request, in order -> status codes."""

    async def run() -> list[int]:
        out = []
        for client, path, headers in requests:
            transport = httpx.ASGITransport(app=guard, client=(client, 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                out.append((await c.get(path, headers=headers)).status_code)
        return out

    return asyncio.run(run())


def test_serve_refuses_a_short_token_in_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["serve"], env={"VERBATIM_TOKEN": "s3cret", "VERBATIM_HOME": str(tmp_path)})
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "VERBATIM_TOKEN has 6 characters, fewer than 16" in lines[0]
    assert not (tmp_path / "chroma").exists()  # refused before the index is opened


@pytest.mark.parametrize("path, guarded", [
    ("/openapi.json", True), ("/api/sources", True), ("/v1/models", True), ("/mcp", True), ("/mcp/x", True),
    ("/api/health", False), ("/", False), ("/config", False),  # /config: Gradio's own login guards it
])
def test_needs_token(path, guarded):
    assert needs_token(path) is guarded


def test_openapi_and_the_heartbeat_need_the_token():
    guard = BearerToken(ok, TOKEN)
    paths = ["/openapi.json", "/gradio_api/heartbeat/abc", "/api/health", "/"]
    assert statuses(guard, [("10.0.0.1", p, {}) for p in paths]) == [401, 401, 200, 200]
    assert statuses(guard, [("10.0.0.1", p, GOOD) for p in paths]) == [200, 200, 200, 200]


def test_wrong_tokens_lock_out_their_address_only():
    guard = BearerToken(ok, TOKEN, failures=3, lockout_s=600)
    wrong = {"Authorization": "Bearer guess"}
    got = statuses(guard, [("10.0.0.1", "/api/sources", wrong)] * 4 + [
        ("10.0.0.1", "/api/sources", GOOD),  # locked out: even the right token waits
        ("10.0.0.2", "/api/sources", GOOD),  # another address is not slowed
        ("10.0.0.1", "/api/health", {}),  # nor a route that needs no token
        ("10.0.0.3", "/api/sources?sig=0123", {}),  # a guessed page signature is a wrong token too
        ("10.0.0.3", "/api/sources?sig=4567", {}), ("10.0.0.3", "/api/sources?sig=89ab", {}),
        ("10.0.0.3", "/api/sources", GOOD),
    ])
    assert got == [401, 401, 401, 429, 429, 200, 200, 401, 401, 401, 429]


def test_a_request_without_any_token_is_no_guess():
    guard = BearerToken(ok, TOKEN, failures=2, lockout_s=600)
    got = statuses(guard, [("10.0.0.4", "/api/sources", {})] * 5 + [("10.0.0.4", "/api/sources", GOOD)])
    assert got == [401] * 5 + [200]


def test_the_lockout_response_says_when_to_retry():
    guard = BearerToken(ok, TOKEN, failures=1, lockout_s=30)

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=guard, client=("10.0.0.5", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            await c.get("/v1/models", headers={"Authorization": "Bearer guess"})
            return await c.get("/v1/models", headers=GOOD)

    r = asyncio.run(run())
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 30
    assert r.json()["error"]["message"].startswith("too many wrong tokens from this address: try again in ")


def test_lockout_window_by_a_clock():
    now = [1000.0]
    lock = Lockout(failures=2, window=60, clock=lambda: now[0])
    lock.fail("a")
    now[0] += 10
    assert lock.retry_after("a") == 0.0  # one failure: not yet
    lock.fail("a")
    assert lock.retry_after("a") == pytest.approx(50.0) and lock.retry_after("b") == 0.0
    now[0] += 50.5  # the first failure left the window
    assert lock.retry_after("a") == 0.0
    now[0] += 60
    assert lock.retry_after("a") == 0.0 and "a" not in lock._seen  # expired addresses are forgotten


def test_lockout_remembers_a_bounded_number_of_addresses(monkeypatch):
    monkeypatch.setattr(Lockout, "MAX_CLIENTS", 3)
    lock = Lockout(failures=1, window=60)
    for client in "abcd":
        lock.fail(client)
    assert list(lock._seen) == ["b", "c", "d"]

"""No cross-site requests (issue 26): the Host, Origin and Sec-Fetch-Site guard (ui/crosssite.py) and, with a token,
the login on every UI route (ui/api.py ``BearerToken``).

The guard alone over a bare ASGI app first (no model, no server); then a real uvicorn server (a thread on a free
127.0.0.1 port) over a copy of the e5 corpus index with the web chat, reached by real HTTP and by Chromium
(Playwright with the system chromium, never ``playwright install``), where a page served by the test from a second
origin (another port of 127.0.0.1) tries to upload a file into Verbatim with a form.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from helpers import CHROMIUM, CHROMIUM_ARGS, EN_Q, NOTE

from verbatim_qa.settings import Settings
from verbatim_qa.ui.api import BearerToken
from verbatim_qa.ui.crosssite import SameOrigin, host_name
from verbatim_qa.ui.server import BackgroundServer, free_port

TOKEN = "a-token-of-24-characters"
ANSWER_MS = 120_000  # a loaded 2-core machine can be slow


async def ok(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def call(app, method: str, path: str, headers: dict) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:7860") as c:
            return await c.request(method, path, headers=headers)

    return asyncio.run(run())


def guard(tmp_path, **kw) -> SameOrigin:
    return SameOrigin(ok, Settings(home=tmp_path / "home", **kw))


# ---- the guard alone ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host, status", [
    ("127.0.0.1:7860", 200), ("localhost:7860", 200), ("LocalHost", 200), ("[::1]:7860", 200), ("[::1]", 200),
    ("127.0.0.1", 200), ("evil.example:7860", 421), ("evil.example", 421), ("localhost.evil.example", 421),
    ("192.168.1.5:7860", 421), ("0.0.0.0:7860", 421), ("", 421),
])
def test_without_a_token_only_loopback_hosts_are_served(tmp_path, host, status):
    r = call(guard(tmp_path), "GET", "/api/sources", {"Host": host})
    assert r.status_code == status
    if status == 421:
        assert r.json()["error"].startswith("refused: ") and "loopback" in r.json()["error"]
        assert "\n" not in r.json()["error"]


def test_a_proxy_host_is_served_when_listed_and_any_host_with_a_token(tmp_path):
    listed = guard(tmp_path, allowed_hosts="verbatim.example.org, other.example")
    assert call(listed, "GET", "/", {"Host": "verbatim.example.org"}).status_code == 200
    assert call(listed, "GET", "/", {"Host": "Verbatim.Example.org:8443"}).status_code == 200
    assert call(listed, "GET", "/", {"Host": "evil.example"}).status_code == 421
    assert call(guard(tmp_path, token=TOKEN), "GET", "/", {"Host": "evil.example"}).status_code == 200


@pytest.mark.parametrize("token", ["", TOKEN])
def test_a_foreign_origin_is_refused_on_every_method(tmp_path, token):
    g = guard(tmp_path, token=token)
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        for origin in ("http://evil.example", "http://127.0.0.1:9999", "http://localhost:7860", "null"):
            r = call(g, method, "/api/ingest", {"Origin": origin})
            assert r.status_code == 403, (method, origin)
            assert r.json()["error"].startswith(f"refused: a cross-site request from origin '{origin}'")
        assert call(g, method, "/api/ingest", {"Origin": "http://127.0.0.1:7860"}).status_code == 200  # its own
        assert call(g, method, "/api/ingest", {"Origin": "HTTP://127.0.0.1:7860/"}).status_code == 200
        assert call(g, method, "/api/ingest", {}).status_code == 200  # curl, the SDKs: no Origin at all


def test_sec_fetch_site_cross_site_writes_are_refused(tmp_path):
    g = guard(tmp_path)
    for site, write_status in (("cross-site", 403), ("same-site", 403), ("same-origin", 200), ("none", 200)):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            r = call(g, method, "/gradio_api/upload", {"Sec-Fetch-Site": site})
            assert r.status_code == write_status, (site, method)
        assert call(g, "GET", "/", {"Sec-Fetch-Site": site}).status_code == 200  # a link to the chat still opens


def test_listed_origins_pass_and_v1_refusals_are_openai_shaped(tmp_path):
    g = guard(tmp_path, allowed_origins="https://verbatim.example.org/")
    headers = {"Origin": "https://verbatim.example.org", "Sec-Fetch-Site": "cross-site"}
    assert call(g, "POST", "/v1/chat/completions", headers).status_code == 200
    r = call(g, "POST", "/v1/chat/completions", {"Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["error"]["type"] == "invalid_request_error"
    assert "cross-site" in r.json()["error"]["message"]
    r = call(g, "GET", "/v1/models", {"Host": "evil.example"})
    assert r.status_code == 421 and "loopback" in r.json()["error"]["message"]


@pytest.mark.parametrize("name, value, needle", [
    ("VERBATIM_ALLOWED_HOSTS", "https://a.example", "bad host 'https://a.example'"),
    ("VERBATIM_ALLOWED_HOSTS", "a.example:8080", "no port"),
    ("VERBATIM_ALLOWED_ORIGINS", "a.example", "bad origin 'a.example'"),
    ("VERBATIM_ALLOWED_ORIGINS", "https://a.example/path", "scheme://host[:port]"),
])
def test_bad_allowed_hosts_and_origins_are_one_line_naming_the_variable(monkeypatch, name, value, needle):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError) as info:
        Settings.from_env()
    assert str(info.value).startswith(f"{name}: ") and needle in str(info.value) and "\n" not in str(info.value)


def test_host_name():
    assert [host_name(h) for h in ("127.0.0.1:80", "[::1]:7860", "[::1]", "LOCALHOST", "a.example")] == [
        "127.0.0.1", "[::1]", "[::1]", "localhost", "a.example"]


# Gradio routes that answer without Gradio's own login check (gradio/routes.py), and some that have it.
UI_ROUTES = [("GET", "/gradio_api/heartbeat/abc"), ("POST", "/gradio_api/reset"), ("POST", "/gradio_api/cancel"),
             ("GET", "/gradio_api/app_id"), ("GET", "/gradio_api/user"), ("GET", "/gradio_api/token"),
             ("GET", "/gradio_api/startup-events"), ("POST", "/gradio_api/stream/abc"), ("GET", "/monitoring/abc"),
             ("GET", "/gradio_api/info"), ("GET", "/config"), ("GET", "/gradio_api/file=/etc/hostname"),
             ("GET", "/file=/etc/hostname"), ("POST", "/gradio_api/upload"), ("POST", "/gradio_api/queue/join"),
             ("GET", "/gradio_api/queue/data"), ("GET", "/svelte/x.js"), ("GET", "/manifest.json"),
             ("GET", "/pwa_icon"), ("GET", "/gradio_api/openapi.json")]
LOGIN_PAGE = [("GET", "/"), ("HEAD", "/"), ("POST", "/login"), ("GET", "/theme.css"), ("GET", "/favicon.ico"),
              ("GET", "/assets/index.js"), ("GET", "/static/js/iframeResizer.contentWindow.min.js"),
              ("GET", "/api/health")]


def test_with_a_token_every_ui_route_but_the_login_page_needs_it():
    g = BearerToken(ok, TOKEN)
    for method, path in UI_ROUTES:
        assert call(g, method, path, {}).status_code == 401, path
        assert call(g, method, path, {"Authorization": f"Bearer {TOKEN}"}).status_code == 200, path
    for method, path in LOGIN_PAGE:
        assert call(g, method, path, {}).status_code == 200, path


# ---- a real server -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(corpus_home, tmp_path_factory):
    """The app with the web chat on a free 127.0.0.1 port, no token (the default)."""
    from verbatim_qa.ui.api import create_app

    home = tmp_path_factory.mktemp("crosssite") / "home"
    shutil.copytree(corpus_home, home)
    settings = Settings(home=home, embedder="e5")
    app = create_app(settings)
    with BackgroundServer(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        yield SimpleNamespace(url=url, settings=settings, service=app.state.service, client=client)


def state(served) -> tuple[list[str], list[str]]:
    """What a refused request must leave alone: the documents' files and the stored uploads."""
    uploads = served.settings.uploads_dir
    files = sorted(str(p.relative_to(uploads)) for p in uploads.rglob("*") if p.is_file()) if uploads.exists() else []
    return sorted(d["source"] for d in served.service.documents()), files


def upload(client: httpx.Client, name: str, headers: dict) -> httpx.Response:
    return client.post("/api/ingest", files={"file": (name, NOTE.encode(), "text/plain")}, headers=headers)


@pytest.mark.integration
def test_a_foreign_host_gets_no_document_list(served):
    port = served.url.rsplit(":", 1)[1]
    for host in (f"rebind.example:{port}", "rebind.example", f"192.168.1.5:{port}"):
        for method, path in (("GET", "/api/sources"), ("GET", "/"), ("GET", "/config"), ("GET", "/gradio_api/info"),
                             ("GET", "/v1/models"), ("GET", "/openapi.json"), ("POST", "/mcp"),
                             ("GET", "/api/sources/x/pages/1.png"), ("GET", "/api/health")):
            r = served.client.request(method, path, headers={"Host": host})
            assert r.status_code == 421, (host, path)
            assert "china" not in r.text.lower() and "loopback" in r.text, (host, path)
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        r = served.client.get("/api/sources", headers={"Host": host})
        assert r.status_code == 200 and len(r.json()) == 2


@pytest.mark.integration
def test_a_cross_site_multipart_upload_is_refused_and_plants_nothing(served):
    before = state(served)
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                    {"Origin": "http://127.0.0.1:1"},  # another port of this machine is another origin
                    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}):
        r = upload(served.client, "planted.txt", headers)
        assert r.status_code == 403 and r.json()["error"].startswith("refused: "), headers
        doc_id = served.service.documents()[0]["id"]
        assert served.client.delete(f"/api/sources/{doc_id}", headers=headers).status_code == 403
    assert state(served) == before
    # the same upload from the server's own origin goes in: the refusals above are the guard's, not a broken upload
    r = upload(served.client, "own origin.txt", {"Origin": served.url, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 200 and r.json()["added"] == 1
    assert served.client.delete(f"/api/sources/{r.json()['document']['id']}", headers={"Origin": served.url}
                                ).status_code == 200
    assert state(served) == before


@pytest.mark.integration
def test_a_foreign_origin_is_refused_on_v1_mcp_and_gradio(served):
    evil = {"Origin": "http://evil.example"}
    chat = {"model": "verbatim", "messages": [{"role": "user", "content": EN_Q}]}
    r = served.client.post("/v1/chat/completions", json=chat, headers=evil)
    assert r.status_code == 403 and "cross-site" in r.json()["error"]["message"]
    mcp = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}}
    mcp_headers = {"Accept": "application/json, text/event-stream"}
    assert served.client.post("/mcp", json=mcp, headers={**mcp_headers, **evil}).status_code == 403
    for method, path in (("POST", "/gradio_api/queue/join"), ("POST", "/gradio_api/upload"),
                         ("POST", "/gradio_api/call/ask"), ("GET", "/config"), ("GET", "/gradio_api/info")):
        r = served.client.request(method, path, headers=evil, json={})
        assert r.status_code == 403 and "access-control-allow-origin" not in r.headers, path
    # the same requests from the server's own origin are answered
    own = {"Origin": served.url}
    r = served.client.post("/v1/chat/completions", json=chat, headers=own)
    assert r.status_code == 200 and "Innovation Day" in r.json()["choices"][0]["message"]["content"]
    r = served.client.post("/api/ask", json={"question": EN_Q}, headers=own)
    assert r.status_code == 200 and not r.json()["refused"]
    assert served.client.post("/mcp", json=mcp, headers={**mcp_headers, **own}).status_code == 200
    assert served.client.get("/config", headers=own).status_code == 200


# ---- in Chromium -------------------------------------------------------------------------------------------------


class OtherOrigin:
    """``with OtherOrigin(html) as url:`` serves one page at ``url`` from another port of 127.0.0.1."""

    def __init__(self, html: str) -> None:
        body = html.encode()

        class Page(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)

    def __enter__(self) -> str:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def upload_form(action: str) -> str:
    return (f'<form id="f" method="post" enctype="multipart/form-data" action="{action}">'
            '<input type="file" name="file" id="file"><button id="go" type="submit">send</button></form>')


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():  # a set-up failure, never a silent skip
        pytest.fail(f"{CHROMIUM} is missing: apt-get update && apt-get install -y chromium")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def chromium(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.mark.integration
def test_chromium_cross_site_form_upload_is_not_ingested(served, chromium, tmp_path):
    planted = tmp_path / "planted by another site.txt"
    planted.write_text(NOTE, encoding="utf-8")
    before = state(served)
    page = chromium.new_page()
    statuses: dict[str, list[int]] = {}
    page.on("response", lambda r: statuses.setdefault(r.url, []).append(r.status))
    with OtherOrigin(upload_form(served.url + "/api/ingest")) as other:
        page.goto(other, wait_until="domcontentloaded")
        page.set_input_files("#file", str(planted))
        page.click("#go")  # a top-level form POST: a CORS "simple" request, no preflight
        page.wait_for_url(served.url + "/api/ingest")
        page.wait_for_selector("text=refused: a cross-site request from origin")
        # and a script's no-cors fetch of the same form (its answer is opaque to the page, but it would plant)
        page.goto(other, wait_until="domcontentloaded")
        page.set_input_files("#file", str(planted))
        page.evaluate("""url => fetch(url, {method: 'POST', mode: 'no-cors',
                                            body: new FormData(document.getElementById('f'))})""",
                      served.url + "/api/ingest")
    assert statuses[served.url + "/api/ingest"] == [403, 403]
    assert state(served) == before
    # the same form on a page of Verbatim's own origin goes in: the refusal is the guard's, not a broken form
    page.goto(served.url + "/api/health", wait_until="domcontentloaded")
    page.set_content(upload_form("/api/ingest"))
    page.set_input_files("#file", str(planted))
    page.click("#go")
    page.wait_for_selector("text=\"added\":1")
    docs = {d["source"]: d["id"] for d in served.service.documents()}
    assert planted.name in docs
    assert served.client.delete(f"/api/sources/{docs[planted.name]}").status_code == 200
    assert state(served) == before
    page.close()


@pytest.mark.integration
def test_chromium_dns_rebinding_gets_nothing_and_the_chat_answers(served, playwright, chromium):
    from playwright.sync_api import expect

    port = served.url.rsplit(":", 1)[1]
    # DNS rebinding: an attacker's name that resolves to 127.0.0.1; the page at that name is same-origin with it,
    # and the browser sends the name as Host
    rebound = playwright.chromium.launch(executable_path=CHROMIUM,
                                         args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP rebind.test 127.0.0.1"])
    page = rebound.new_page()
    response = page.goto(f"http://rebind.test:{port}/api/sources", wait_until="domcontentloaded")
    assert response.status == 421 and "loopback" in page.content() and "china" not in page.content().lower()
    assert page.goto(f"http://rebind.test:{port}/", wait_until="domcontentloaded").status == 421
    rebound.close()
    # the chat page itself, same-origin: Gradio's posts (queue/join) carry its own Origin and are answered
    page = chromium.new_page()
    page.goto(served.url + "/", wait_until="domcontentloaded")
    page.wait_for_selector("#vb-question textarea", timeout=60_000)
    page.fill("#vb-question textarea", EN_Q)
    page.click("#vb-ask")
    turn = page.locator("#vb-chat .vb-turn").last
    expect(turn.locator(".vb-bot:not(.vb-streaming), .vb-error")).to_be_visible(timeout=ANSWER_MS)
    assert turn.locator(".vb-error").count() == 0 and "Innovation Day" in turn.inner_text()
    page.close()


@pytest.mark.integration
def test_with_a_token_gradio_routes_need_the_login_and_the_login_page_works(served, chromium):
    from verbatim_qa.ui.api import create_app

    app = create_app(served.settings.with_(token=TOKEN), service=served.service)
    with BackgroundServer(app) as url, httpx.Client(base_url=url, timeout=120) as c:
        for method, path in UI_ROUTES:
            if path != "/gradio_api/queue/data":  # an event stream: checked below by status only
                assert c.request(method, path).status_code == 401, path
        with c.stream("GET", "/gradio_api/queue/data") as r:
            assert r.status_code == 401
        assert c.get("/").status_code == 200 and c.get("/theme.css").status_code == 200
        assert c.post("/login", data={"username": "me", "password": TOKEN}).status_code == 200  # the cookie
        for method, path in (("GET", "/config"), ("GET", "/gradio_api/info"), ("GET", "/gradio_api/app_id")):
            assert c.request(method, path).status_code == 200, path

        page = chromium.new_page()
        refused: list[str] = []
        page.on("response", lambda r: refused.append(r.url) if r.status == 401 else None)
        page.goto(url + "/", wait_until="domcontentloaded")
        page.wait_for_selector("input[type=password]", timeout=60_000)  # the login form, with its assets
        assert refused == []
        page.fill("input[type=password]", TOKEN)
        page.locator("input:not([type=password])").first.fill("me")
        page.keyboard.press("Enter")
        page.wait_for_selector("#vb-question textarea", timeout=60_000)
        page.fill("#vb-question textarea", EN_Q)
        page.click("#vb-ask")
        page.wait_for_selector("#vb-chat .vb-bot:not(.vb-streaming) .vb-cite", timeout=ANSWER_MS)
        assert refused == []
        page.close()

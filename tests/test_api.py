"""The HTTP API over a real uvicorn server (a thread, a free loopback port) and a copy of the e5 corpus index.

One server per module: building the answerer (BM25, Persian vocabulary) and the UI is the slow part, and the
e5 model is already loaded in this process by ``corpus_home``. The upload limit is set small (50 KB) so the
oversize paths are cheap to exercise.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from helpers import EN_Q, FA_Q, NOTE, NOTE_Q

from verbatim_qa.contract import ANSWER_KEYS, MAX_K, MAX_QUESTION_CHARS
from verbatim_qa.settings import Settings
from verbatim_qa.ui.api import create_app
from verbatim_qa.ui.server import BackgroundServer

ENGLISH = "why-china-leans-hard-on-central-asia.txt"
PERSIAN = "china-central-asia-ai-rezapour-2024.md"


@pytest.fixture(scope="module")
def api(corpus_home, tmp_path_factory):
    home = tmp_path_factory.mktemp("api") / "home"
    shutil.copytree(corpus_home, home)
    settings = Settings(home=home, embedder="e5", max_file_mb=0.05)
    app = create_app(settings)
    with BackgroundServer(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        yield SimpleNamespace(url=url, settings=settings, service=app.state.service, client=client, app=app)


def ids_by_source(api) -> dict[str, str]:
    return {d["source"]: d["id"] for d in api.client.get("/api/sources").json()}


def assert_verbatim(api, answer: dict) -> None:
    ids = ids_by_source(api)
    for c in answer["citations"]:
        text = api.service.store.document_text(ids[c["source"]])
        assert text[c["char_start"] : c["char_end"]] == c["quote"]


def upload(api, name: str, data: bytes | str, field: str = "file") -> httpx.Response:
    body = data.encode("utf-8") if isinstance(data, str) else data
    return api.client.post("/api/ingest", files={field: (name, body, "application/octet-stream")})


def state(api) -> tuple[list[dict], list[str]]:
    """What a refused request must leave alone: the documents and the stored upload files."""
    uploads = api.settings.uploads_dir
    files = sorted(str(p.relative_to(uploads)) for p in uploads.rglob("*") if p.is_file()) if uploads.exists() else []
    return api.client.get("/api/sources").json(), files


@pytest.mark.integration
def test_health_openapi_and_page(api):
    assert api.client.get("/api/health").json() == {"status": "ok"}
    spec = api.client.get("/openapi.json").json()
    assert {"/api/ask", "/api/ask/stream", "/api/sources", "/api/ingest", "/api/sources/{doc_id}",
            "/api/health"} <= set(spec["paths"])
    page = api.client.get("/")
    assert page.status_code == 200 and "gradio" in page.text.lower()


GRADIO_PUBLIC = {"/ask"}  # the web chat's endpoints meant for clients; every other page handler is private
PAGE_HANDLERS = ("/respond", "/respond_1", "/briefing_files", "/clear", "/ingest_uploads", "/delete_doc", "/refresh",
                 "/load_example")


TRADE = "Which Central Asian country saw the fastest growth in trade with China in 2023?"


@pytest.mark.integration
def test_ask_follow_up_with_history(api):
    r = api.client.post("/api/ask", json={"question": "What about Turkmenistan?", "history": [TRADE]})
    assert r.status_code == 200, r.text
    ans = r.json()
    assert ans["question"] == "What about Turkmenistan?" and ans["search_query"].startswith(ans["question"] + " ")
    assert not ans["refused"] and "ترکمنستان" in " ".join(c["quote"] for c in ans["citations"])
    assert_verbatim(api, ans)
    with_answer = {"question": "What about Turkmenistan?", "history": [{"question": TRADE, "answer": "Tajikistan."}]}
    assert api.client.post("/api/ask", json=with_answer).json()["search_query"] == ans["search_query"]
    lines = api.client.post("/api/ask/stream", json=with_answer).text.splitlines()
    assert json.loads(lines[-1])["answer"]["search_query"] == ans["search_query"]
    bad = api.client.post("/api/ask", json={"question": "What about Turkmenistan?", "history": [{"answer": "x"}]})
    assert bad.status_code == 422 and "history" in bad.json()["error"]


@pytest.mark.integration
def test_gradio_api_lists_only_the_client_endpoints(api):
    for query in ("", "?all_endpoints=true"):  # all_endpoints also lists "undocumented" ones, never "private"
        info = api.client.get("/gradio_api/info" + query).json()
        assert set(info["named_endpoints"]) == GRADIO_PUBLIC and info["unnamed_endpoints"] == {}, query
    paths = set(api.client.get("/gradio_api/openapi.json").json()["paths"])
    assert paths == {"/gradio_api/upload", "/gradio_api/call/v2/ask", "/gradio_api/call/ask/{event_id}"}


@pytest.mark.integration
def test_gradio_client_asks_and_cannot_call_the_page_handlers(api, monkeypatch):
    from gradio_client import Client

    # The client's heartbeat stream ends only at the server's next beat (15 s by default), and until then
    # the server cannot shut down: a short beat lets the fixture stop it promptly.
    monkeypatch.setenv("GRADIO_HEARTBEAT_INTERVAL", "0.5")
    client = Client(api.url + "/", verbose=False)
    try:
        listed = client.view_api(print_info=False, return_format="dict")
        assert set(listed["named_endpoints"]) == GRADIO_PUBLIC and listed["unnamed_endpoints"] == {}
        ask = listed["named_endpoints"]["/ask"]
        params = [p["parameter_name"] for p in ask["parameters"]]
        assert params == ["question", "k", "sources", "answerer", "collection"]
        page = client.predict(EN_Q, 3, [], "extractive", api_name="/ask")[0]  # as evals/load.py asks
        assert "vb-cite" in page and "Innovation Day" in page and "vb-error" not in page
        before = state(api)
        for name in PAGE_HANDLERS:
            with pytest.raises(ValueError, match="Cannot find a function"):
                client.predict(api_name=name)
        assert state(api) == before
    finally:
        client.close()


@pytest.mark.integration  # imports gradio (its theme): seconds of CPU
def test_page_style_and_script_are_package_data():
    import tomllib

    from verbatim_qa.ui import html as H
    from verbatim_qa.ui.web import page_css, page_theme, static_text

    css, js = static_text("chat.css"), static_text("chat.js")
    assert ".vb-cite" in css and "font-family: var(--vb-font-stack)" in css
    assert "Vazirmatn" not in css  # the font stack has one source, ui/html.py
    assert page_css().startswith(f".gradio-container {{ --vb-font-stack: {H.FONT_STACK}; }}") and css in page_css()
    assert page_theme()._font == [f.strip(" '") for f in H.FONT_STACK.split(",")]
    assert "element.addEventListener('click'" in js and "navigator.clipboard" in js
    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text("utf-8"))
    assert "static/*" in pyproject["tool"]["setuptools"]["package-data"]["verbatim_qa.ui"]


@pytest.mark.integration
def test_sources_lists_the_corpus(api):
    docs = api.client.get("/api/sources").json()
    assert {d["source"] for d in docs} == {ENGLISH, PERSIAN}
    for d in docs:
        assert set(d) == {"id", "title", "source", "langs", "chunks", "ingested_at", "extracted_by", "ocr"}
        assert d["chunks"] > 0
    assert "fa" in next(d for d in docs if d["source"] == PERSIAN)["langs"]


@pytest.mark.integration
def test_ask_answers_with_verbatim_quotes(api):
    r = api.client.post("/api/ask", json={"question": EN_Q, "k": 3})
    assert r.status_code == 200
    ans = r.json()
    assert set(ans) == ANSWER_KEYS
    assert ans["search_query"] == ans["question"]  # no history: the question is searched as asked
    assert not ans["refused"] and ans["citations"] and len(ans["retrieved"]) == 3
    assert "Astana" in ans["citations"][0]["quote"] and ans["citations"][0]["source"] == ENGLISH
    assert_verbatim(api, ans)

    fa = api.client.post("/api/ask", json={"question": FA_Q}).json()
    assert not fa["refused"] and fa["citations"][0]["source"] == PERSIAN
    assert_verbatim(api, fa)

    only = api.client.post("/api/ask", json={"question": FA_Q, "sources": [ENGLISH]}).json()
    assert {c["source"] for c in only["citations"]} <= {ENGLISH}
    assert {r["source"] for r in only["retrieved"]} == {ENGLISH}

    off = api.client.post("/api/ask", json={"question": "What is the boiling point of mercury in Kelvin?"}).json()
    assert off["refused"] and off["citations"] == []


@pytest.mark.integration
@pytest.mark.parametrize("body, needle", [
    (b"{not json", "not valid JSON"),
    (b"{}", "question"),
    (b'{"question": "   "}', "question"),
    (b'{"question": "x", "k": 0}', "k"),
    (json.dumps({"question": "x", "k": MAX_K + 1}).encode(), "k"),
    (json.dumps({"question": "x" * (MAX_QUESTION_CHARS + 1)}).encode(), "question"),
    (b'{"question": "x", "sources": "a.txt"}', "sources"),
    (b'{"question": "x", "sources": ["missing.txt"]}', "unknown source"),
    (b'{"question": "x", "answerer": "llm"}', "VERBATIM_LLM_BASE_URL"),
    (b'{"question": "x", "colour": "red"}', "colour"),
    (json.dumps({"question": "x", "history": ["x" * (MAX_QUESTION_CHARS + 1)]}).encode(), "history.0"),
])
def test_ask_rejects_bad_requests(api, body, needle):
    for path in ("/api/ask", "/api/ask/stream"):
        r = api.client.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 422, (path, r.text)
        assert needle in r.json()["error"] and "Traceback" not in r.text


@pytest.mark.integration
def test_stream_sends_the_extractive_answer_as_one_event(api):
    with api.client.stream("POST", "/api/ask/stream", json={"question": EN_Q}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        events = [json.loads(line) for line in r.iter_lines() if line]
    assert [e["type"] for e in events] == ["retrieved", "answer"]  # no fake tokens cut from a finished answer
    assert set(events[0]["retrieved"][0]) == {"source", "section", "char_start", "char_end", "score"}
    final = events[-1]["answer"]
    assert final == api.client.post("/api/ask", json={"question": EN_Q}).json()

    headers = {"accept": "text/event-stream"}
    with api.client.stream("POST", "/api/ask/stream", json={"question": EN_Q}, headers=headers) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = list(r.iter_lines())
    data = [json.loads(line[5:]) for line in lines if line.startswith("data:")]
    assert [line for line in lines if line.startswith("event:")] == ["event: retrieved", "event: answer"]
    assert data[-1] == {"type": "answer", "answer": final}


@pytest.mark.integration
def test_upload_ask_delete(api):
    r = upload(api, "glacier notes.txt", NOTE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["added"] == 1 and body["failed"] == [] and body["file"] == "glacier notes.txt"
    doc = body["document"]
    stored = api.settings.uploads_dir / "glacier notes.txt"
    assert stored.read_text(encoding="utf-8") == NOTE
    assert doc["id"] in ids_by_source(api).values()

    ans = api.client.post("/api/ask", json={"question": NOTE_Q}).json()  # BM25 and vocabulary were rebuilt
    assert not ans["refused"] and ans["citations"][0]["source"] == "glacier notes.txt"
    assert "rebuilt in 2003" in ans["citations"][0]["quote"]
    assert_verbatim(api, ans)

    again = upload(api, "glacier notes.txt", NOTE).json()
    assert again["skipped"] == 1 and again["added"] == 0

    r = api.client.delete(f"/api/sources/{doc['id']}")
    assert r.status_code == 200 and r.json() == {"deleted": doc["id"], "source": "glacier notes.txt",
                                                 "file_removed": True}
    assert not stored.exists() and "glacier notes.txt" not in ids_by_source(api)
    after = api.client.post("/api/ask", json={"question": NOTE_Q}).json()
    assert all(c["source"] != "glacier notes.txt" for c in after["citations"])
    gone = api.client.delete(f"/api/sources/{doc['id']}")
    assert gone.status_code == 404 and "no document" in gone.json()["error"]


@pytest.mark.integration
def test_delete_keeps_files_outside_uploads(api, tmp_path):
    outside = tmp_path / "kept.txt"
    outside.write_text(NOTE, encoding="utf-8")
    from verbatim_qa.ingest.pipeline import ingest_paths

    ingest_paths(api.service.store, [outside])
    doc_id = ids_by_source(api)["kept.txt"]
    r = api.client.delete(f"/api/sources/{doc_id}")
    assert r.status_code == 200 and r.json()["file_removed"] is False and outside.exists()


@pytest.mark.integration
def test_bad_uploads_change_nothing(api):
    before = state(api)
    limit = api.settings.max_file_bytes
    cases = [
        (upload(api, "evil.exe", b"MZ\x90\x00"), 415, "unsupported file type .exe"),
        (upload(api, "noext", b"hello"), 415, "no extension"),
        (upload(api, "empty.txt", b""), 400, "empty file"),
        (upload(api, "blank.md", "   \n\n  "), 400, "empty file"),
        (upload(api, "bytes.txt", bytes(range(256)) * 4), 400, ""),
        (upload(api, "big.txt", b"a" * (limit + 1000)), 413, "limit"),  # caught while streaming
        (upload(api, "huge.txt", b"a" * (limit + 200_000)), 413, "limit"),  # caught by Content-Length
        (upload(api, "note.txt", NOTE, field="document"), 400, "field 'file'"),
        (upload(api, "..", NOTE), 400, "file name"),
        (api.client.post("/api/ingest", json={"file": NOTE}), 400, "multipart"),
    ]
    for r, status, reason in cases:
        assert r.status_code == status, r.text
        message = r.json()["error"]
        assert reason in message and "\n" not in message and "Traceback" not in message
    assert state(api) == before
    assert not any((api.settings.uploads_dir / ".staging").iterdir())


@pytest.mark.integration
def test_upload_names_are_sanitized(api):
    uploads = api.settings.uploads_dir.resolve()
    long = "x" * 400 + ".txt"
    names = {"../../evil.txt": "evil.txt", "/etc/passwd.txt": "passwd.txt",
             "گزارش\u202e\u0000 انرژی.md": "گزارش انرژی.md", "C:\\Users\\me\\..\\win.md": "win.md",
             ".bashrc.txt": "bashrc.txt", "CON.txt": "_CON.txt", long: "x" * 196 + ".txt"}
    for i, (raw, expected) in enumerate(names.items()):
        r = upload(api, raw, f"Note {i}\n\nThe caravan number {i} reached Samarkand after crossing the Pamir.\n")
        assert r.status_code == 200, r.text
        assert r.json()["file"] == expected
        assert (uploads / expected).is_file()
    home = api.settings.deployment.home.resolve()
    assert not (home / "evil.txt").exists() and not (home.parent / "evil.txt").exists()
    for expected in names.values():
        doc_id = ids_by_source(api)[expected]
        assert api.client.delete(f"/api/sources/{doc_id}").json()["file_removed"] is True
        assert not (uploads / expected).exists()


@pytest.mark.integration
def test_oversize_upload_without_a_length_is_cut_off_while_streaming(api):
    """Chunked transfer: no Content-Length to check first, so the byte count while receiving must refuse it."""
    before = state(api)
    boundary = "verbatim-test-boundary"

    def body():
        yield (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="stream.txt"\r\n'
               "Content-Type: text/plain\r\n\r\n").encode()
        for _ in range(api.settings.max_file_bytes // 4096 + 4):
            yield b"caravan " * 512
        yield f"\r\n--{boundary}--\r\n".encode()

    r = api.client.post("/api/ingest", content=body(),
                        headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413 and "limit" in r.json()["error"]
    assert state(api) == before
    assert not any((api.settings.uploads_dir / ".staging").iterdir())


@pytest.mark.integration
def test_errors_are_one_line_json(api, monkeypatch):
    def boom(*a, **kw):
        raise RuntimeError("secret detail /etc/shadow")

    monkeypatch.setattr(api.service.library(), "prepare", boom)
    r = api.client.post("/api/ask", json={"question": EN_Q})
    assert r.status_code == 500
    assert r.json() == {"error": "internal error (RuntimeError); see the server log"}
    assert api.client.post("/api/ask/typo", json={}).status_code in (404, 405)


@pytest.mark.integration
def test_token_guards_api_and_ui(api):
    settings = api.settings.with_(token="s3cret-token")
    app = create_app(settings, service=api.service)
    with BackgroundServer(app) as url, httpx.Client(base_url=url, timeout=120) as c:
        assert c.get("/api/health").status_code == 200
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"},
                        {"Authorization": "Basic s3cret-token"}):
            r = c.get("/api/sources", headers=headers)
            assert r.status_code == 401 and r.json() == {"error": "missing or wrong bearer token"}
        assert c.post("/api/ask", content=b"{bad").status_code == 401  # the token is checked before the body
        assert c.delete("/api/sources/x").status_code == 401
        assert upload(SimpleNamespace(client=c), "a.txt", NOTE).status_code == 401
        good = {"Authorization": "Bearer s3cret-token"}
        assert c.get("/api/sources", headers=good).status_code == 200
        r = c.post("/api/ask", json={"question": EN_Q}, headers=good)
        assert r.status_code == 200 and not r.json()["refused"]
        assert c.get("/openapi.json").status_code == 401 and c.get("/openapi.json", headers=good).status_code == 200
        # the UI asks for a login: any user name, the token as password
        assert c.get("/config").status_code == 401
        assert heartbeat(c) == 401  # Gradio's own routes without its login check need the login too
        assert c.post("/login", data={"username": "me", "password": "wrong"}).status_code == 400
        assert c.post("/login", data={"username": "me", "password": "s3cret-token"}).status_code == 200
        assert c.get("/config").status_code == 200
        assert heartbeat(c) == 200


def heartbeat(c: httpx.Client) -> int:
    with c.stream("GET", "/gradio_api/heartbeat/abc") as r:  # a stream that never ends: read the status only
        return r.status_code


@pytest.mark.integration
def test_files_are_stored_only_under_uploads(api):
    uploads = api.settings.uploads_dir.resolve()
    for p in Path(api.settings.deployment.home).rglob("*.txt"):
        assert p.resolve().is_relative_to(uploads), p


def test_serve_refuses_a_public_address_without_token():
    from typer.testing import CliRunner

    from verbatim_qa.cli import app
    from verbatim_qa.ui.server import is_loopback

    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"], env={"VERBATIM_TOKEN": ""})
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "VERBATIM_TOKEN" in lines[0]
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("127.3.4.5")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.org")


def test_rendering_escapes_and_keeps_source_markers_inside_quotes():
    from verbatim_qa.qa.answer import Answer
    from verbatim_qa.types import Chunk, Citation, ScoredChunk
    from verbatim_qa.ui import html as H

    quote = 'In 2017[3] <b>Huawei</b> & "partners" opened it.'
    context = "Before. " + quote + " After."
    chunk = Chunk("c1", "d1", "a<b>.txt", "<script>t</script>", None, 3, 2, 2 + len(context), context, "en")
    c = Citation(1, "a<b>.txt", "<script>t</script>", None, 3, quote, 10, 10 + len(quote), doc_id="d1")
    answer = Answer("<i>q</i>", False, [c], [ScoredChunk(chunk, 1.0)], quoted=(1,))
    page = H.conversation([{"question": "<i>q</i>", "status": "done", "answer": answer, "markdown": "**md** <x>"}])
    assert "<b>" not in page and "<script>" not in page and "<i>" not in page
    assert "In 2017[3] &lt;b&gt;Huawei&lt;/b&gt; &amp; &quot;partners&quot; opened it." in page
    assert page.count('class="vb-cite"') == 1  # "[3]" inside the quote is the source's, not a marker
    assert "Before. <mark>In 2017[3] &lt;b&gt;Huawei" in page and "&lt;script&gt;t&lt;/script&gt;" in page
    assert "**md** &lt;x&gt;</textarea>" in page

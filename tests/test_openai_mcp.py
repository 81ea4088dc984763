"""The OpenAI-compatible API and the MCP server, each through its official client, against a real server.

One uvicorn server per module (a thread, a free loopback port) over a copy of the e5 corpus index, with a
token, so every client also proves it passes the bearer check. ``verbatim mcp`` is spawned as a real process
by the MCP stdio client.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import anyio
import httpx
import pytest
from helpers import EN_Q

from verbatim_qa.settings import Settings
from verbatim_qa.ui.api import create_app
from verbatim_qa.ui.server import BackgroundServer

TOKEN = "s3cret-openapi"
ENGLISH = "why-china-leans-hard-on-central-asia.txt"


@pytest.fixture(scope="module")
def server(corpus_home, tmp_path_factory):
    home = tmp_path_factory.mktemp("openai") / "home"
    shutil.copytree(corpus_home, home)
    settings = Settings(home=home, embedder="e5", token=TOKEN)
    app = create_app(settings, ui=False)
    with BackgroundServer(app) as url:
        yield SimpleNamespace(url=url, home=home, service=app.state.service)


def texts(server) -> dict[str, str]:
    store = server.service.store
    return {r.source: store.document_text(r.doc_id) for r in store.documents()}


def assert_verbatim(server, citations: list[dict]) -> None:
    assert citations
    docs = texts(server)
    for c in citations:
        assert docs[c["source"]][c["char_start"] : c["char_end"]] == c["quote"]


def openai_client(server, token: str = TOKEN):
    from openai import OpenAI

    return OpenAI(base_url=server.url + "/v1", api_key=token, max_retries=0, timeout=120)


@pytest.mark.integration
def test_openai_sdk_answer_has_footnotes_and_verbatim_citations(server):
    client = openai_client(server)
    assert [m.id for m in client.models.list()] == ["verbatim"]
    done = client.chat.completions.create(model="verbatim", messages=[{"role": "user", "content": EN_Q}])
    content = done.choices[0].message.content
    extra = done.model_extra
    assert done.choices[0].finish_reason == "stop" and extra["refused"] is False
    assert_verbatim(server, extra["citations"])
    first = extra["citations"][0]
    # Plain clients see the quote and where it is: "[1] “quote” — title (file, chars a–b)".
    assert "[1]" in content.split("\n\n[1] “")[0]  # the marker in the answer, before its footnote
    assert f"[1] “{' '.join(first['quote'].split())}” — " in content
    assert f"({first['source']}, chars {first['char_start']}–{first['char_end']})" in content
    assert "Innovation Day" in content and first["source"] == ENGLISH


@pytest.mark.integration
def test_openai_sdk_stream_ends_with_the_plain_answer(server):
    client = openai_client(server)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": EN_Q}]
    plain = client.chat.completions.create(model="verbatim", messages=messages)
    chunks = list(client.chat.completions.create(model="verbatim", messages=messages, stream=True))
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len({c.id for c in chunks}) == 1
    assert pieces == [plain.choices[0].message.content]  # extractive: the answer and its footnotes in one chunk
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and last.object == "chat.completion.chunk"
    assert last.model_extra["citations"] == plain.model_extra["citations"]
    assert_verbatim(server, last.model_extra["citations"])


@pytest.mark.integration
def test_openai_sdk_two_turns(server):
    client = openai_client(server)
    first = client.chat.completions.create(model="verbatim", messages=[{"role": "user", "content": EN_Q}])
    second_q = "Which country did China help open a police centre equipped with facial recognition?"
    messages = [{"role": "user", "content": EN_Q},
                {"role": "assistant", "content": first.choices[0].message.content},
                {"role": "user", "content": [{"type": "text", "text": second_q}]}]
    second = client.chat.completions.create(model="verbatim", messages=messages)
    assert second.model_extra["question"] == second_q and second.model_extra["refused"] is False
    assert_verbatim(server, second.model_extra["citations"])
    assert "facial recognition" in " ".join(c["quote"] for c in second.model_extra["citations"])


@pytest.mark.integration
def test_openai_errors_are_openai_shaped_one_liners(server):
    import openai

    client = openai_client(server)
    with pytest.raises(openai.AuthenticationError, match="bearer token"):
        openai_client(server, "wrong").models.list()
    with pytest.raises(openai.NotFoundError, match="model 'gpt-4o' does not exist"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": EN_Q}])
    with pytest.raises(openai.BadRequestError, match="last message must be the user's question"):
        client.chat.completions.create(model="verbatim", messages=[{"role": "assistant", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="unknown source"):
        client.chat.completions.create(model="verbatim", messages=[{"role": "user", "content": EN_Q}], stream=True,
                                       extra_body={"sources": ["nope.txt"]})
    r = httpx.post(server.url + "/v1/chat/completions", headers={"Authorization": f"Bearer {TOKEN}"},
                   json={"model": "verbatim", "messages": []})
    err = r.json()["error"]
    assert r.status_code == 400 and err["type"] == "invalid_request_error" and "\n" not in err["message"]


@pytest.mark.integration
def test_mcp_over_http_needs_the_token_and_answers(server):
    assert httpx.post(server.url + "/mcp", json={}).status_code == 401
    result = anyio.run(mcp_session, server.url + "/mcp", TOKEN)
    check_mcp(server, result)


@pytest.mark.integration
def test_mcp_over_stdio_spawning_verbatim_mcp(server):
    from mcp import StdioServerParameters

    env = {**os.environ, "VERBATIM_HOME": str(server.home), "VERBATIM_EMBEDDER": "e5"}
    params = StdioServerParameters(command=str(Path(sys.executable).parent / "verbatim"), args=["mcp"], env=env)
    check_mcp(server, anyio.run(mcp_session, params, None))


async def mcp_session(target, token: str | None) -> dict:
    from mcp import Client

    if token:
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
        target = streamable_http_client(target, http_client=http)
    async with Client(target, read_timeout_seconds=180) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        ask = await client.call_tool("ask", {"question": EN_Q, "k": 3})
        search = await client.call_tool("search", {"query": EN_Q, "k": 2})
        bad = await client.call_tool("ask", {"question": EN_Q, "sources": ["nope.txt"]})
        docs = await client.call_tool("sources", {})
    return {"tools": tools, "ask": ask, "search": search, "bad": bad, "docs": docs}


def check_mcp(server, r: dict) -> None:
    assert r["tools"] == {"search", "ask", "sources", "collections"}
    answer = r["ask"].structured_content
    assert not r["ask"].is_error and answer["refused"] is False and "Innovation Day" in answer["answer"]
    assert_verbatim(server, answer["citations"])
    passages = r["search"].structured_content["passages"]
    docs = texts(server)
    assert [p["rank"] for p in passages] == [1, 2]
    assert all(docs[p["source"]][p["char_start"] : p["char_end"]] == p["text"] for p in passages)
    assert r["bad"].is_error and "unknown source(s): nope.txt" in r["bad"].content[0].text
    assert {d["source"] for d in r["docs"].structured_content["documents"]} == set(docs)


@pytest.mark.integration  # a fresh Python that imports the web and MCP stack
def test_building_the_mcp_server_leaves_http_requests_unlogged():
    # the SDK configures the root logger when a server is built; a fresh process, as pytest's own handlers keep
    # logging.basicConfig from acting here
    code = ("import logging; from ui.mcp_server import build_mcp; build_mcp(None); "
            "print(logging.getLogger('httpx').isEnabledFor(logging.INFO))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent)
    assert out.stdout.strip() == "False", out.stderr

"""Hypothesis fuzz of every JSON door of a real server on 127.0.0.1 (uvicorn, the extractive answerer, e5, a copy of
the bundled corpus index): /api/ask, /api/ask/stream, /v1/chat/completions, MCP's tools, the page-image and delete
routes. Random JSON shapes, unicode, huge and negative numbers, wrong types, mutated valid bodies.

Whatever arrives: no 500, no hang (the client's timeout fails the example), and a 4xx carries one line saying what
is wrong (``{"error": "..."}``; OpenAI's ``{"error": {"message": ...}}`` under /v1; a one-line tool error in MCP).
Examples are few per door (the server answers each for real) and the database is off: a run is reproducible
from its seed, not from a cache.
"""

from __future__ import annotations

import json
import shutil
from urllib.parse import quote

import httpx
import pytest
from helpers import EN_Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verbatim_qa.settings import Settings
from verbatim_qa.ui.api import create_app
from verbatim_qa.ui.server import BackgroundServer

pytestmark = pytest.mark.integration

TIMEOUT = 60.0  # a request that takes longer is a hang (a real answer on the corpus takes well under a second)
FUZZ = settings(max_examples=30, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Leaves: what a JSON parser yields, with the awkward ones over-represented (huge/negative numbers, NaN-free floats,
# unicode of every plane, NUL, right-to-left text, lone surrogates excluded: JSON encoders refuse them).
TEXT = st.one_of(st.text(max_size=60), st.sampled_from(["", " ", "\x00", "\u202e", "؟", "𝔘𝔫𝔦", "a" * 5000,
                                                         EN_Q, "null", "[1]", "<script>", "../../etc/passwd"]))
NUMBER = st.one_of(st.integers(), st.sampled_from([0, -1, 2**31, -2**63, 10**30, 51, 50, 1]),
                   st.floats(allow_nan=False, allow_infinity=False))
LEAF = st.one_of(st.none(), st.booleans(), NUMBER, TEXT)
JSON = st.recursive(LEAF, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                  st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)


def mutated(valid: dict, keys: list[str]) -> st.SearchStrategy[dict]:
    """A valid body with some of its fields (and of the door's other fields) replaced by anything, or removed."""
    return st.fixed_dictionaries({}, optional={k: JSON for k in keys}).map(lambda extra: {**valid, **extra}) | \
        st.dictionaries(st.sampled_from(keys), JSON, max_size=len(keys))


ASK_KEYS = ["question", "k", "sources", "answerer", "history", "quotes_only", "colour"]
CHAT_KEYS = ["model", "messages", "stream", "k", "sources", "answerer", "quotes_only"]
MESSAGE = st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system", "tool", "robot"]) | JSON,
                                 "content": TEXT | JSON})
CHAT = st.one_of(
    mutated({"model": "verbatim", "messages": [{"role": "user", "content": EN_Q}]}, CHAT_KEYS),
    st.fixed_dictionaries({"model": st.just("verbatim") | TEXT, "messages": st.lists(MESSAGE, max_size=3)},
                          optional={"k": JSON, "stream": st.booleans() | JSON, "sources": JSON}),
    JSON,
)


@pytest.fixture(scope="module")
def url(corpus_home, tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz") / "home"
    shutil.copytree(corpus_home, home)
    with BackgroundServer(create_app(Settings(home=home, embedder="e5"), ui=False)) as base:
        yield base


def body_of(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def one_line(message) -> bool:
    return isinstance(message, str) and message.strip() != "" and "\n" not in message and "Traceback" not in message


def check(r: httpx.Response, openai: bool = False) -> None:
    """No 500; an error status carries one line saying why, in the door's shape."""
    assert r.status_code < 500, (r.status_code, r.text[:500])
    if r.status_code >= 400:
        error = r.json()["error"]
        assert one_line(error["message"] if openai else error), r.text[:500]


def post(url: str, path: str, payload, raw: bytes | None = None) -> httpx.Response:
    content = raw if raw is not None else body_of(payload)
    return httpx.post(url + path, content=content, headers={"content-type": "application/json"}, timeout=TIMEOUT)


@FUZZ
@given(payload=mutated({"question": EN_Q}, ASK_KEYS) | JSON)
def test_api_ask_fuzz(url, payload):
    check(post(url, "/api/ask", payload))


@FUZZ
@given(payload=mutated({"question": EN_Q}, ASK_KEYS))
def test_api_ask_stream_fuzz(url, payload):
    with httpx.stream("POST", url + "/api/ask/stream", content=body_of(payload),
                      headers={"content-type": "application/json"}, timeout=TIMEOUT) as r:
        r.read()
    check(r)
    if r.status_code == 200:  # a stream that started ends with the answer (or one error event), never mid-air
        events = [json.loads(line) for line in r.text.splitlines() if line]
        assert events and events[-1]["type"] in {"answer", "error"} and events[-1]["type"] != "error", events[-1]


@FUZZ
@given(payload=CHAT)
def test_openai_chat_fuzz(url, payload):
    r = post(url, "/v1/chat/completions", payload)
    check(r, openai=True)
    if r.status_code == 200 and isinstance(payload, dict) and payload.get("stream") is True:
        assert r.text.rstrip().endswith("data: [DONE]")


@FUZZ
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_unparseable_bodies(url, raw):
    check(post(url, "/api/ask", None, raw))
    check(post(url, "/v1/chat/completions", None, raw), openai=True)


@FUZZ
@given(doc=TEXT.filter(lambda s: s not in {"", ".", ".."}), n=st.integers() | TEXT,
       start=NUMBER | st.none(), end=NUMBER | st.none())
def test_page_image_and_delete_fuzz(url, doc, n, start, end):
    params = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    doc, page = quote(doc, safe=""), quote(str(n), safe="")  # any text, percent-encoded as a client sends it
    check(httpx.get(f"{url}/api/sources/{doc}/pages/{page}.png", params=params, timeout=TIMEOUT))
    check(httpx.delete(f"{url}/api/sources/{doc}", timeout=TIMEOUT))


def mcp_call(url: str, name: str, arguments) -> httpx.Response:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    return httpx.post(url + "/mcp", content=body_of(message), timeout=TIMEOUT,
                      headers={"content-type": "application/json", "accept": "application/json, text/event-stream"})


@FUZZ
@given(name=st.sampled_from(["ask", "search", "sources", "nope"]),
       arguments=mutated({"question": EN_Q, "query": EN_Q}, ["question", "query", "k", "sources", "history",
                                                            "quotes_only"]) | JSON)
def test_mcp_tools_fuzz(url, name, arguments):
    r = mcp_call(url, name, arguments)
    assert r.status_code < 500, (r.status_code, r.text[:500])
    if r.status_code != 200:
        return
    reply = r.json()
    if "error" in reply:  # a JSON-RPC error (malformed params): one line
        assert one_line(reply["error"]["message"]), reply
        return
    result = reply["result"]
    if result.get("isError"):  # a tool error: one line naming the problem, never the SDK's hidden exception
        text = result["content"][0]["text"]
        assert one_line(text), text


def test_mcp_answers_a_plain_call(url):
    """The fuzz's MCP requests reach the tools (not all refused at the transport)."""
    reply = mcp_call(url, "ask", {"question": EN_Q, "k": 3}).json()
    assert reply["result"]["structuredContent"]["citations"], reply
    bad = mcp_call(url, "ask", {"k": -1}).json()["result"]  # the fuzz's find: pydantic's multi-line report
    assert bad["isError"] and bad["content"][0]["text"] == (
        "Error executing tool ask: invalid arguments: question: Field required; "
        "k: Input should be greater than or equal to 1")
    long = mcp_call(url, "ask", {"question": EN_Q, "history": ["x" * 4001]}).json()["result"]
    assert long["isError"] and "history.0: String should have at most 4000 characters" in long["content"][0]["text"]

"""Collections and who may read them, over real HTTP on 127.0.0.1 with the real clients (httpx, ``openai``,
``mcp``, ``gradio_client``): two collections answer the same question each from its own documents, and a token
that may read collection A gets nothing of collection B by any route: no text, title, file name, page image,
search hit, citation or count. Also: an index made before collections opens as the default collection and answers
as before; a briefing records its collection and ``verify`` reads it there; the tokens file is read again when it
changes, without a restart."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import anyio
import httpx
import pytest
from conftest import MINILM
from pdfs import chromium_pdf

from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.settings import Settings
from verbatim_qa.ui.access import Access, Logins
from verbatim_qa.ui.api import create_app
from verbatim_qa.ui.pages import page_url
from verbatim_qa.ui.server import BackgroundServer
from verbatim_qa.ui.service import Service
from verbatim_qa.vectorstore.store import Store

pytestmark = pytest.mark.integration

ADMIN = "admin-token-0123456789"
ALICE = "alice-token-0123456789"  # may read alpha
BOB = "bob-token-0123456789ab"  # may write beta
QUESTION = "Where is the project's head office?"
SPICE = "Which office is above the spice market?"  # its evidence is in beta only
STAGES = "Where are the stages of the rocket welded?"  # its evidence is split: one stage in alpha, one in beta
# What of beta must never reach alice (the file names, text only beta holds; doc ids are added by the fixture).
BETA_MARKS = ["Zanzibar", "beta-ledger", "beta-plans", "Kilimanjaro", "ledger"]


def tokens_toml(alice_rights: str = 'alpha = "read"') -> str:
    return (f'[[token]]\nholder = "alice"\ntoken = "{ALICE}"\ncollections = {{ {alice_rights} }}\n\n'
            f'[[token]]\nholder = "bob"\ntoken = "{BOB}"\ncollections = {{ beta = "write" }}\n')


def write_tokens(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, "utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a new modification time even within the clock's tick


@pytest.fixture(scope="module")
def team(tmp_path_factory, minilm):
    with served_team(tmp_path_factory.mktemp("team"), minilm) as served:
        yield served


@contextmanager
def served_team(folder: Path, minilm, chroma_url: str = "") -> Iterator[SimpleNamespace]:
    """Collections alpha and beta with their documents, served over HTTP with the tokens file: in an embedded home
    under ``folder``, or on the Chroma server at ``chroma_url`` (tests/test_server_mode.py runs the access cases
    there)."""
    docs = folder / "docs"
    (docs / "alpha").mkdir(parents=True)
    (docs / "beta").mkdir()
    (docs / "alpha" / "alpha-handbook.txt").write_text(
        "Alpha handbook.\n\nThe project's head office is in Oslo, next to the harbour. "
        "The Oslo team has twelve engineers.\n\nThe first stage of the rocket is welded in Oslo.\n", "utf-8")
    (docs / "beta" / "beta-ledger.txt").write_text(
        "Beta ledger.\n\nThe project's head office is in Zanzibar, above the spice market. "
        "The Zanzibar team keeps the ledger.\n\nThe second stage of the rocket is welded in Zanzibar.\n", "utf-8")
    (folder / "print").mkdir()
    pdf = chromium_pdf("<h1>Beta plans</h1><p>The launch code of the beta rocket is Kilimanjaro.</p>",
                       folder / "print" / "beta-plans.pdf")  # beside its HTML source, which is not ingested
    tokens = folder / "tokens.toml"
    write_tokens(tokens, tokens_toml())
    # MiniLM scores lower than e5: no refusal threshold, so each collection answers from its own text
    settings = Settings(home=folder / "home", embedder=MINILM, collection="alpha", token=ADMIN,
                        tokens_file=str(tokens), refusal_threshold=0.0, chroma_url=chroma_url)
    alpha = Store(settings, embedder=minilm)
    assert ingest_paths(alpha, [docs / "alpha"]).added == 1
    beta = alpha.sibling("beta")
    assert ingest_paths(beta, [docs / "beta", pdf]).added == 2
    beta_ids = {r.source: r.doc_id for r in beta.documents()}
    app = create_app(settings, service=Service(settings, store=alpha, warm=False))
    with BackgroundServer(app) as url:
        yield SimpleNamespace(url=url, settings=settings, tokens=tokens, beta_ids=beta_ids, alpha=alpha, beta=beta,
                              marks=BETA_MARKS + list(beta_ids.values()))


def client(team, token: str) -> httpx.Client:
    return httpx.Client(base_url=team.url, headers={"Authorization": f"Bearer {token}"}, timeout=120)


def nothing_of_beta(team, text: str) -> None:
    leaked = [m for m in team.marks if m.lower() in text.lower()]
    assert not leaked, f"beta leaked to alice: {leaked} in {text[:300]}"


def test_two_collections_answer_the_same_question_each_from_its_own_documents(team):
    with client(team, ADMIN) as admin:
        a = admin.post("/api/ask", json={"question": QUESTION}).json()
        b = admin.post("/api/ask", json={"question": QUESTION, "collection": "beta"}).json()
        listed = admin.get("/api/collections").json()
    assert "Oslo" in a["answer"] and {c["source"] for c in a["citations"]} == {"alpha-handbook.txt"}
    assert "Zanzibar" in b["answer"] and {c["source"] for c in b["citations"]} == {"beta-ledger.txt"}
    texts = {"alpha-handbook.txt": team.alpha, "beta-ledger.txt": team.beta}
    for answer in (a, b):
        for c in answer["citations"]:
            store = texts[c["source"]]
            doc = next(r for r in store.documents() if r.source == c["source"])
            assert store.document_text(doc.doc_id)[c["char_start"]:c["char_end"]] == c["quote"]
    assert listed == [{"name": "alpha", "documents": 1, "default": True},
                      {"name": "beta", "documents": 2, "default": False}]


def test_the_api_gives_a_reader_of_alpha_nothing_of_beta(team):
    pdf = team.beta_ids["beta-plans.pdf"]
    ledger = team.beta_ids["beta-ledger.txt"]
    with client(team, ALICE) as alice:
        own = alice.post("/api/ask", json={"question": SPICE})  # the default collection: alpha
        assert own.status_code == 200
        nothing_of_beta(team, own.text)
        refused = {
            "ask": alice.post("/api/ask", json={"question": SPICE, "collection": "beta"}),
            "stream": alice.post("/api/ask/stream", json={"question": SPICE, "collection": "beta"}),
            "sources": alice.get("/api/sources", params={"collection": "beta"}),
            "page": alice.get(f"/api/sources/{pdf}/pages/1.png", params={"collection": "beta"}),
            "delete": alice.delete(f"/api/sources/{ledger}", params={"collection": "beta"}),
            "upload": alice.post("/api/ingest", params={"collection": "beta"},
                                 files={"file": ("x.txt", b"text", "text/plain")}),
        }
        for route, r in refused.items():
            assert r.status_code == 404, route
            assert r.json() == {"error": "no collection 'beta' readable with this token"}, route
        # the same reply as for a collection that does not exist: not even beta's existence is told
        assert alice.get("/api/sources", params={"collection": "gamma"}).json() == {
            "error": "no collection 'gamma' readable with this token"}
        assert alice.get("/api/collections").json() == [{"name": "alpha", "documents": 1, "default": True}]
        listing = alice.get("/api/sources")
        assert [d["source"] for d in listing.json()] == ["alpha-handbook.txt"]
        # beta's page image named without its collection is looked up in alpha: no such document
        assert alice.get(f"/api/sources/{pdf}/pages/1.png").status_code == 404
        # a reader may not write its own collection
        up = alice.post("/api/ingest", params={"collection": "alpha"}, files={"file": ("x.txt", b"t", "text/plain")})
        assert up.status_code == 403
        for r in (*refused.values(), listing, up):
            nothing_of_beta(team, r.text)
    assert {r.source for r in team.beta.documents()} == {"beta-ledger.txt", "beta-plans.pdf"}  # nothing deleted


def test_one_question_of_two_collections_answers_from_both(team):
    """Asked of alpha and beta at once, a question whose evidence is split (one stage welded in each) is answered
    from both; each citation names its collection and is the exact text there; the order the collections are named
    in changes nothing."""
    with client(team, ADMIN) as admin:
        both = admin.post("/api/ask", json={"question": STAGES, "collections": ["beta", "alpha"]}).json()
        same = admin.post("/api/ask", json={"question": STAGES, "collection": "alpha", "collections": ["beta"]})
        stream = admin.post("/api/ask/stream", json={"question": STAGES, "collections": ["alpha", "beta"]})
        alone = admin.post("/api/ask", json={"question": STAGES, "collection": "alpha"}).json()
    assert "Oslo" in both["answer"] and "Zanzibar" in both["answer"]
    assert {(c["collection"], c["source"]) for c in both["citations"]} == {
        ("alpha", "alpha-handbook.txt"), ("beta", "beta-ledger.txt")}
    stores = {"alpha": team.alpha, "beta": team.beta}
    for c in both["citations"]:
        assert stores[c["collection"]].document_text(c["doc_id"])[c["char_start"]:c["char_end"]] == c["quote"]
    assert {r["collection"] for r in both["retrieved"]} == {"alpha", "beta"}
    assert same.json() == both
    events = [json.loads(line) for line in stream.text.splitlines()]
    assert events[-1]["answer"] == both and {r["collection"] for r in events[0]["retrieved"]} == {"alpha", "beta"}
    assert "Zanzibar" not in alone["answer"] and all("collection" not in c for c in alone["citations"])


def test_a_reader_of_alpha_asking_alpha_and_beta_gets_nothing_of_either(team):
    with client(team, ALICE) as alice:
        replies = [alice.post("/api/ask", json={"question": STAGES, "collections": ["alpha", "beta"]}),
                   alice.post("/api/ask/stream", json={"question": STAGES, "collection": "alpha",
                                                       "collections": ["beta"]}),
                   alice.post("/api/ask", json={"question": STAGES, "collections": ["alpha", "gamma"]})]
    assert [r.status_code for r in replies] == [404, 404, 404]
    assert [r.json()["error"] for r in replies] == ["no collection 'beta' readable with this token"] * 2 + [
        "no collection 'gamma' readable with this token"]
    for r in replies:
        nothing_of_beta(team, r.text)
        assert "Oslo" not in r.text  # not even alpha's part of the answer


def test_ask_of_two_collections_on_the_command_line_and_verify_reads_each_quote_where_it_is(team, tmp_path):
    from verbatim_qa.ui.claims import read_claims
    from verbatim_qa.ui.verify import IndexSources, verify

    ran = cli(team, "ask", STAGES, "--json", "--collection", "beta", "--collection", "alpha",
              VERBATIM_REFUSAL_THRESHOLD="0")
    assert ran.exit_code == 0, ran.output
    answer = json.loads(ran.stdout)
    assert {(c["collection"], c["source"]) for c in answer["citations"]} == {
        ("alpha", "alpha-handbook.txt"), ("beta", "beta-ledger.txt")}
    assert {p["collection"] for p in answer["provenance"]} == {"alpha", "beta"}
    out = tmp_path / "both.json"
    out.write_text(ran.stdout, "utf-8")
    claims = read_claims(out)
    alpha = Store(team.settings, read_only=True)
    opened = lambda name: Store(team.settings.with_(collection=name), read_only=True)  # noqa: E731
    assert [r.status for r in verify(claims, IndexSources(alpha, opened))] == ["ok", "ok"]
    pinned = verify(claims, IndexSources(alpha, opened, pinned=True))  # all read in alpha: beta's quote is not there
    assert sorted(r.status for r in pinned) == ["ok", "source missing"]
    lone = cli(team, "ask", STAGES, "--collection", "beta", "--collection", "gamma")
    assert lone.exit_code == 2 and "no collection 'gamma'" in lone.stderr


def test_page_images_of_beta_need_beta(team):
    pdf = team.beta_ids["beta-plans.pdf"]
    with client(team, ADMIN) as admin:
        png = admin.get(f"/api/sources/{pdf}/pages/1.png", params={"collection": "beta"})
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    # the chat's signed link (no bearer) names its collection; changing the collection breaks the signature
    key = team.settings.deployment.token
    link = page_url(pdf, 1, token=key, collection="beta")
    assert httpx.get(team.url + link).content == png.content
    assert httpx.get(team.url + link.replace("collection=beta", "collection=alpha")).status_code == 401


def test_a_writer_of_beta_writes_beta_only(team):
    with client(team, BOB) as bob:
        added = bob.post("/api/ingest", params={"collection": "beta"},
                         files={"file": ("beta-memo.txt", b"Beta memo: the ledger moved.\n", "text/plain")})
        assert added.status_code == 200 and added.json()["added"] == 1
        assert bob.post("/api/ingest", params={"collection": "alpha"},
                        files={"file": ("x.txt", b"t", "text/plain")}).status_code == 404
        new = bob.post("/api/ingest", params={"collection": "gamma"}, files={"file": ("x.txt", b"t", "text/plain")})
        assert new.status_code == 404  # a collection bob may not read, existing or not
        doc = added.json()["document"]["id"]
        assert bob.delete(f"/api/sources/{doc}", params={"collection": "beta"}).status_code == 200
    assert "beta-memo.txt" not in {r.source for r in team.beta.documents()}
    # beta's upload is kept apart from alpha's uploads
    assert not (team.settings.uploads_dir / "beta-memo.txt").exists()


def test_openai_models_and_answers_are_per_collection(team):
    from openai import NotFoundError, OpenAI

    def openai(token):
        return OpenAI(base_url=team.url + "/v1", api_key=token, max_retries=0, timeout=120)

    # every collection of the home or server (a Chroma server may hold others' too), the default one as "verbatim"
    every = ["verbatim" if name == "alpha" else f"verbatim:{name}" for name in team.alpha.collections()]
    assert "verbatim:beta" in every and [m.id for m in openai(ADMIN).models.list()] == every
    beta = openai(ADMIN).chat.completions.create(model="verbatim:beta",
                                                 messages=[{"role": "user", "content": QUESTION}])
    assert "Zanzibar" in beta.choices[0].message.content and beta.model == "verbatim:beta"
    alice = openai(ALICE)
    assert [m.id for m in alice.models.list()] == ["verbatim"]
    with pytest.raises(NotFoundError) as refused:
        alice.chat.completions.create(model="verbatim:beta", messages=[{"role": "user", "content": SPICE}])
    nothing_of_beta(team, str(refused.value))
    own = alice.chat.completions.create(model="verbatim", messages=[{"role": "user", "content": SPICE}])
    nothing_of_beta(team, own.model_dump_json())
    # several collections in one model id: all readable, or the same "does not exist"
    both = openai(ADMIN).chat.completions.create(model="verbatim:beta+alpha",
                                                 messages=[{"role": "user", "content": STAGES}])
    assert both.model == "verbatim:beta+alpha"
    content = both.choices[0].message.content
    assert "Oslo" in content and "Zanzibar" in content and "(beta: beta-ledger.txt" in content
    assert {c["collection"] for c in both.model_extra["citations"]} == {"alpha", "beta"}
    with pytest.raises(NotFoundError) as refused:
        alice.chat.completions.create(model="verbatim:alpha+beta", messages=[{"role": "user", "content": STAGES}])
    nothing_of_beta(team, str(refused.value))


def test_mcp_gives_a_reader_of_alpha_nothing_of_beta(team):
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def session(token: str) -> dict:
        import httpx2

        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
        async with Client(streamable_http_client(team.url + "/mcp", http_client=http),
                          read_timeout_seconds=180) as c:
            return {
                "collections": await c.call_tool("collections", {}),
                "sources": await c.call_tool("sources", {"collection": "beta"}),
                "ask": await c.call_tool("ask", {"question": SPICE, "collection": "beta"}),
                "search": await c.call_tool("search", {"query": SPICE, "collection": "beta"}),
                "own_search": await c.call_tool("search", {"query": SPICE, "k": 5}),
                "own_ask": await c.call_tool("ask", {"question": SPICE}),
                "both_ask": await c.call_tool("ask", {"question": STAGES, "collections": ["alpha", "beta"]}),
                "both_search": await c.call_tool("search", {"query": STAGES, "collection": "beta",
                                                            "collections": ["alpha"]}),
            }

    alice = anyio.run(session, ALICE)
    assert [c["name"] for c in alice["collections"].structured_content["collections"]] == ["alpha"]
    for tool in ("sources", "ask", "search", "both_ask", "both_search"):
        assert alice[tool].is_error and "no collection 'beta' readable" in alice[tool].content[0].text, tool
    for result in alice.values():
        nothing_of_beta(team, json.dumps([c.model_dump() for c in result.content]) +
                        json.dumps(result.structured_content or {}))
    admin = anyio.run(session, ADMIN)
    assert {d["source"] for d in admin["sources"].structured_content["documents"]} == set(team.beta_ids)
    assert "Zanzibar" in admin["ask"].structured_content["answer"]
    both = admin["both_ask"].structured_content
    assert {(c["collection"], c["source"]) for c in both["citations"]} == {
        ("alpha", "alpha-handbook.txt"), ("beta", "beta-ledger.txt")}
    assert {p["collection"] for p in admin["both_search"].structured_content["passages"]} == {"alpha", "beta"}


def test_the_chat_acts_as_the_signed_in_holder(team, monkeypatch):
    from gradio_client import Client

    monkeypatch.setenv("GRADIO_HEARTBEAT_INTERVAL", "0.5")
    with pytest.raises(ValueError):  # alice's token under another holder's name does not sign in
        Client(team.url + "/", auth=("bob", ALICE), verbose=False)
    chat = Client(team.url + "/", auth=("alice", ALICE), verbose=False)
    try:
        refused = chat.predict(SPICE, 3, [], "extractive", "beta", api_name="/ask")[0]
        own = chat.predict(SPICE, 3, [], "extractive", None, api_name="/ask")[0]
    finally:
        chat.close()
    assert "no collection &#x27;beta&#x27; readable" in refused or "no collection 'beta' readable" in refused
    nothing_of_beta(team, refused + own)
    admin = Client(team.url + "/", auth=("anyone", ADMIN), verbose=False)
    try:
        page = admin.predict(QUESTION, 3, [], "extractive", "beta", api_name="/ask")[0]
    finally:
        admin.close()
    assert "Zanzibar" in page


def test_logins_map_to_the_tokens(tmp_path):
    path = tmp_path / "tokens.toml"
    write_tokens(path, tokens_toml())
    logins = Logins(Access(ADMIN, path))
    assert logins.login("alice", ALICE) and not logins.login("bob", ALICE) and not logins.login("alice", "x" * 20)
    assert not logins.login("alice", ADMIN)  # the server token cannot take a holder's name
    assert logins.login("root", ADMIN) and logins.grant("root").allows("beta", "admin")
    assert logins.grant("alice").allows("alpha", "read") and not logins.grant("alice").allows("beta", "read")
    assert not logins.grant("mallory").rights
    write_tokens(path, tokens_toml().split("[[token]]\nholder = \"bob\"")[0].replace("alice", "carol"))
    assert not logins.grant("alice").rights  # removed from the file: a live session gets nothing


def test_a_briefing_records_its_collection_and_verify_reads_it_there(team, tmp_path):
    from verbatim_qa.qa.chain import build_answerer
    from verbatim_qa.ui import briefing
    from verbatim_qa.ui.claims import read_claims
    from verbatim_qa.ui.provenance import Origins
    from verbatim_qa.ui.verify import IndexSources, verify

    bot = build_answerer(team.beta.settings, team.beta, "extractive")
    b = briefing.build([bot.answer(QUESTION)], "Beta", None, Origins(team.beta))
    out = tmp_path / "beta.md"
    briefing.write(b, out)
    assert "· collection beta" in out.read_text("utf-8")
    claims = read_claims(out)
    assert claims and {c.record.collection for c in claims} == {"beta"}
    alpha = Store(team.settings, read_only=True)
    opened = lambda name: Store(team.settings.with_(collection=name), read_only=True)  # noqa: E731
    assert {r.status for r in verify(claims, IndexSources(alpha, opened))} == {"ok"}
    pinned = verify(claims, IndexSources(alpha, opened, pinned=True))  # `verify --collection alpha`
    assert {r.status for r in pinned} == {"source missing"}


def test_the_tokens_file_is_read_again_when_it_changes(team):
    with client(team, ALICE) as alice:
        assert alice.get("/api/sources", params={"collection": "beta"}).status_code == 404
        write_tokens(team.tokens, tokens_toml('alpha = "read", beta = "read"'))
        assert {d["source"] for d in alice.get("/api/sources", params={"collection": "beta"}).json()} == set(
            team.beta_ids)
        write_tokens(team.tokens, "not toml [")  # broken: its tokens are refused until it is mended
        assert alice.get("/api/collections").status_code == 401
        write_tokens(team.tokens, tokens_toml())
        assert alice.get("/api/sources", params={"collection": "beta"}).status_code == 404
    with client(team, ADMIN) as admin:  # the server token works whatever the file holds
        assert admin.get("/api/collections").status_code == 200


def cli(team, *args: str, **env: str):
    """``verbatim ARGS`` run in this process (typer's runner) on the team's home or server, with no VERBATIM_* of
    the caller's environment but ``env``."""
    from typer.testing import CliRunner

    from verbatim_qa.cli import app

    full: dict = {k: None for k in os.environ if k.startswith("VERBATIM_")}
    full.update(VERBATIM_HOME=str(team.settings.deployment.home), VERBATIM_EMBEDDER=MINILM,
                VERBATIM_CHROMA_URL=team.settings.deployment.chroma_url, **env)
    result = CliRunner().invoke(app, list(args), env=full)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_the_command_line_names_collections(team):
    """``verbatim collections`` lists them with their documents; ``--collection`` picks one; a bad name is a usage
    error in one line (exit 2)."""
    listed = cli(team, "collections", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert json.loads(listed.stdout) == [{"name": "alpha", "documents": 1, "default": False},
                                         {"name": "beta", "documents": 2, "default": False}]
    beta = cli(team, "sources", "--json", "--collection", "beta")
    assert {d["source"] for d in json.loads(beta.stdout)} == set(team.beta_ids)
    bad = cli(team, "sources", "--collection", "no/such")
    assert bad.exit_code == 2 and "VERBATIM_COLLECTION" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_an_index_made_before_collections_answers_as_before(tmp_path, minilm):
    """A home made without naming a collection opens as the default one; its answers through the service are the
    ones the answerer gives on the store directly, and the CLI's listing names it."""
    from verbatim_qa.qa.chain import build_answerer

    settings = Settings(home=tmp_path / "home", embedder=MINILM, refusal_threshold=0.0)
    note = tmp_path / "note.txt"
    note.write_text("The project's head office is in Oslo, next to the harbour.\n", "utf-8")
    store = Store(settings, embedder=minilm)
    assert ingest_paths(store, [note]).added == 1
    direct = build_answerer(settings, store, "extractive").answer(QUESTION).to_dict()
    service = Service(settings, store=store, warm=False)
    assert service.ask(QUESTION).to_dict() == direct
    assert store.collections() == {"verbatim": 1}
    assert [c.name for c in store.client.list_collections()] and all(
        c.name.startswith("verbatim_") for c in store.client.list_collections())

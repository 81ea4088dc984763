"""Shared fixtures: real Chroma in temp dirs, real bundled models, the real corpus; and the guard that keeps
``pytest -m "not integration"`` honest: a test that loads or runs a bundled model without the ``integration``
mark fails, naming itself."""

from __future__ import annotations

import ast
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from verbatim_qa.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
MINILM = "st:all-MiniLM-L6-v2"  # English-only, fast: for store mechanics
E5 = "e5"  # the default multilingual embedder: for retrieval and answers
INTEGRATION = "integration"  # the mark of a test that needs a model, a server, a browser, Tesseract or a wheel

_running: list[pytest.Item] = []  # the test whose setup, call or teardown is under way
_unmarked_model_use: dict[str, str] = {}  # nodeid -> the refusal, for the report


def _refuse_outside_integration(what: str) -> None:
    item = _running[-1] if _running else None
    if item is None or item.get_closest_marker(INTEGRATION) is not None:
        return
    message = f"{item.nodeid} runs a bundled model ({what}) but is not marked {INTEGRATION}: mark it so"
    _unmarked_model_use.setdefault(item.nodeid, message)
    pytest.fail(message, pytrace=False)  # a BaseException: no `except Exception` in the code under test hides it


def _guarded(cls: type, name: str):
    original = getattr(cls, name)

    def guarded(self, *args, **kwargs):
        _refuse_outside_integration(f"{cls.__name__}.{name}")
        return original(self, *args, **kwargs)

    return guarded


@pytest.fixture(scope="session", autouse=True)
def model_guard():
    """Loading a model, and encoding with one (an instance cached by an earlier integration test included), is
    refused outside integration tests. Session-scoped and autouse: in place before any other fixture."""
    from verbatim_qa.vectorstore.embeddings import E5Embeddings, STEmbeddings

    with pytest.MonkeyPatch.context() as mp:
        for cls in (E5Embeddings, STEmbeddings):
            for name in ("__init__", "_encode_batch"):
                mp.setattr(cls, name, _guarded(cls, name))
        yield


def integration_selected(request) -> bool:
    """Whether the tests selected in this module include integration ones: a module-scoped fixture only they need
    (torch's thread count) is skipped in a unit run instead of importing torch."""
    return any(item.module is request.module and item.get_closest_marker(INTEGRATION) is not None
               for item in request.session.items)


def pytest_ignore_collect(collection_path, config):
    """A unit run (exactly ``-m "not integration"``) does not import the modules marked integration as a whole: their
    tests would all be deselected, and importing them (the OpenAI SDK, Playwright, the LLM stack) was a third of
    the unit run's collection time."""
    if config.getoption("markexpr", "").replace(" ", "") != f"not{INTEGRATION}":
        return None
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    return True if _marked_as_a_whole(collection_path) else None


def _marked_as_a_whole(path: Path) -> bool:
    """``pytestmark = pytest.mark.integration`` (or a list holding it) at the module's top level."""
    for node in ast.parse(path.read_bytes()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytestmark" for t in node.targets):
            return f"mark.{INTEGRATION}" in ast.unparse(node.value)
    return False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _running.append(item)
    try:
        yield
    finally:
        _running.pop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A refusal the code under test swallowed (e.g. raised in a server thread) still fails the test."""
    outcome = yield
    report = outcome.get_result()
    message = _unmarked_model_use.get(item.nodeid)
    if message and report.passed and call.when == "call":
        report.outcome, report.longrepr = "failed", message


@pytest.fixture
def make_settings(tmp_path):
    """Settings with a fresh VERBATIM_HOME under tmp_path."""

    def make(embedder: str = MINILM, **kw) -> Settings:
        return Settings(home=tmp_path / "home", embedder=embedder, **kw)

    return make


def _ingest_corpus(home: Path) -> None:
    from verbatim_qa.ingest.pipeline import ingest_paths
    from verbatim_qa.qa.retriever import HybridRetriever
    from verbatim_qa.vectorstore.store import Store

    store = Store(Settings(home=home, embedder=E5))
    report = ingest_paths(store, [CORPUS])
    assert report.added == 2 and not report.failed
    HybridRetriever.from_store(store)  # builds the BM25 index and term vectors under home/cache: copies reuse them


@pytest.fixture(scope="session")
def corpus_home(tmp_path_factory) -> Path:
    """The bundled corpus ingested once with e5 (the expensive step); tests copy or read it.

    Under pytest-xdist (``make test`` runs two workers) the first worker to need it ingests it into the run's
    shared temp folder, under a file lock, and every worker reads its own copy: one ingest per run, and no two
    processes opening one Chroma folder."""
    home = tmp_path_factory.mktemp("corpus-home")
    if "PYTEST_XDIST_WORKER" not in os.environ:  # a plain pytest run
        _ingest_corpus(home)
        return home
    from filelock import FileLock

    shared_root = tmp_path_factory.getbasetemp().parent  # one per run, above every worker's own
    shared, done = shared_root / "corpus-home", shared_root / "corpus-home.done"
    with FileLock(str(shared_root / "corpus-home.lock")):
        if not done.exists():
            _ingest_corpus(shared)
            done.touch()
    shutil.rmtree(home)
    shutil.copytree(shared, home)
    return home


@pytest.fixture(scope="session")
def corpus_store(corpus_home):
    from verbatim_qa.vectorstore.store import Store

    return Store(Settings(home=corpus_home, embedder=E5))


@pytest.fixture(scope="module")
def bot(corpus_store):
    """The extractive answerer over the ingested corpus (no LLM)."""
    from verbatim_qa.qa.chain import build_answerer
    from verbatim_qa.qa.extractive import ExtractiveAnswerer

    answerer = build_answerer(corpus_store.settings.with_(llm_base_url=""), corpus_store, "extractive")
    assert isinstance(answerer, ExtractiveAnswerer)
    return answerer


@pytest.fixture
def corpus_copy(corpus_home, tmp_path) -> Path:
    """A private copy of the ingested corpus home, for tests that write."""
    dest = tmp_path / "home"
    shutil.copytree(corpus_home, dest)
    return dest


@pytest.fixture(scope="module")
def minilm():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 cores: torch threads fight Chroma's
    from verbatim_qa.vectorstore.embedder import get_embedder

    yield get_embedder(MINILM)
    torch.set_num_threads(before)

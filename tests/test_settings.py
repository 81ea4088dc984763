"""Settings are validated in one place and a bad value is one line naming its variable; the shared types
round-trip through their own to_dict/from_dict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from verbatim_qa.settings import E5_MODEL, Settings, embedder_identity, embedder_urls
from verbatim_qa.types import Chunk, Citation, DocRecord, Document, ScoredChunk, Sentence

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("var, value, words", [
    ("VERBATIM_FUSION", "borda", "unknown fusion 'borda'"),
    ("VERBATIM_EMBEDDER", "openai", "unknown embedder 'openai'"),
    ("VERBATIM_ANSWERER", "gpt", "unknown answerer 'gpt'"),
    ("VERBATIM_TOP_K", "0", "out of range"),
    ("VERBATIM_TOP_K", "many", "invalid literal"),
    ("VERBATIM_MMR_LAMBDA", "1.5", "between 0 and 1"),
    ("VERBATIM_USE_BM25", "perhaps", "expected a boolean"),
    ("VERBATIM_CHROMA_URL", "localhost:8000", "not an http"),
    ("VERBATIM_EMBEDDER", "e5@gpu1:8001/v1", "'gpu1:8001/v1' is not an http"),
    ("VERBATIM_EMBEDDER", "openai:http://gpu1:8001/v1", "names no model"),
    ("VERBATIM_EMBEDDER_PREFIX", "passage", "unknown embedder_prefix 'passage'"),
    ("VERBATIM_EMBEDDER_TIMEOUT", "0", "must be positive"),
])
def test_a_bad_setting_is_one_line_naming_its_variable(var, value, words, monkeypatch):
    monkeypatch.setenv(var, value)
    with pytest.raises(ValueError) as info:
        Settings.from_env()
    message = str(info.value)
    assert message.startswith(f"{var}: ") and words in message and "\n" not in message


def test_the_command_exits_2_with_that_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "VERBATIM_HOME": str(tmp_path), "VERBATIM_FUSION": "borda"}
    done = subprocess.run([sys.executable, "-c", "from cli import main; main()", "sources"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["configuration error: VERBATIM_FUSION: unknown fusion 'borda': use "
                                                "score or rrf"]


def test_remote_embedders_are_named_by_model_not_address():
    assert embedder_identity("e5@http://a:1/v1,https://b/v1") == embedder_identity("e5") == ("e5", E5_MODEL)
    assert embedder_identity("openai:http://a:1/v1#bge-m3") == ("openai:bge-m3", "bge-m3")
    assert embedder_urls("openai:http://a:1/v1/, https://b/v1#bge-m3") == ("http://a:1/v1", "https://b/v1")
    assert embedder_urls("e5") == () and embedder_identity("st:minilm") == ("st:minilm", "minilm")


def test_answerer_resolution():
    assert Settings().resolve_answerer() == "extractive"
    assert Settings(llm_base_url="http://127.0.0.1:1/v1").resolve_answerer("auto") == "llm"
    with pytest.raises(ValueError, match="needs VERBATIM_LLM_BASE_URL"):
        Settings().resolve_answerer("llm")


def test_types_round_trip():
    s1, s2 = Sentence(0, 5, "Hello"), Sentence(6, 11, "world")
    chunk = Chunk("c1", "d1", "a.md", "A", "Intro", 2, 0, 11, "Hello world", "en", (s1, s2), "sha")
    assert Chunk.from_dict(json.loads(json.dumps(chunk.to_dict()))) == chunk
    doc = Document("d1", "a.md", "/x/a.md", "A", "Hello world", ("en", "fa"), "sha", ((0, 11, 1),))
    assert Document.from_dict(json.loads(json.dumps(doc.to_dict()))) == doc
    cit = Citation(1, "a.md", "A", None, None, "Hello", 0, 5)
    assert Citation.from_dict({**cit.to_dict(), "extra": 1}) == cit
    assert ScoredChunk(chunk, 0.1234567).to_dict() == {"source": "a.md", "section": "Intro", "char_start": 0,
                                                       "char_end": 11, "text": "Hello world", "score": 0.123457}
    row = DocRecord("d1", "a.md", "/x/a.md", "A", ("en",), "sha", 1, 2, 0.0).to_dict()
    assert set(row) == {"id", "title", "source", "langs", "chunks", "ingested_at", "extracted_by", "ocr"}
    assert row["langs"] == ["en"] and row["ocr"] is False

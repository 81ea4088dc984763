"""``verbatim bench`` end to end on a tiny corpus: real Chroma, real models, a real HTTP server (no timing
assertions: the figures are checked for what they count, not for how fast they are)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from verbatim_qa.cli import app

pytestmark = pytest.mark.integration

DOCS = {
    "tea.txt": "Green tea is steamed or pan-fired soon after picking. Black tea is fully oxidised before drying.\n\n"
               "Oolong sits between them: it is partly oxidised and often rolled into tight balls.",
    "rivers.md": "# Rivers\n\nThe Amu Darya rises in the Pamir mountains. It once fed the Aral Sea, which has "
                 "shrunk since the 1960s because its water was diverted to irrigate cotton.",
}
QUESTIONS = ["How is green tea processed?", "Why did the Aral Sea shrink?", "What is oolong?"]


def test_bench_reports_ingest_retrieval_encoding_and_http_figures(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    dataset = tmp_path / "q.jsonl"
    dataset.write_text("\n".join(json.dumps({"id": f"q{i}", "question": q, "lang": "en", "kind": "unanswerable",
                                             "answerable": False}) for i, q in enumerate(QUESTIONS)))
    monkeypatch.setenv("VERBATIM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VERBATIM_EMBEDDER", "st:all-MiniLM-L6-v2")
    result = CliRunner().invoke(app, ["bench", "--json", "--corpus", str(corpus), "--dataset", str(dataset),
                                      "--rounds", "2", "--no-pdf"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    ing = out["ingest"]
    assert ing["documents"] == 2 and ing["chunks"] >= 2 and ing["sentences"] > ing["chunks"]
    assert ing["unchanged_skipped"] == 2 and ing["cold_s"] > 0 and ing["retriever_prepare_s"] > 0
    for key in ("retrieval_verbatim_ms", "query_encoding_ms", "retrieval_langchain_ms"):
        assert out[key]["n"] == 2 * len(QUESTIONS) and 0 < out[key]["p50"] <= out[key]["p95"], key
    assert out["retrieval_verbatim_first_ask_ms"]["n"] == len(QUESTIONS)
    assert ing["sentences_embedded_once_s"] > 0 and ing["cold_over_embedding_once"] > 0
    ratio = out["retrieval_verbatim_ms"]["p50"] / out["query_encoding_ms"]["p50"]
    assert out["retrieval_over_encoding"]["p50"] == ratio
    assert out["retrieval_verbatim_repeat_ms"]["n"] == len(QUESTIONS)  # 2 rounds: the second is the repeat
    for key in ("http_first_token_ms", "http_full_answer_ms"):
        assert out[key]["n"] == len(QUESTIONS) and 0 < out[key]["p50"] <= out[key]["p95"], key
    assert out["http_first_token_ms"]["p50"] <= out["http_full_answer_ms"]["p50"]
    assert not (tmp_path / "home" / "chroma").exists()  # the bench's index is temporary: the user's is untouched

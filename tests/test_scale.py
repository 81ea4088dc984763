"""The growth benchmark's machinery at a tiny size: real Chroma, real e5, cached mode (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verbatim_qa.evals.scale import ScaleConfig, child_settings, plain_settings, run_scale, secret_env
from verbatim_qa.evals.synth import build_pool, count_chunks, write_corpus
from verbatim_qa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_generator_is_deterministic_and_exact(tmp_path):
    pool = build_pool(ROOT / "corpus", 120, seed=3)
    assert pool.sentences["en"] and pool.sentences["fa"]
    a = write_corpus(tmp_path / "a", 150, pool, seed=3, chunk_chars=600)
    b = write_corpus(tmp_path / "b", 150, pool, seed=3, chunk_chars=600)
    assert a.chunks == 150 and a.chunks_per_doc == b.chunks_per_doc
    files = sorted((tmp_path / "a").iterdir())
    assert [f.read_text() for f in files] == [f.read_text() for f in sorted((tmp_path / "b").iterdir())]
    assert [count_chunks(f.read_text(encoding="utf-8"), 600) for f in files] == a.chunks_per_doc


def test_the_childs_arguments_hold_no_secret_and_give_the_same_settings(tmp_path):
    settings = Settings(home=tmp_path / "home", top_k=7, token="server-token-" + "x" * 12, llm_api_key="sk-secret",
                        chroma_token="chroma-secret")
    written = json.dumps(plain_settings(settings))  # what args.json holds (kept by --keep)
    assert not any(secret in written for secret in ("server-token-", "sk-secret", "chroma-secret"))
    assert child_settings(json.loads(written), secret_env(settings)) == settings
    assert child_settings(json.loads(written), {}) == settings.with_(token="", llm_api_key="", chroma_token="")


@pytest.mark.integration
def test_scale_bench_tiny(tmp_path):
    out = tmp_path / "scale"
    cfg = ScaleConfig(sizes=(200,), embed="cached", pool=40, rounds=1, questions=6, probe=4,
                      corpus=str(ROOT / "corpus"), dataset=str(ROOT / "evals/datasets/dev.jsonl"), keep=True)
    settings = Settings().with_(home=tmp_path / "unused", token="server-token-" + "x" * 12, llm_api_key="sk-secret")
    result = run_scale(settings, cfg, out, log=lambda _m: None)
    (row,) = result["rows"]
    assert row["embed_mode"] == "cached" and row["end_to_end_kind"] == "derived"
    assert abs(row["chunks"] - 200) <= 5 and row["sentences"] > row["chunks"]
    assert row["ingest_failed"] == []
    assert row["ingest_embedding"]["composed"] + row["ingest_embedding"]["memo_hits"] > 0
    assert row["query_ms"]["n"] == 6 and row["disk_mb"] > 0 and row["peak_rss_mb"] > 0
    assert row["query_ms"]["cold"]["n"] == 6  # each question's first asking, timed apart
    tenths = row["ms_per_chunk_by_tenth"]
    assert len(tenths) == min(10, row["documents"]) and all(v > 0 for v in tenths)
    assert row["ms_per_chunk_first_last_10pct"] == [tenths[0], tenths[-1]]
    assert json.loads((out / "results.json").read_text())["rows"][0]["chunks"] == row["chunks"]
    assert (out / "scale.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (out / "table.md").read_text(encoding="utf-8")
    assert f"| 200 | {row['chunks']} |" in table and "derived" in table
    assert "by tenth of the files" in table and "first asking" in table
    assert (out / "size-200" / "home" / "chroma").is_dir()  # --keep: the size's index stays, to be profiled
    kept = (out / "size-200" / "args.json").read_text()
    assert "server-token-" not in kept and "sk-secret" not in kept  # and its arguments, without secrets
    from verbatim_qa.evals.scale_requery import requery

    again = requery(out / "size-200" / "home", questions=4, rounds=1)  # and its queries can be timed again
    assert again["chunks"] == row["chunks"] and again["query_ms"]["n"] == 4 and again["query_ms"]["cold"]["n"] == 4
    assert (out / "embed-cache" / "vectors.npy").exists()  # the pool's real vectors, reusable by the next run

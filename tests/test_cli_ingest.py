"""``verbatim ingest`` / ``sources`` / ``search``: exit codes, JSON, one-line errors, state across processes.

In-process runs (typer's CliRunner) share the loaded MiniLM model and keep this file fast; the real console
script runs in subprocesses where the point is a separate process (persistence, the mismatch error).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import integration_selected
from helpers import write
from typer.testing import CliRunner

from verbatim_qa.cli import app
from verbatim_qa.contract import RETRIEVED_KEYS
from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.store import Store

MINILM = "st:all-MiniLM-L6-v2"  # as in conftest.py
VERBATIM = Path(sys.executable).with_name("verbatim")  # the console script of this venv
KEYS = {"added", "updated", "skipped", "deleted", "failed"}

WATER = (
    "# Water in Central Asia\n\n"
    "The Amu Darya and the Syr Darya feed the Aral Sea basin. Irrigation for cotton drained the sea.\n\n"
    "Regional cooperation on water is still difficult.\n"
)
SILK = (
    "The Silk Road\n\n"
    "Caravans carried silk and paper from China to Samarkand. Merchants crossed the Pamir mountains.\n"
)
FA_NAME = "گزارش انرژی.md"
FA_TEXT = (
    "# همکاری انرژی\n\n"
    "چین با کشورهای آسیای مرکزی در حوزه انرژی همکاری می‌کند. خط لوله گاز از ترکمنستان به چین می‌رسد.\n"
)



def good_dir(root: Path) -> Path:
    folder = root / "docs"
    write(folder, "water.md", WATER)
    write(folder, "silk.txt", SILK)
    write(folder, FA_NAME, FA_TEXT)
    return folder


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """Only the VERBATIM_* variables a test sets itself."""
    for name in list(os.environ):
        if name.startswith("VERBATIM_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread(request):
    """On 2 cores torch's intra-op threads fight Chroma's own threads: one thread halves these tests' time."""
    if not integration_selected(request):  # a unit run loads no model: no torch to import
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def cli(tmp_path):
    """Run the typer app in-process against a fresh VERBATIM_HOME; returns (exit code, stdout, stderr)."""
    home = tmp_path / "home"

    def run(*args: str, **env: str) -> tuple[int, str, str]:
        env = {"VERBATIM_HOME": str(home), "VERBATIM_EMBEDDER": MINILM, **env}
        result = CliRunner().invoke(app, [str(a) for a in args], env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    run.home = home
    return run


def run_script(args: list[str], home: Path, cwd: Path, embedder: str = MINILM) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    env.update(VERBATIM_HOME=str(home), VERBATIM_EMBEDDER=embedder)
    return subprocess.run([str(VERBATIM), *args], env=env, cwd=cwd, capture_output=True, text=True,
                          encoding="utf-8", timeout=300)


# ---------------------------------------------------------------- 6. exit codes and JSON
@pytest.mark.integration
def test_ingest_json_counts_with_persian_names(cli, tmp_path):
    folder = good_dir(tmp_path)
    code, out, _ = cli("ingest", folder, "--json")
    assert code == 0
    report = json.loads(out)
    assert set(report) == KEYS
    assert report == {"added": 3, "updated": 0, "skipped": 0, "deleted": 0, "failed": []}

    code, out, _ = cli("ingest", folder, "--json")
    assert code == 0 and json.loads(out) == {"added": 0, "updated": 0, "skipped": 3, "deleted": 0, "failed": []}

    code, out, _ = cli("sources", "--json")
    assert code == 0
    listed = {r["source"]: r for r in json.loads(out)}
    assert set(listed) == {"water.md", "silk.txt", FA_NAME}
    assert FA_NAME in out  # JSON keeps Persian readable (ensure_ascii=False)
    assert listed[FA_NAME]["title"] == "همکاری انرژی" and listed[FA_NAME]["langs"] == ["fa"]
    assert all(r["chunks"] >= 1 for r in listed.values())

    store = Store(Settings(home=cli.home, embedder=MINILM))
    fa = next(d for d in store.documents() if d.source == FA_NAME)
    assert store.document_text(fa.doc_id) == FA_TEXT
    assert all(store.document_text(c.doc_id)[c.char_start : c.char_end] == c.text for c in store.all_chunks())

    # human output: one summary line; the table lists the Persian file
    code, out, err = cli("ingest", folder)
    assert code == 0 and out.strip() == "added 0, updated 0, skipped 3, deleted 0, failed 0" and not err.strip()
    code, out, _ = cli("sources")
    assert code == 0 and FA_NAME in out


@pytest.mark.integration
def test_ingest_prune_and_update_via_cli(cli, tmp_path):
    folder = good_dir(tmp_path)
    assert cli("ingest", folder, "--json")[0] == 0
    write(folder, "water.md", WATER + "\nThe Aral Sea shrank by nine tenths.\n")
    (folder / "silk.txt").unlink()
    code, out, _ = cli("ingest", folder, "--prune", "--json")
    assert code == 0 and json.loads(out) == {"added": 0, "updated": 1, "skipped": 1, "deleted": 1, "failed": []}
    assert {r["source"] for r in json.loads(cli("sources", "--json")[1])} == {"water.md", FA_NAME}


@pytest.mark.integration
def test_ingest_partial_failure_exit_1(cli, tmp_path):
    folder = good_dir(tmp_path / ("a-rather-long-folder-name-so-that-any-wrapping-would-show" * 2))
    bad = write(folder, "program.exe", b"MZ\x90\x00")
    nul = write(folder, "نامه.txt", b"text \x00 with a NUL")
    code, out, err = cli("ingest", folder, "--json")
    assert code == 1
    report = json.loads(out)
    assert set(report) == KEYS and (report["added"], report["skipped"]) == (3, 0)
    assert all(set(f) == {"path", "reason"} for f in report["failed"])
    failed = {f["path"]: f["reason"] for f in report["failed"]}
    assert failed == {str(bad): "unsupported file type .exe", str(nul): "binary file (NUL bytes)"}
    assert not err.strip()

    # human output: still exit 1, one stderr line per failure, each with path and reason
    code, out, err = cli("ingest", folder)
    assert code == 1
    assert out.strip() == "added 0, updated 0, skipped 3, deleted 0, failed 2"
    lines = err.strip().splitlines()
    assert lines == [f"failed: {bad}: unsupported file type .exe", f"failed: {nul}: binary file (NUL bytes)"]


def test_ingest_missing_path_exit_2(cli, tmp_path):
    missing = tmp_path / ("no-such-folder-with-a-name-long-enough-to-wrap-an-eighty-column-console" * 2)
    code, out, err = cli("ingest", str(missing), "--json")
    assert code == 2 and not out.strip()
    assert one_line(err) == f"error: no such file or folder: {missing}"
    assert not cli.home.exists()  # refused before anything was created


def test_unknown_embedder_exit_2(cli):
    code, _, err = cli("sources", VERBATIM_EMBEDDER="word2vec")
    assert code == 2 and "unknown embedder 'word2vec'" in one_line(err)


def test_unreachable_chroma_server_exit_2(cli):
    code, _, err = cli("sources", VERBATIM_CHROMA_URL="http://127.0.0.1:9")  # discard port: nothing listens
    assert code == 2 and "Could not connect to a Chroma server" in one_line(err)


@pytest.mark.integration
def test_mismatch_in_process_exit_2(cli, tmp_path):
    assert cli("ingest", good_dir(tmp_path), "--json")[0] == 0
    for command in (["sources", "--json"], ["ingest", str(tmp_path / "docs"), "--json"]):
        code, out, err = cli(*command, VERBATIM_EMBEDDER="e5")
        assert code == 2 and not out.strip()
        line = one_line(err)
        assert line.startswith("error: ") and "re-ingest" in line and MINILM in line


@pytest.mark.integration
def test_search_json_rows_are_exact_slices(cli, tmp_path):
    folder = good_dir(tmp_path)
    assert cli("ingest", folder, "--json")[0] == 0
    code, out, err = cli("search", "Which rivers feed the Aral Sea?", "--json", "-k", "3",
                         VERBATIM_USE_CROSSLINGUAL="false")
    assert code == 0, err
    rows = json.loads(out)
    assert 1 <= len(rows) <= 3
    assert all(set(r) == RETRIEVED_KEYS for r in rows)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert rows[0]["source"] == "water.md" and "Aral Sea" in rows[0]["text"]
    for r in rows:
        text = (folder / r["source"]).read_text(encoding="utf-8")
        assert text[r["char_start"] : r["char_end"]] == r["text"]


# ---------------------------------------------------------------- 4. persistence across processes
@pytest.mark.integration
def test_state_persists_across_processes(tmp_path):
    folder = good_dir(tmp_path)
    home = tmp_path / "home"
    first = run_script(["ingest", str(folder), "--json"], home, tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"added": 3, "updated": 0, "skipped": 0, "deleted": 0, "failed": []}

    listed = run_script(["sources", "--json"], home, tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert sorted(r["source"] for r in rows) == sorted(["water.md", "silk.txt", FA_NAME])
    assert all(r["chunks"] >= 1 for r in rows)

    third = run_script(["ingest", str(folder), "--json"], home, tmp_path)
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout) == {"added": 0, "updated": 0, "skipped": 3, "deleted": 0, "failed": []}


# ---------------------------------------------------------------- 5. embedder mismatch, real console script
@pytest.mark.integration
def test_mismatch_exit_2_one_line(tmp_path):
    home = tmp_path / "home"
    store = Store(Settings(home=home, embedder=MINILM))
    assert ingest_paths(store, [good_dir(tmp_path)]).added == 3
    proc = run_script(["sources"], home, tmp_path, embedder="e5")
    assert proc.returncode == 2 and not proc.stdout.strip()
    line = one_line(proc.stderr)
    assert line.startswith("error: the index at ") and "re-ingest" in line
    assert f"was built with embedder '{MINILM}', not 'e5'" in line

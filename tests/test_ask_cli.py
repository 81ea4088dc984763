"""``verbatim ask``: the real console script in subprocesses over a copy of the e5-ingested corpus, plus the
usage errors in-process (they fail before any model or index is touched)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from verbatim_qa.cli import app
from verbatim_qa.contract import ANSWER_KEYS, CITATION_KEYS, RETRIEVED_KEYS
from verbatim_qa.evals.dataset import read_corpus
from verbatim_qa.qa.answer import REFUSAL

ROOT = Path(__file__).resolve().parent.parent
VERBATIM = Path(sys.executable).with_name("verbatim")  # the console script of this venv
TEXTS = read_corpus(ROOT / "corpus")
PAPER = "china-central-asia-ai-rezapour-2024.md"

ARMS = "What share of Central Asia's arms imports did China supply in 2010–2014, and what share does it supply now?"
HUAWEI = "Where and when did Huawei hold its first Central Asia Innovation Day?"
FA_SOURCES = "داده‌های این پژوهش از چه نوع منابعی جمع‌آوری شده‌اند؟"
BREAD = "How do I bake sourdough bread?"
TRADE = "Which Central Asian country saw the fastest growth in trade with China in 2023?"



@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("VERBATIM_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def warm_caches(corpus_store):
    """Build the BM25 index and the Persian term vectors in the session corpus home before it is copied
    (module scope: set up before the function-scoped ``corpus_copy``), so each subprocess only loads them."""
    from verbatim_qa.qa.retriever import HybridRetriever

    HybridRetriever.from_store(corpus_store)


@pytest.fixture
def home(warm_caches, corpus_copy) -> Path:
    return corpus_copy


def run_ask(args: list, home: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    full.update(VERBATIM_HOME=str(home), VERBATIM_EMBEDDER="e5", HF_HUB_OFFLINE="1", **env)
    return subprocess.run([str(VERBATIM), "ask", *[str(a) for a in args]], env=full, cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", timeout=600)


def check_contract(d: dict, k: int) -> None:
    assert set(d) == ANSWER_KEYS | {"provenance"}  # ask --json adds what `verbatim verify` re-checks
    assert isinstance(d["answer"], str) and isinstance(d["refused"], bool)
    for n, c in enumerate(d["citations"], 1):
        assert set(c) == CITATION_KEYS and c["n"] == n
        assert c["quote"] == TEXTS[c["source"]][c["char_start"] : c["char_end"]]  # verbatim, against the file
        assert f"[{n}]" in d["answer"]
    assert len(re.findall(r"\[\d+\]", d["answer"])) == len(d["citations"])
    assert len(d["retrieved"]) == k
    for r in d["retrieved"]:
        assert set(r) == RETRIEVED_KEYS
        assert r["text"] == TEXTS[r["source"]][r["char_start"] : r["char_end"]]
    scores = [r["score"] for r in d["retrieved"]]
    assert scores == sorted(scores, reverse=True)
    if d["refused"]:
        assert d["citations"] == [] and d["answer"].startswith(REFUSAL)


@pytest.mark.integration
def test_ask_json(home, tmp_path):
    p = run_ask([ARMS, "--json", "-k", "3"], home, tmp_path)
    assert p.returncode == 0, p.stderr
    lines = [line for line in p.stdout.splitlines() if line.strip()]
    assert len(lines) == 1  # one object, nothing else on stdout
    d = json.loads(lines[0])
    check_contract(d, 3)
    assert d["question"] == ARMS and d["refused"] is False
    assert d["citations"] and all(c["source"] == PAPER for c in d["citations"])
    assert any("۱۸ درصد" in c["quote"] for c in d["citations"])
    assert "۱۸ درصد" in p.stdout  # Persian stays readable (ensure_ascii=False)
    assert "\n\nThe evidence is in Persian; quoted verbatim, not translated:\n\n" in f"\n\n{d['answer']}"
    span = d["answer_span"]  # "how much": the figure, exact in its source, read for an English reader
    if span is not None:
        assert span["text"] == TEXTS[span["source"]][span["char_start"] : span["char_end"]]
        assert d["answer"].startswith(f"**{span['text']}**") and span["reading"]


@pytest.mark.integration
def test_ask_markdown_has_footnotes(home, tmp_path):
    p = run_ask([HUAWEI, "--markdown"], home, tmp_path)
    assert p.returncode == 0, p.stderr
    md = p.stdout
    assert md.startswith(f"**Q:** {HUAWEI}")
    notes = re.findall(r"^\[\^(\d+)\]: “(.*)” — (.*)$", md, re.M)
    assert notes and [int(n) for n, _, _ in notes] == list(range(1, len(notes) + 1))
    body = md.split("\n[^1]: ")[0]
    assert sorted(int(n) for n in re.findall(r"\[\^(\d+)\]", body)) == [int(n) for n, _, _ in notes]
    flat = " ".join(TEXTS["why-china-leans-hard-on-central-asia.txt"].split())
    for _, quote, where in notes:
        assert quote in flat  # the footnote quote is the document's text (whitespace collapsed)
        m = re.search(r"\((\S+), chars (\d+)–(\d+)\)$", where)
        assert m, where
        src, start, end = m.group(1), int(m.group(2)), int(m.group(3))
        assert " ".join(TEXTS[src][start:end].split()) == quote
    assert "Huawei held its inaugural Central Asia Innovation Day" in md


@pytest.mark.integration
def test_ask_questions_file_prints_json_lines_in_order(home, tmp_path):
    qfile = tmp_path / "questions.txt"
    qfile.write_text(
        json.dumps({"question": HUAWEI, "id": "q1"}) + "\n"
        "\n"
        f"{FA_SOURCES}\n"
        + json.dumps({"question": BREAD}, ensure_ascii=False) + "\n"
        + json.dumps({"question": "What about Turkmenistan?", "history": [TRADE]}) + "\n",
        encoding="utf-8",
    )
    p = run_ask(["--questions", qfile, "-k", "4"], home, tmp_path)
    assert p.returncode == 0, p.stderr
    lines = [line for line in p.stdout.splitlines() if line.strip()]
    assert len(lines) == 4
    objs = [json.loads(line) for line in lines]
    assert [o["question"] for o in objs] == [HUAWEI, FA_SOURCES, BREAD, "What about Turkmenistan?"]
    for o in objs:
        check_contract(o, 4)
    assert [o["refused"] for o in objs] == [False, False, True, False]
    assert [o["search_query"] == o["question"] for o in objs] == [True, True, True, False]  # the follow-up
    assert "ترکمنستان" in " ".join(c["quote"] for c in objs[3]["citations"])  # Turkmenistan's trade, in Persian


# ---------------------------------------------------------------- usage errors
def run_inprocess(args: list, tmp_path: Path):
    env = {"VERBATIM_HOME": str(tmp_path / "home"), "VERBATIM_EMBEDDER": "e5"}
    result = CliRunner().invoke(app, ["ask", *[str(a) for a in args]], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_ask_needs_exactly_one_of_question_and_questions(tmp_path):
    qfile = tmp_path / "q.txt"
    qfile.write_text(HUAWEI + "\n", encoding="utf-8")
    for args in ([], [HUAWEI, "--questions", qfile], ["--json"]):
        result = run_inprocess(args, tmp_path)
        assert result.exit_code == 2, args
        assert "--questions" in result.stderr and "Traceback" not in result.stderr
        assert result.stdout.strip() == ""
    assert not (tmp_path / "home").exists()  # refused before opening any index


def test_ask_questions_file_errors(tmp_path):
    result = run_inprocess(["--questions", tmp_path / "nope.txt"], tmp_path)
    assert result.exit_code == 2 and "no such file" in result.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": HUAWEI}) + "\n" + json.dumps({"q": "missing field"}) + "\n",
                   encoding="utf-8")
    result = run_inprocess(["--questions", bad], tmp_path)
    assert result.exit_code == 2
    assert "bad.jsonl:2:" in result.stderr.replace("\n", "") and "question" in result.stderr
    assert result.stdout.strip() == ""
    bad.write_text(json.dumps({"question": HUAWEI, "history": "not a list"}) + "\n", encoding="utf-8")
    result = run_inprocess(["--questions", bad], tmp_path)
    assert result.exit_code == 2 and "bad.jsonl:1:" in result.stderr.replace("\n", "")
    assert "history" in result.stderr and result.stdout.strip() == ""


@pytest.mark.integration
def test_ask_llm_without_endpoint_is_a_one_line_usage_error(home, tmp_path):
    p = run_ask([HUAWEI, "--answerer", "llm"], home, tmp_path)
    assert p.returncode == 2
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr and "VERBATIM_LLM_BASE_URL" in lines[0]
    assert p.stdout.strip() == ""


def test_ask_unknown_answerer_is_a_usage_error(tmp_path):
    result = run_inprocess([HUAWEI, "--answerer", "oracle"], tmp_path)
    assert result.exit_code == 2 and "oracle" in result.stderr

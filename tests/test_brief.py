"""``verbatim brief``: the same answers as ``ask``, footnoted verbatim quotes, a source list; .md/.html/.docx;
HTML escaped; byte-identical on a second run. In-process (CliRunner) over a copy of the e5 corpus index, with
one extra document whose text is hostile markup.
"""

from __future__ import annotations

import html
import json
import re
import shutil

import docx
import pytest
from typer.testing import CliRunner

from verbatim_qa.cli import app
from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.qa.render import where
from verbatim_qa.settings import Settings
from verbatim_qa.text.markdown import escape_html
from verbatim_qa.types import Citation
from verbatim_qa.ui.service import index_date
from verbatim_qa.vectorstore.store import Store

pytestmark = pytest.mark.integration

EN_Q = "Where and when did Huawei hold its first Central Asia Innovation Day?"
FA_Q = "What share of Central Asian arms imports came from China?"
KEY_Q = "After the 2011 border settlement, how many Chinese farmers were given land in Tajikistan?"
OFF_Q = "What is the boiling point of mercury in Kelvin?"
HOSTILE_Q = "When did the Murghab customs post at Kulma Pass open to trucks?"
HOSTILE = ("Customs memo\n\nThe Murghab customs post at Kulma Pass opened to trucks in 2004 <script>alert(1)</script> "
           "according to this memo & <b>its annex</b>.\n")


@pytest.fixture(scope="module")
def home(corpus_home, tmp_path_factory):
    root = tmp_path_factory.mktemp("brief")
    dest = root / "home"
    shutil.copytree(corpus_home, dest)
    hostile = root / "docs" / "memo.txt"
    hostile.parent.mkdir()
    hostile.write_text(HOSTILE, encoding="utf-8")
    assert ingest_paths(Store(Settings(home=dest, embedder="e5")), [hostile]).added == 1
    return dest


@pytest.fixture(scope="module")
def run(home, tmp_path_factory):
    folder = tmp_path_factory.mktemp("brief-runs")
    questions = folder / "questions.jsonl"
    questions.write_text("".join(json.dumps({"question": q}) + "\n" for q in (EN_Q, FA_Q, OFF_Q, HOSTILE_Q)),
                         encoding="utf-8")
    env = {"VERBATIM_HOME": str(home), "VERBATIM_EMBEDDER": "e5"}
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env)

    def brief(name: str) -> bytes:
        out = folder / name
        result = invoke("brief", str(questions), "-o", str(out), "--title", "Central Asia <briefing>")
        assert result.exit_code == 0, result.output
        return out.read_bytes()

    asked = invoke("ask", "--questions", str(questions))
    assert asked.exit_code == 0, asked.output
    answers = [json.loads(line) for line in asked.stdout.splitlines() if line.startswith("{")]
    return {"brief": brief, "invoke": invoke, "answers": answers, "folder": folder, "questions": questions,
            "store": Store(Settings(home=home, embedder="e5"))}


def flat(s: str) -> str:
    return " ".join(s.split())


def test_markdown_briefing_has_the_answers_of_ask(run):
    md = run["brief"]("b.md").decode("utf-8")
    answers = run["answers"]
    assert [a["question"] for a in answers] == [EN_Q, FA_Q, OFF_Q, HOSTILE_Q]
    assert md.startswith("# Central Asia \\<briefing>\n")  # document and user HTML is escaped, not run
    assert not re.search(r"(?<!\\)<", md)  # every "<" backslash-escaped
    assert "2004 \\<script>alert(1)\\</script> according to this memo & \\<b>its annex" in md
    assert f"index as of {index_date(run['store'].documents())}" in md
    for k, a in enumerate(answers, 1):
        assert f"## {k}. {a['question']}\n" in md
    num = 0
    ids = {r.source: r.doc_id for r in run["store"].documents()}
    for a in answers:
        for c in a["citations"]:
            num += 1
            text = run["store"].document_text(ids[c["source"]])
            assert text[c["char_start"] : c["char_end"]] == c["quote"]  # verbatim, as ask reported it
            assert escape_html(f"[^{num}]: “{flat(c['quote'])}” — {where(Citation(**c))}") in md
    assert num == md.count("\n[^") and num >= 4
    assert md.count("_Not answered by the documents._") == sum(a["refused"] for a in answers) == 1
    sources = md.split("## Sources\n", 1)[1]
    assert "**Why China Leans Hard on Central Asia** (why-china-leans-hard-on-central-asia.txt)" in sources
    assert "(china-central-asia-ai-rezapour-2024.md)" in sources and "(memo.txt)" in sources


def test_html_briefing_is_escaped(run):
    page = run["brief"]("b.html").decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<title>Central Asia &lt;briefing&gt;</title>" in page
    assert "<script>" not in page and "<b>its annex</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&amp; &lt;b&gt;its annex&lt;/b&gt;" in page
    assert "http://" not in page and "https://" not in page  # self-contained
    for a in run["answers"]:
        for c in a["citations"]:
            assert f"“{html.escape(c['quote'])}”" in page
    assert page.count('<li id="fn-') == sum(len(a["citations"]) for a in run["answers"])
    assert 'dir="rtl"' in page  # the Persian quote paragraphs


def test_docx_briefing_is_readable(run):
    path = run["folder"] / "b.docx"
    run["brief"]("b.docx")
    d = docx.Document(str(path))
    text = "\n".join(p.text for p in d.paragraphs)
    assert d.paragraphs[0].text == "Central Asia <briefing>"
    assert f"1. {EN_Q}" in text and f"2. {FA_Q}" in text and "Sources" in text
    for a in run["answers"]:
        for c in a["citations"]:
            assert f"“{flat(c['quote'])}”" in text
    assert "<script>alert(1)</script>" in text  # stored as text, which is what Word shows


@pytest.mark.parametrize("fmt", [".md", ".docx"])
def test_briefing_is_deterministic(run, fmt):
    assert run["brief"](f"one{fmt}") == run["brief"](f"two{fmt}")


def test_usage_errors(run):
    bad = run["invoke"]("brief", str(run["questions"]), "-o", str(run["folder"] / "b.pdf"))
    assert bad.exit_code == 2 and "must end in .md, .html or .docx" in bad.output
    missing = run["invoke"]("brief", str(run["folder"] / "nope.jsonl"), "-o", str(run["folder"] / "b.md"))
    assert missing.exit_code == 2 and "no such file" in missing.output
    empty = run["folder"] / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    none = run["invoke"]("brief", str(empty), "-o", str(run["folder"] / "b.md"))
    assert none.exit_code == 2 and "no questions" in none.output


def test_the_key_fact_is_bold_in_every_format(run):
    """A question asking for a count over the English article: its answer_span (the figure) heads the answer in
    bold, in each format. (Key facts from a quote in another language than the question's are not shown: see
    docs/measurements.md, "Key fact across languages".)"""
    questions = run["folder"] / "key.jsonl"
    questions.write_text(json.dumps({"question": KEY_Q}) + "\n", encoding="utf-8")
    asked = run["invoke"]("ask", "--questions", str(questions))
    [answer] = [json.loads(line) for line in asked.stdout.splitlines() if line.startswith("{")]
    span = answer["answer_span"]
    assert span is not None and any(span["text"] in c["quote"] for c in answer["citations"])
    reading = f" (reading: {span['reading']})" if span["reading"] else ""

    def brief(name: str):
        out = run["folder"] / name
        result = run["invoke"]("brief", str(questions), "-o", str(out))
        assert result.exit_code == 0, result.output
        return out

    md = brief("k.md").read_text(encoding="utf-8")
    assert f"\n**{span['text']}**{reading}" in md
    page = brief("k.html").read_text(encoding="utf-8")
    assert f'<b class="key" dir="auto">{html.escape(span["text"])}</b>{reading}' in page
    assert f"**{span['text']}**" not in page
    d = docx.Document(str(brief("k.docx")))
    bold = [r.text for p in d.paragraphs for r in p.runs if r.bold]
    assert span["text"] in bold
    assert not any(f"**{span['text']}**" in p.text for p in d.paragraphs)

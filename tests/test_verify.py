"""``verbatim verify``: briefings (.md, .html, .docx) and ``ask --json`` output re-checked against the sources,
untouched and tampered (an edited quote, an edited source file, a deleted source), from the index and from
``--corpus DIR``. A copy of the e5 corpus index plus one small note written with a BOM and CRLF newlines (so the
offset convention is exercised), answered for real.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import shutil
from pathlib import Path

import docx
import pytest
from helpers import EN_Q, FA_Q, NOTE, NOTE_Q, write
from typer.testing import CliRunner

from verbatim_qa.cli import app
from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.store import Store

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
NOTE_FILE = "glacier-notes.txt"
NOTE_BYTES = codecs.BOM_UTF8 + NOTE.replace("\n", "\r\n").encode("utf-8")
FILES = ("b.md", "b.html", "b.docx", "answers.jsonl", "answer.json")
STATUS = re.compile(r"^(ok|changed source|quote differs|source missing) +\[([\d.]+)\] (\S+) chars (\d+)–(\d+)")


@pytest.fixture(scope="module")
def made(corpus_home, tmp_path_factory):
    root = tmp_path_factory.mktemp("verify")
    home = root / "home"
    shutil.copytree(corpus_home, home)
    note = write(root / "docs", NOTE_FILE, NOTE_BYTES)
    assert ingest_paths(Store(Settings(home=home, embedder="e5")), [note]).added == 1
    questions = write(root, "q.txt", f"{EN_Q}\n{FA_Q}\n{NOTE_Q}\n")
    runner = CliRunner()
    env = {"VERBATIM_HOME": str(home), "VERBATIM_EMBEDDER": "e5"}
    for name in FILES[:3]:
        got = runner.invoke(app, ["brief", str(questions), "-o", str(root / name)], env=env)
        assert got.exit_code == 0, got.output
    for name, args in (("answers.jsonl", ["--questions", str(questions)]), ("answer.json", [NOTE_Q, "--json"])):
        got = runner.invoke(app, ["ask", *args], env=env)
        assert got.exit_code == 0, got.output
        (root / name).write_text(got.stdout, encoding="utf-8")
    answers = [json.loads(line) for line in (root / "answers.jsonl").read_text(encoding="utf-8").splitlines()]
    return {"root": root, "home": home, "note": note, "answers": answers}


def copy(made, tmp_path: Path, name: str) -> Path:
    return Path(shutil.copy(made["root"] / name, tmp_path / name))


def sources(tmp_path: Path, note: bytes | None = NOTE_BYTES) -> Path:
    """A corpus folder: the bundled files and (unless None) the note with ``note`` as its bytes."""
    folder = tmp_path / "sources"
    shutil.copytree(CORPUS, folder)
    if note is not None:
        write(folder / "notes", NOTE_FILE, note)
    return folder


def verify(home: Path, *args) -> tuple[int, list[tuple[str, str, str]], str]:
    """Exit code, (status, label, source) per stdout line, stderr."""
    got = CliRunner().invoke(app, ["verify", *map(str, args)], env={"VERBATIM_HOME": str(home),
                                                                  "VERBATIM_EMBEDDER": "e5"})
    if got.exception is not None and not isinstance(got.exception, SystemExit):
        raise got.exception
    rows = []
    for line in got.stdout.splitlines():
        m = STATUS.match(line)
        assert m, line  # every line is a status line
        rows.append((m[1], m[2], m[3]))
    return got.exit_code, rows, got.stderr


def quotes(made, name: str) -> int:
    return 1 if name == "answer.json" else sum(len(a["citations"]) for a in made["answers"])


def only_note(rows, status: str) -> None:
    assert rows and {r[0] for r in rows if r[2] == NOTE_FILE} == {status}
    assert {r[0] for r in rows if r[2] != NOTE_FILE} <= {"ok"}


def test_the_note_and_the_persian_paper_are_quoted(made):
    sources_cited = {c["source"] for a in made["answers"] for c in a["citations"]}
    assert sources_cited == {NOTE_FILE, "why-china-leans-hard-on-central-asia.txt",
                             "china-central-asia-ai-rezapour-2024.md"}
    note = next(c for a in made["answers"] for c in a["citations"] if c["source"] == NOTE_FILE)
    assert "2003" in note["quote"] and note["char_start"] > 0


@pytest.mark.parametrize("name", FILES)
def test_untouched_files_are_ok_from_the_index_and_from_the_files(made, tmp_path, name):
    for args in ((), ("--corpus", sources(tmp_path))):
        code, rows, stderr = verify(made["home"], made["root"] / name, *args)
        assert code == 0, stderr
        assert [r[0] for r in rows] == ["ok"] * quotes(made, name)
        assert f"{quotes(made, name)} quotes, {quotes(made, name)} ok" in stderr


def edit_note_quote(path: Path) -> None:
    """Change 2003 to 2004 in the note's quote as the file shows it (the footnote, or the citation)."""
    if path.suffix == ".docx":
        d = docx.Document(str(path))
        runs = [r for p in d.paragraphs if re.match(r"\d+\. “", p.text) for r in p.runs if "2003" in r.text]
        assert len(runs) == 1
        runs[0].text = runs[0].text.replace("2003", "2004")
        d.save(str(path))
        return
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        pattern = r"^\[\^\d+\]: “[^\n]*2003"
    elif path.suffix == ".html":
        pattern = r'<li id="fn-\d+"><span dir="auto">“[^<]*2003'
    else:
        pattern = r'"quote": "[^"]*2003'
    edited, n = re.subn(pattern, lambda m: m[0].replace("2003", "2004"), text, flags=re.MULTILINE)
    assert n == 1
    path.write_text(edited, encoding="utf-8")


@pytest.mark.parametrize("name", FILES)
def test_an_edited_quote_differs(made, tmp_path, name):
    path = copy(made, tmp_path, name)
    edit_note_quote(path)
    for args in ((), ("--corpus", sources(tmp_path))):
        code, rows, _ = verify(made["home"], path, *args)
        assert code == 1
        only_note(rows, "quote differs")
        assert len(rows) == quotes(made, name)


def test_edited_offsets_or_hash_in_the_appendix_are_caught(made, tmp_path):
    path = copy(made, tmp_path, "b.md")
    text = path.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("- [") and NOTE_FILE in x)
    start, end = map(int, re.search(r"chars (\d+)–(\d+)", line).groups())
    path.write_text(text.replace(line, line.replace(f"chars {start}–{end}", f"chars {start + 4}–{end}")), "utf-8")
    code, rows, _ = verify(made["home"], path)
    assert code == 1
    only_note(rows, "quote differs")
    sha = re.search(r"sha256 ([0-9a-f]{64})", line)[1]
    path.write_text(text.replace(line, line.replace(sha, "0" * 64)), "utf-8")
    code, rows, _ = verify(made["home"], path)
    assert code == 1
    only_note(rows, "changed source")


def test_an_edited_source_file_is_a_changed_source(made, tmp_path):
    edited = NOTE_BYTES.replace(b"Saturday", b"Sunday")  # after the quote: it stays at its offsets
    folder = sources(tmp_path, edited)
    home = tmp_path / "home"
    shutil.copytree(made["home"], home)
    made["note"].write_bytes(edited)
    try:
        assert ingest_paths(Store(Settings(home=home, embedder="e5")), [made["note"]]).updated == 1
    finally:
        made["note"].write_bytes(NOTE_BYTES)
    for name in FILES:
        for args in ((home,), (made["home"], "--corpus", folder)):
            code, rows, _ = verify(args[0], made["root"] / name, *args[1:])
            assert code == 1, (name, args)
            only_note(rows, "changed source")
    got = CliRunner().invoke(app, ["verify", str(made["root"] / "answer.json"), "--corpus", str(folder)],
                             env={"VERBATIM_HOME": str(made["home"]), "VERBATIM_EMBEDDER": "e5"})
    assert "the quote is still at its offsets" in got.stdout


def test_a_deleted_source_is_missing(made, tmp_path):
    folder = sources(tmp_path, None)
    home = tmp_path / "home"
    shutil.copytree(made["home"], home)
    store = Store(Settings(home=home, embedder="e5"))
    assert store.delete_document(next(r.doc_id for r in store.documents() if r.source == NOTE_FILE))
    for name in FILES:
        for args in ((home,), (made["home"], "--corpus", folder)):
            code, rows, _ = verify(args[0], made["root"] / name, *args[1:])
            assert code == 1, (name, args)
            only_note(rows, "source missing")


def test_json_output(made, tmp_path):
    path = copy(made, tmp_path, "b.html")
    edit_note_quote(path)
    got = CliRunner().invoke(app, ["verify", str(path), "--json"],
                             env={"VERBATIM_HOME": str(made["home"]), "VERBATIM_EMBEDDER": "e5"})
    assert got.exit_code == 1
    d = json.loads(got.stdout)
    assert d["ok"] is False and d["counts"]["quote differs"] == 1 and d["counts"]["ok"] == quotes(made, "b.html") - 1
    bad = next(q for q in d["quotes"] if q["status"] == "quote differs")
    assert bad["source"] == NOTE_FILE and "2004" in bad["detail"] and "2003" in bad["detail"]
    assert set(bad) >= {"label", "status", "detail", "n", "source", "doc_id", "sha256", "char_start", "char_end"}


def test_the_offset_convention_checks_by_hand(made):
    """What the README tells a reader to run: code points of the text after BOM removal and newline
    normalization, sha256 of it as UTF-8."""
    answer = json.loads((made["root"] / "answer.json").read_text(encoding="utf-8"))
    (p,) = [p for p in answer["provenance"] if p["source"] == NOTE_FILE]
    (c,) = [c for c in answer["citations"] if c["n"] == p["n"]]
    text = open(made["note"], encoding="utf-8-sig").read()  # noqa: SIM115 - the README's snippet, as written
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == p["sha256"]
    assert text[p["char_start"] : p["char_end"]] == c["quote"]
    md = (made["root"] / "b.md").read_text(encoding="utf-8")
    assert f"· sha256 {p['sha256']} · chars {p['char_start']}–{p['char_end']}" in md


def test_usage_errors_name_the_file(made, tmp_path):
    home = made["home"]
    cases = {
        write(tmp_path, "plain.md", "# Notes\n\nNo provenance here.\n"): "no provenance found",
        write(tmp_path, "broken.docx", b"PK\x03\x04 not really a zip"): "not a valid .docx",
        write(tmp_path, "notes.txt", "text"): "unsupported file type .txt",
        write(tmp_path, "refused.json", json.dumps({"question": "q", "answer": "a", "refused": True,
                                                    "citations": []})): "no quotes to verify",
        write(tmp_path, "garbage.jsonl", "{not json\n"): "not JSON",
        tmp_path / "absent.md": "cannot read file",
    }
    for path, reason in cases.items():
        code, rows, stderr = verify(home, path)
        assert code == 2 and rows == [], path
        assert len(stderr.strip().splitlines()) == 1 and path.name in stderr and reason in stderr, stderr
    code, _, stderr = verify(home, made["root"] / "b.md", "--corpus", tmp_path / "nowhere")
    assert code == 2 and "nowhere: not a folder" in stderr

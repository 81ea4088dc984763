"""The eval suite: metric maths on hand-computed cases, dataset validation, the dev set's gold quotes,
SQuAD import, and ``verbatim eval`` end to end on a tiny SQuAD file (MiniLM: fast)."""

from __future__ import annotations

import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from verbatim_qa.cli import app
from verbatim_qa.evals.answers import answer_metrics, quote_hit
from verbatim_qa.evals.dataset import KINDS, DatasetError, EvalItem, gold_spans, load_items, read_corpus
from verbatim_qa.evals.metrics import (
    aggregate,
    mean,
    mrr_at,
    ndcg_at,
    overlaps,
    percentile,
    recall_at,
    retrieval_scores,
)
from verbatim_qa.evals.snapshot import differences
from verbatim_qa.evals.squad import import_squad

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "evals" / "datasets" / "dev.jsonl"
CORPUS = ROOT / "corpus"
MINILM = "st:all-MiniLM-L6-v2"
L3 = 1 / math.log2(3)  # discount at rank 2


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("VERBATIM_"):
            monkeypatch.delenv(name)


# ---------------------------------------------------------------- metrics
def test_recall_at_counts_each_gold_piece():
    one = [[False, True, False]]
    assert recall_at(one, 1) == 0.0 and recall_at(one, 2) == 1.0 and recall_at(one, 10) == 1.0
    multi = [[False, True, False, False], [False, False, False, True]]  # two gold pieces, found at ranks 2 and 4
    assert [recall_at(multi, k) for k in (1, 2, 3, 4)] == [0.0, 0.5, 0.5, 1.0]
    # one retrieved item covering both pieces counts both
    assert recall_at([[True, False], [True, False]], 1) == 1.0
    assert recall_at([], 5) == 0.0
    assert recall_at([[False, False, False]], 3) == 0.0


def test_mrr_at():
    assert mrr_at([True, False]) == 1.0
    assert mrr_at([False, False, True]) == pytest.approx(1 / 3)
    assert mrr_at([False, True, True]) == 0.5  # the first hit only
    assert mrr_at([False] * 3 + [True], k=3) == 0.0  # beyond the cutoff
    assert mrr_at([]) == 0.0


def test_ndcg_at():
    assert ndcg_at([True], 1) == 1.0
    assert ndcg_at([False, True], 1) == pytest.approx(L3)
    # two relevant pieces, hits at ranks 1 and 3: (1 + 1/log2(4)) / (1 + 1/log2(3))
    assert ndcg_at([True, False, True], 2) == pytest.approx(1.5 / (1 + L3))
    assert ndcg_at([True, True], 2) == pytest.approx(1.0)
    assert ndcg_at([False, False, True], 1, k=2) == 0.0
    assert ndcg_at([True], 0) == 0.0  # no relevant items: defined as 0, not a division error
    # ideal DCG is capped at k
    assert ndcg_at([True, True], 5, k=2) == pytest.approx(1.0)


def test_overlaps_is_half_open_and_per_document():
    assert overlaps(("a", 0, 6), ("a", 5, 10))
    assert not overlaps(("a", 0, 5), ("a", 5, 10))  # touching is not overlapping
    assert not overlaps(("a", 5, 10), ("a", 0, 5))
    assert overlaps(("a", 0, 100), ("a", 40, 41))  # containment
    assert overlaps(("a", 40, 41), ("a", 0, 100))
    assert not overlaps(("a", 0, 10), ("b", 0, 10))


def test_retrieval_scores_hand_computed():
    retrieved = [("a", 0, 10), ("b", 0, 10), ("a", 20, 30)]
    gold = [[("a", 25, 27)], [("b", 100, 110), ("b", 5, 6)]]  # piece 2 has two acceptable spans
    s = retrieval_scores(retrieved, gold, ks=(1, 2, 3))
    assert set(s) == {"recall@1", "recall@2", "recall@3", "mrr@10", "ndcg@10"}
    assert s["recall@1"] == 0.0 and s["recall@2"] == 0.5 and s["recall@3"] == 1.0
    assert s["mrr@10"] == 0.5
    assert s["ndcg@10"] == pytest.approx((L3 + 0.5) / (1 + L3))
    perfect = retrieval_scores([("a", 0, 5)], [[("a", 1, 2)]], ks=(1,))
    assert perfect == {"recall@1": 1.0, "mrr@10": 1.0, "ndcg@10": 1.0}
    miss = retrieval_scores([("a", 0, 5)], [[("a", 5, 9)]], ks=(1,))
    assert miss == {"recall@1": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
    nothing = retrieval_scores([], [[("a", 0, 1)]], ks=(1, 5))
    assert nothing["recall@5"] == 0.0 and nothing["mrr@10"] == 0.0


def test_snapshot_differences_ignore_path_ids_only():
    old = {"dev": [{"answer": "1,500", "citations": [{"doc_id": "a1", "quote": "q", "char_start": 3}]}]}
    moved_folder = {"dev": [{"answer": "1,500", "citations": [{"doc_id": "b2", "quote": "q", "char_start": 3}]}]}
    assert differences(old, moved_folder) == []
    moved_quote = {"dev": [{"answer": "1,500", "citations": [{"doc_id": "a1", "quote": "q", "char_start": 4}]}]}
    assert differences(old, moved_quote) == [".dev[0].citations[0].char_start: 3 -> 4"]
    assert differences(old, {"dev": []}) == [".dev: 1 items -> []"]


def test_aggregate_and_mean():
    rows = [{"recall@1": 1.0, "mrr@10": 1.0}, {"recall@1": 0.0, "mrr@10": 0.5}, {"recall@1": 0.5, "mrr@10": 0.0}]
    assert aggregate(rows) == pytest.approx({"recall@1": 0.5, "mrr@10": 0.5})
    assert aggregate([]) == {}
    assert mean([]) == 0.0 and mean([1.0, 2.0]) == 1.5


def test_percentile():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert percentile(values, 50) == pytest.approx(3.0)
    assert percentile(values, 95) == pytest.approx(4.8)  # linear interpolation: 4 + 0.8 * (5 - 4)
    assert percentile(values, 25) == pytest.approx(2.0)
    assert percentile(list(reversed(values)), 50) == pytest.approx(3.0)  # order does not matter
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) == 0.0
    assert percentile([10.0, 20.0], 50) == pytest.approx(15.0)


# ---------------------------------------------------------------- answer metrics
def test_quote_hit():
    gold = [[("a", 10, 20)], [("b", 0, 5), ("a", 100, 120)]]
    assert quote_hit([("a", 15, 30)], gold) == 0.5
    assert quote_hit([("a", 15, 30), ("a", 110, 111)], gold) == 1.0
    assert quote_hit([("b", 10, 20)], gold) == 0.0
    assert quote_hit([], gold) == 0.0
    assert quote_hit([("a", 0, 1)], []) == 0.0


def test_answer_metrics_on_plain_rows():
    rows = [
        {"answerable": True, "refused": False, "quote_hit": 1.0, "verbatim": [True, True], "ms": 10.0},
        {"answerable": True, "refused": False, "quote_hit": 0.5, "verbatim": [True], "ms": 20.0},
        {"answerable": True, "refused": True, "quote_hit": 0.0, "verbatim": [], "ms": 30.0},
        {"answerable": False, "refused": True, "quote_hit": None, "verbatim": [], "ms": 40.0},
        {"answerable": False, "refused": False, "quote_hit": None, "verbatim": [False], "ms": 50.0},
    ]
    m = answer_metrics(rows)
    assert m["quote_hit"] == pytest.approx(0.5)
    assert m["citation_verbatim_rate"] == pytest.approx(3 / 4) and m["citations"] == 4
    assert m["refusal_rate_unanswerable"] == pytest.approx(0.5)
    assert m["false_refusal_rate"] == pytest.approx(1 / 3)
    assert m["latency_p50_ms"] == pytest.approx(30.0)
    assert m["latency_p95_ms"] == pytest.approx(48.0)
    assert m["n_answerable"] == 3 and m["n_unanswerable"] == 2
    assert "answer_in_quotes" not in m

    rows[0]["answer_in_quotes"] = True
    rows[1]["answer_in_quotes"] = False
    rows[2]["answer_in_quotes"] = None
    assert answer_metrics(rows)["answer_in_quotes"] == pytest.approx(0.5)


def test_answer_metrics_edge_cases():
    only_answerable = [{"answerable": True, "refused": False, "quote_hit": 1.0, "verbatim": [], "ms": 5.0}]
    m = answer_metrics(only_answerable)
    assert math.isnan(m["refusal_rate_unanswerable"]) and m["false_refusal_rate"] == 0.0
    assert m["citation_verbatim_rate"] == 1.0 and m["citations"] == 0  # no citations: nothing unverified
    only_unanswerable = [{"answerable": False, "refused": True, "quote_hit": None, "verbatim": [], "ms": 5.0}]
    m = answer_metrics(only_unanswerable)
    assert math.isnan(m["false_refusal_rate"]) and m["refusal_rate_unanswerable"] == 1.0


# ---------------------------------------------------------------- dataset validation
GOOD = {"id": "x1", "question": "Q?", "lang": "en", "kind": "en-en", "answerable": True,
        "gold_quotes": ["The cat sat."], "quote_docs": ["a.txt"]}


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_load_items_reads_good_lines(tmp_path):
    unans = {**GOOD, "id": "x2", "kind": "unanswerable", "answerable": False, "gold_quotes": [], "quote_docs": [],
             "extra_field": "ignored"}
    items = load_items(write_jsonl(tmp_path / "d.jsonl", [GOOD, "", unans]))
    assert [it.id for it in items] == ["x1", "x2"]
    assert items[0].gold_quotes == ["The cat sat."] and items[1].answerable is False


@pytest.mark.parametrize("bad, why", [
    ({**GOOD, "kind": "en-de"}, "kind"),
    ({**GOOD, "quote_docs": ["a.txt", "b.txt"]}, "length"),
    ({**GOOD, "answerable": False}, "answerable"),
    ({**GOOD, "gold_quotes": [], "quote_docs": []}, "answerable"),
    ({k: v for k, v in GOOD.items() if k != "question"}, "question"),
    ("{not json", ""),
])
def test_load_items_rejects_bad_line_naming_it(tmp_path, bad, why):
    path = write_jsonl(tmp_path / "bad.jsonl", [GOOD, "", bad, GOOD])  # the bad record is on line 3
    with pytest.raises(DatasetError) as exc:
        load_items(path)
    msg = str(exc.value)
    assert "bad.jsonl:3:" in msg
    assert why in msg


def test_gold_spans_finds_every_occurrence_and_rejects_non_verbatim():
    texts = {"a.txt": "The cat sat. The dog ran. The cat sat.", "b.txt": "Other."}
    item = EvalItem("x", "Q?", "en", "multi", True, ["The cat sat.", "dog ran"], ["a.txt", "a.txt"])
    assert gold_spans(item, texts) == [[("a.txt", 0, 12), ("a.txt", 26, 38)], [("a.txt", 17, 24)]]
    bad = EvalItem("y", "Q?", "en", "en-en", True, ["The cat  sat."], ["a.txt"])  # two spaces: not verbatim
    with pytest.raises(DatasetError, match="not verbatim"):
        gold_spans(bad, texts)
    wrong_doc = EvalItem("z", "Q?", "en", "en-en", True, ["The cat sat."], ["b.txt"])
    with pytest.raises(DatasetError, match="z"):
        gold_spans(wrong_doc, texts)
    missing = EvalItem("w", "Q?", "en", "en-en", True, ["The cat sat."], ["nope.txt"])
    with pytest.raises(DatasetError, match="nope.txt"):
        gold_spans(missing, texts)


# ---------------------------------------------------------------- the dev set
def test_dev_set_gold_quotes_are_verbatim_in_the_corpus():
    items = load_items(DEV)
    texts = read_corpus(CORPUS)
    for it in items:
        if not it.answerable:
            assert it.gold_quotes == [] and it.quote_docs == []
            continue
        spans = gold_spans(it, texts)  # raises on any non-verbatim quote
        assert len(spans) == len(it.gold_quotes)
        for quote, pieces in zip(it.gold_quotes, spans):
            assert quote.strip() == quote and len(quote) >= 20, it.id
            assert all(texts[src][s:e] == quote for src, s, e in pieces)


def test_dev_set_shape():
    items = load_items(DEV)
    assert len(items) >= 60
    assert {it.kind for it in items} == KINDS
    assert len({it.id for it in items}) == len(items)  # ids are unique
    from verbatim_qa.text.lang import detect_lang

    for it in items:
        assert it.lang == detect_lang(it.question), it.id
        if it.kind == "en-fa":
            assert it.lang == "en" and all(detect_lang(q) == "fa" for q in it.gold_quotes), it.id
        if it.kind == "fa-fa":
            assert it.lang == "fa" and all(detect_lang(q) == "fa" for q in it.gold_quotes), it.id
        if it.kind == "en-en":
            assert it.lang == "en" and all(detect_lang(q) == "en" for q in it.gold_quotes), it.id
        if it.kind == "multi":
            assert len(it.gold_quotes) >= 2, it.id
        assert it.answerable == (it.kind != "unanswerable"), it.id


FOLLOWUPS = ROOT / "evals" / "datasets" / "followup_dev.jsonl"


def test_followup_set_shape_and_gold():
    from verbatim_qa.evals.dataset import TURNS

    items = load_items(FOLLOWUPS)
    texts = read_corpus(CORPUS)
    assert len(items) >= 30 and {it.turn for it in items} == TURNS and len({it.id for it in items}) == len(items)
    for it in items:
        assert it.history and it.answerable and len(gold_spans(it, texts)) == len(it.gold_quotes), it.id
    assert sum(it.turn == "shift" for it in items) >= 8  # enough topic shifts to see a harm


@pytest.mark.parametrize("bad, why", [({"turn": "sideways"}, "turn 'sideways'"), ({"history": []}, "needs its history"),
                                      ({"history": [""]}, "non-empty strings")])
def test_followup_items_are_validated(tmp_path, bad, why):
    path = write_jsonl(tmp_path / "f.jsonl", [{**GOOD, "turn": "pronoun", "history": ["Q0?"], **bad}])
    with pytest.raises(DatasetError, match=why):
        load_items(path)


def test_eval_followups_missing_file_is_a_usage_error(tmp_path):
    result = run_cli(["eval", "--followups", tmp_path / "missing.jsonl", "--out", tmp_path / "out"], tmp_path)
    assert result.exit_code == 2 and "missing.jsonl" in one_string(result.stderr)


# ---------------------------------------------------------------- SQuAD import
EN_CTX = "The Amu Darya flows into the Aral Sea. It is about 2,400 km long. Cotton farms along the river use its water."
FA_CTX = ("دریاچه خزر بزرگ\u200cترین دریاچه جهان است. مساحت آن حدود ۳۷۱ هزار کیلومتر مربع است. "
          "پنج کشور در کرانه آن قرار دارند.")


def squad_file(path: Path) -> Path:
    data = {"version": "v2.0", "data": [
        {"title": "Rivers", "paragraphs": [{"context": EN_CTX, "qas": [
            {"id": "en-1", "question": "How long is the Amu Darya?", "is_impossible": False,
             "answers": [{"text": "about 2,400 km", "answer_start": EN_CTX.index("about 2,400 km")}]},
            {"id": "en-2", "question": "Who owns the fishing fleet on the Aral Sea?", "is_impossible": True,
             "answers": []},
            {"id": "en-bad", "question": "Where does the river end?", "is_impossible": False,
             "answers": [{"text": "Aral Sea", "answer_start": len(EN_CTX) + 50}]},
        ]}]},
        {"title": "دریاچه", "paragraphs": [{"context": FA_CTX, "qas": [
            {"id": "fa-1", "question": "مساحت دریاچه خزر چقدر است؟", "is_impossible": False,
             "answers": [{"text": "۳۷۱ هزار کیلومتر مربع", "answer_start": FA_CTX.index("۳۷۱ هزار")}]},
            {"id": "fa-2", "question": "How many countries border the Caspian Sea?",
             "answers": [{"text": "پنج", "answer_start": FA_CTX.index("پنج")}]},
            {"id": "fa-3", "question": "عمق دریاچه خزر در قرن نوزدهم چقدر بود؟", "is_impossible": True,
             "answers": []},
        ]}]},
    ]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_import_squad_builds_corpus_and_items(tmp_path):
    out = tmp_path / "corpus"
    items = import_squad(squad_file(tmp_path / "tiny.json"), out)
    assert sorted(p.name for p in out.iterdir()) == ["p0001.txt", "p0002.txt"]
    assert (out / "p0001.txt").read_text(encoding="utf-8") == EN_CTX
    assert (out / "p0002.txt").read_text(encoding="utf-8") == FA_CTX
    by_id = {it.id: it for it in items}
    assert set(by_id) == {"en-1", "en-2", "fa-1", "fa-2", "fa-3"}  # en-bad: answer outside the text, dropped

    en1 = by_id["en-1"]
    assert (en1.kind, en1.lang, en1.answerable) == ("en-en", "en", True)
    assert en1.gold_quotes == ["It is about 2,400 km long."] and en1.quote_docs == ["p0001.txt"]
    assert en1.answers == ["about 2,400 km"]

    fa1 = by_id["fa-1"]
    assert (fa1.kind, fa1.lang, fa1.answerable) == ("fa-fa", "fa", True)
    assert fa1.gold_quotes == ["مساحت آن حدود ۳۷۱ هزار کیلومتر مربع است."] and fa1.quote_docs == ["p0002.txt"]

    fa2 = by_id["fa-2"]  # English question, Persian paragraph
    assert (fa2.kind, fa2.lang) == ("en-fa", "en")
    assert fa2.gold_quotes == ["پنج کشور در کرانه آن قرار دارند."]

    for iid in ("en-2", "fa-3"):
        it = by_id[iid]
        assert (it.kind, it.answerable, it.gold_quotes, it.quote_docs) == ("unanswerable", False, [], [])
    assert by_id["fa-3"].lang == "fa"

    # the gold quotes are verbatim in the documents as Verbatim loads them
    texts = read_corpus(out)
    for it in items:
        if it.answerable:
            assert gold_spans(it, texts)


def test_import_squad_limit(tmp_path):
    out = tmp_path / "corpus"
    items = import_squad(squad_file(tmp_path / "tiny.json"), out, limit_paragraphs=1)
    assert [p.name for p in out.iterdir()] == ["p0001.txt"]
    assert {it.id for it in items} == {"en-1", "en-2"}


# ---------------------------------------------------------------- verbatim eval end to end
def run_cli(args: list, tmp_path: Path):
    env = {name: None for name in os.environ if name.startswith("VERBATIM_")}  # only what the test sets
    env.update(VERBATIM_EMBEDDER=MINILM, VERBATIM_HOME=str(tmp_path / "user-home"))
    with private_tempdir(tmp_path / "tmp"):  # what the command leaves in the temp folder stays in tmp_path
        result = CliRunner().invoke(app, [str(a) for a in args], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def one_string(stderr: str) -> str:
    """Rich wraps long error lines at the console width: undo that before looking for a path."""
    return stderr.replace("\n", "")


@contextmanager
def private_tempdir(folder: Path):
    """Point ``tempfile`` at ``folder`` so what a command leaves behind in the temp folder can be seen."""
    folder.mkdir(parents=True, exist_ok=True)
    before = tempfile.tempdir
    tempfile.tempdir = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = before


@pytest.fixture(scope="module")
def squad_eval(tmp_path_factory):
    """One ``verbatim eval --squad`` run (MiniLM), shared by the tests below."""
    root = tmp_path_factory.mktemp("squad-eval")
    squad = squad_file(root / "tiny.json")
    out = root / "out"
    result = run_cli(["eval", "--squad", squad, "--systems", "bm25,verbatim", "--out", out], root)
    return result, out, root, root / "tmp"


@pytest.mark.integration
def test_eval_squad_end_to_end(squad_eval):
    result, out, root, _ = squad_eval
    assert result.exit_code == 0, result.stderr
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| bm25 |" in report and "| verbatim |" in report
    assert "tiny.json" in report and "Answers:" in report
    assert report in result.stdout

    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert res["items"] == 5 and res["answerable"] == 3
    assert list(res["systems"]) == ["bm25", "verbatim"]
    for name, s in res["systems"].items():
        per_item = s["per_item"]
        assert [r["id"] for r in per_item] == ["en-1", "fa-1", "fa-2"], name
        for r in per_item:
            assert set(r["scores"]) >= {"recall@1", "recall@5", "mrr@10", "ndcg@10"}
            assert all(0.0 <= v <= 1.0 for v in r["scores"].values())
            assert all(src in ("p0001.txt", "p0002.txt") for src, _, _ in r["retrieved"])
        assert set(s["by_kind"]) == {"en-en", "fa-fa", "en-fa"}
    # two one-chunk documents: dense retrieval always returns both, so the gold is in the top 10
    assert res["systems"]["verbatim"]["overall"]["recall@10"] == 1.0
    # BM25 finds the Persian sentence for the Persian question
    fa1 = next(r for r in res["systems"]["bm25"]["per_item"] if r["id"] == "fa-1")
    assert fa1["scores"]["recall@1"] == 1.0

    answers = res["answers"]
    assert [r["id"] for r in answers["per_item"]] == ["en-1", "en-2", "fa-1", "fa-2", "fa-3"]
    assert answers["citation_verbatim_rate"] == 1.0
    assert answers["n_answerable"] == 3 and answers["n_unanswerable"] == 2

    png = (out / "recall_at_k.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    assert not (root / "user-home").exists()  # the user's index is left alone


@pytest.mark.integration
def test_eval_cleans_up_its_temporary_index(squad_eval):
    """The hermetic run ingests into a temporary folder; it should not stay behind after the run."""
    result, _, _, tmp = squad_eval
    assert result.exit_code == 0
    left = sorted(p.name for p in tmp.iterdir() if p.name.startswith("verbatim-"))  # not torch's own caches
    assert left == [], f"left in the temp folder: {[sorted(q.name for q in (tmp / n).iterdir()) for n in left]}"


def test_eval_rejects_unknown_system(tmp_path):
    result = run_cli(["eval", "--squad", squad_file(tmp_path / "tiny.json"), "--systems", "bm25,bogus",
                      "--out", tmp_path / "out"], tmp_path)
    assert result.exit_code == 2
    assert "bogus" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", [
    ["--dataset", "missing.jsonl", "--corpus", "."],
    ["--squad", "missing.json"],
])
def test_eval_missing_dataset_is_a_usage_error(tmp_path, args):
    result = run_cli(["eval", *[tmp_path / a if a.startswith("missing") else a for a in args],
                      "--out", tmp_path / "out"], tmp_path)
    assert result.exit_code == 2
    assert "missing.json" in one_string(result.stderr)
    assert not (tmp_path / "out").exists()


def test_eval_invalid_dataset_is_a_usage_error_naming_the_line(tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", [GOOD, {**GOOD, "kind": "xx"}])
    result = run_cli(["eval", "--dataset", bad, "--corpus", tmp_path, "--out", tmp_path / "out"], tmp_path)
    assert result.exit_code == 2
    assert "bad.jsonl:2:" in one_string(result.stderr) and "'xx'" in one_string(result.stderr)


# ---------------------------------------------------------------- one file's questions over another's paragraphs
def questions_file(path: Path) -> Path:
    """The tiny file's questions in German, same ids (as XQuAD's languages share theirs)."""
    data = {"data": [{"title": "Flüsse", "paragraphs": [{"context": "-", "qas": [
        {"id": "en-1", "question": "Wie lang ist der Amudarja ungefähr?", "answers": []},
        {"id": "fa-1", "question": "Wie groß ist die Fläche des Kaspischen Meeres?", "answers": []},
    ]}]}]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_swap_questions_keeps_gold_and_names_the_pair(tmp_path):
    from verbatim_qa.evals.squad import swap_questions

    items = import_squad(squad_file(tmp_path / "tiny.json"), tmp_path / "corpus")
    swapped = {it.id: it for it in swap_questions(items, questions_file(tmp_path / "de.json"))}
    assert set(swapped) == {"en-1", "fa-1"}  # ids without a question there are left out
    assert (swapped["en-1"].lang, swapped["en-1"].kind) == ("de", "de-en")
    assert (swapped["fa-1"].lang, swapped["fa-1"].kind) == ("de", "de-fa")
    original = {it.id: it for it in items}
    assert swapped["en-1"].gold_quotes == original["en-1"].gold_quotes and swapped["en-1"].answers


@pytest.mark.integration
def test_eval_questions_from_reports_per_pair(tmp_path):
    out = tmp_path / "out"
    result = run_cli(["eval", "--squad", squad_file(tmp_path / "tiny.json"), "--questions-from",
                      questions_file(tmp_path / "de.json"), "--systems", "bm25,verbatim", "--out", out], tmp_path)
    assert result.exit_code == 0, result.stderr
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert set(res["systems"]["verbatim"]["by_kind"]) == {"de-en", "de-fa"}
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "de.json" in report and "Answers per kind (language pair):" in report and "| de-fa |" in report


def test_questions_from_needs_squad(tmp_path):
    result = run_cli(["eval", "--questions-from", questions_file(tmp_path / "de.json"), "--out", tmp_path / "o"],
                     tmp_path)
    assert result.exit_code == 2 and "--squad" in one_string(result.stderr)

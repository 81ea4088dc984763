"""The public sets over real documents (evals/datasets/real_*.jsonl over evals/realdocs/) and how their gold
quotes are found in a text that may have been extracted differently (evals/dataset.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from verbatim_qa.evals.dataset import DatasetError, EvalItem, gold_spans, load_items, locate, resolve_doc
from verbatim_qa.text.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "evals" / "realdocs"
SETS = {  # set -> (text versions, PDFs, minimum answerable per kind, minimum unanswerable)
    "real_manuals": ("manuals-text", "manuals", {"en-en": 25}, 8),
    "real_persian": ("persian-text", "persian", {"en-fa": 25, "fa-fa": 8}, 8),
}
PREFIX = {"en-en": "en-en-", "en-fa": "en-fa-", "fa-fa": "fa-fa-", "unanswerable": "unans-"}


def texts_of(folder: str) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((REAL / folder).iterdir())}


@pytest.mark.parametrize("name", sorted(SETS))
def test_real_set_shape(name):
    text_dir, pdf_dir, minimum, min_unanswerable = SETS[name]
    path = ROOT / "evals" / "datasets" / f"{name}.jsonl"
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    items = load_items(path)
    assert len({it.id for it in items}) == len(items)
    kinds = Counter(it.kind for it in items)
    assert all(kinds[k] >= n for k, n in minimum.items()), kinds
    assert kinds["unanswerable"] >= min_unanswerable
    assert set(kinds) == {*minimum, "unanswerable"}
    pdfs = {p.name for p in (REAL / pdf_dir).iterdir()}
    for r, it in zip(raw, items):
        assert set(r) == {"id", "question", "lang", "kind", "answerable", "gold_quotes", "quote_docs", "quote_from",
                          "answers"}, it.id
        assert it.id.startswith(PREFIX[it.kind]) and it.question.strip()
        assert it.lang == ("fa" if it.kind == "fa-fa" else "en") or it.kind == "unanswerable"
        if it.answerable:
            assert len(it.gold_quotes) == len(it.quote_from) == 1 and set(it.quote_docs) <= pdfs, it.id
            assert all("\n\n" not in q for q in it.gold_quotes)
            assert it.answers and all(normalize(a) in normalize(it.gold_quotes[0]) for a in it.answers), it.id
        else:
            assert not (it.gold_quotes or it.quote_docs or it.quote_from or it.answers)


@pytest.mark.parametrize("name", sorted(SETS))
def test_real_set_quotes_are_in_the_documents_text(name):
    """Every gold quote is found in the committed text version; one copied from pdftotext's text verbatim."""
    items = [it for it in load_items(ROOT / "evals" / "datasets" / f"{name}.jsonl") if it.answerable]
    texts = texts_of(SETS[name][0])
    for it in items:
        spans = gold_spans(it, texts)
        assert all(spans), it.id
        for quote, origin, name_ in zip(it.gold_quotes, it.quote_from, it.quote_docs):
            if origin == "pdftotext":
                assert quote in texts[resolve_doc(name_, texts)], it.id


def test_locate_is_exact_first_then_by_letters_and_digits():
    text = "It uses TEX. LATEX was origi-nally written by Leslie\nLamport [1]. Then LATEX was originally x"
    assert locate("LATEX was originally x", text) == [(len(text) - 22, len(text))]
    start = text.index("LATEX was origi")
    assert locate("LATEX was originally written by Leslie Lamport [1].", text) == [(start, text.index("1]") + 1)]
    # presentation forms and a Persian quote copied with other spaces, digits and punctuation order
    persian = "ﭘﺮوژه ‪ TEX‬در ﺳﺎل ‪١٩٧٨‬در داﻧﺸﮕﺎه ﺷﺮوع"
    assert locate("در سال ۱۹۷۸ در دانشگاه", persian) == [(persian.index("در ﺳﺎل"), persian.index(" ﺷﺮوع"))]
    assert locate("است. خروجی", "لاتک دارای بهترین خروجی است .خروجی آن") == [(24, 34)]
    assert locate("not in it", text) == [] and locate("...", text) == []


def test_gold_spans_tolerant_for_sets_that_name_their_quotes_origin():
    texts = {"book.txt": "Knuth started writing the TEX type-setting engine in 1977."}
    tolerant = EvalItem("a", "q", "en", "en-en", True, ["the TEX typesetting engine", "nowhere at all"],
                        ["book.pdf", "book.pdf"], quote_from=["verbatim", "pdftotext"])
    assert gold_spans(tolerant, texts) == [[("book.txt", 22, 49)], []]  # by stem; a lost quote is [], not an error
    assert gold_spans(tolerant, {"other.txt": "x"}) == [[], []]
    strict = EvalItem("b", "q", "en", "en-en", True, ["the TEX typesetting engine"], ["book.txt"])
    with pytest.raises(DatasetError, match="not verbatim"):
        gold_spans(strict, texts)
    assert resolve_doc("book.pdf", {"book.txt": "", "book.md": ""}) is None  # two candidates: none


def test_quote_from_is_validated(tmp_path):
    line = {"id": "en-en-1", "question": "q", "lang": "en", "kind": "en-en", "answerable": True,
            "gold_quotes": ["x"], "quote_docs": ["a.pdf"], "quote_from": ["ocr"]}
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(line), encoding="utf-8")
    with pytest.raises(DatasetError, match="quote_from"):
        load_items(path)

"""Extractive answers over the real corpus (e5, session fixture): the answer contract, verbatim quotes,
honest refusals, the streaming chain and the Markdown rendering."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from verbatim_qa.contract import ANSWER_KEYS, CITATION_KEYS, RETRIEVED_KEYS, SPAN_KEYS
from verbatim_qa.evals.dataset import load_items, read_corpus
from verbatim_qa.qa.answer import REFUSAL, Answer
from verbatim_qa.qa.chain import build_answerer, build_chain
from verbatim_qa.qa.events import Done, Retrieved
from verbatim_qa.qa.render import to_markdown
from verbatim_qa.text.lang import detect_lang
from verbatim_qa.text.markdown import escape_html

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
ITEMS = {it.id: it for it in load_items(ROOT / "evals" / "datasets" / "dev.jsonl")}
TEXTS = read_corpus(ROOT / "corpus")
ARTICLE = "why-china-leans-hard-on-central-asia.txt"
PAPER = "china-central-asia-ai-rezapour-2024.md"

ANSWERED = ["en-en-01", "en-fa-19", "en-fa-06", "fa-fa-01", "multi-01"]
OFF_TOPIC = ["How do I bake sourdough bread?", "Who won the 2018 FIFA World Cup final?"]

HEADERS = ("The evidence is in Persian; quoted verbatim, not translated:",
           "Part of the evidence is in Persian; quoted verbatim, not translated:")


@pytest.fixture(scope="module")
def answers(bot) -> dict[str, Answer]:
    return {iid: bot.answer(ITEMS[iid].question) for iid in ANSWERED}


def preamble(answer: Answer) -> list[str]:
    """The lines the answerer may write above the quotes: the key fact in bold (with its reading) and the caveat."""
    lines = []
    if answer.answer_span is not None:
        s = answer.answer_span
        lines.append(f"**{s.text}**" + (f" (reading: {s.reading})" if s.reading else ""))
    if answer.caveat:
        lines.append(answer.caveat)
    return lines


def residue(answer: Answer) -> str:
    """The answer text with the preamble and every “quote” [n] of its citations taken out: what else the
    answerer wrote itself (at most the language note)."""
    text = answer.answer
    for line in preamble(answer):
        assert text.startswith(line + "\n\n"), f"the answer does not open with {line!r}"
        text = text[len(line) + 2 :]
    for c in answer.citations:
        piece = f"“{c.quote}” [{c.n}]"
        assert text.count(piece) == 1, f"citation {c.n} is not quoted exactly once"
        text = text.replace(piece, "")
    return text.strip()


def body_lines(answer: Answer) -> list[str]:
    """The answer's lines after the preamble."""
    return [ln for ln in answer.answer.split("\n\n")[len(preamble(answer)) :]]


# ---------------------------------------------------------------- quotes are verbatim, markers match
@pytest.mark.parametrize("item_id", ANSWERED)
def test_answer_quotes_are_exact_spans(answers, item_id):
    a = answers[item_id]
    assert not a.refused, a.answer
    assert 1 <= len(a.citations) <= 3
    for c in a.citations:
        assert c.quote and c.quote == TEXTS[c.source][c.char_start : c.char_end]
        assert c.quote == c.quote.strip()
        # every quote comes from a retrieved chunk, and carries that chunk's metadata
        holder = [r.chunk for r in a.retrieved
                  if r.chunk.source == c.source and r.chunk.char_start <= c.char_start < c.char_end <= r.chunk.char_end]
        assert holder, f"citation {c.n} is outside every retrieved chunk"
        assert (c.section, c.title, c.page) == (holder[0].section, holder[0].title, holder[0].page)
    spans = [(c.source, c.char_start, c.char_end) for c in a.citations]
    assert len(set(spans)) == len(spans)


@pytest.mark.parametrize("item_id", ANSWERED)
def test_markers_match_citation_numbers(answers, item_id):
    a = answers[item_id]
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", a.answer)]
    numbers = [c.n for c in a.citations]
    assert numbers == list(range(1, len(a.citations) + 1))
    assert sorted(markers) == numbers  # each citation marked exactly once, no stray markers


@pytest.mark.parametrize("item_id", ANSWERED)
def test_answer_text_is_only_quotes_and_a_language_note(answers, item_id):
    a = answers[item_id]
    left = residue(a)
    assert left in ("", *HEADERS), f"text outside the quotes: {left!r}"


def test_gold_evidence_is_quoted(answers):
    """The answer quotes the gold sentence for questions where retrieval ranks it first."""
    for item_id in ("en-en-01", "en-fa-19", "fa-fa-01"):
        gold = ITEMS[item_id].gold_quotes[0]
        assert any(gold in c.quote for c in answers[item_id].citations), item_id


def test_english_question_answered_from_persian_says_so_and_does_not_translate(answers):
    a = answers["en-fa-19"]  # arms imports: 1.5% -> 18%, only in the Persian body
    assert body_lines(a)[0] == HEADERS[0]
    assert all(c.source == PAPER and detect_lang(c.quote) == "fa" for c in a.citations)
    assert any("۱۸ درصد" in c.quote for c in a.citations)
    # every string between “ and ” is a citation's quote (Persian quotes hold no curly quotes themselves)
    quoted = re.findall(r"“([^“”]*)”", a.answer)
    assert quoted == [c.quote for c in a.citations]
    assert residue(a) == HEADERS[0]


def test_mixed_language_evidence_is_flagged(answers):
    a = answers["multi-01"]  # 41%/53% (English article) and ~40%/half (Persian paper)
    langs = {detect_lang(c.quote) for c in a.citations}
    assert langs == {"en", "fa"}
    assert body_lines(a)[0] == HEADERS[1]


def test_english_answer_from_english_has_no_language_note(answers):
    a = answers["en-en-01"]
    assert all(detect_lang(c.quote) == "en" for c in a.citations)
    assert not any(h in a.answer for h in HEADERS)
    assert residue(a) == ""


def test_persian_question_has_no_language_note(answers):
    a = answers["fa-fa-01"]
    assert not any(h in a.answer for h in HEADERS)


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_question_is_refused(bot, question):
    a = bot.answer(question)
    assert a.refused is True
    assert a.citations == []
    assert a.answer.startswith(REFUSAL)
    assert "Nearest passages:" in a.answer
    assert len(a.retrieved) == bot.settings.retrieval.top_k
    for r in a.retrieved[:3]:
        assert r.chunk.source in a.answer
        if r.chunk.section:
            assert f"({r.chunk.section})" in a.answer
    assert "“" not in a.answer and not re.search(r"\[\d+\]", a.answer)
    d = a.to_dict()
    assert d["refused"] is True and d["citations"] == [] and len(d["retrieved"]) == bot.settings.retrieval.top_k


def test_refusal_with_nothing_retrieved_names_no_passages(bot):
    a = bot.answer_from(bot.analyze("How do I bake sourdough bread?"), [])
    assert a.refused and a.answer == REFUSAL and a.citations == [] and a.retrieved == []


# ---------------------------------------------------------------- the JSON contract
@pytest.mark.parametrize("k", [5, 3])
def test_to_dict_contract(bot, corpus_store, k):
    a = bot.answer(ITEMS["en-fa-06"].question, k=k)
    d = a.to_dict()
    assert set(d) == ANSWER_KEYS
    assert d["caveat"] is None or isinstance(d["caveat"], str)
    if d["answer_span"] is not None:
        sp = d["answer_span"]
        assert set(sp) == SPAN_KEYS and sp["text"] == TEXTS[sp["source"]][sp["char_start"] : sp["char_end"]]
    assert d["question"] == ITEMS["en-fa-06"].question
    assert isinstance(d["answer"], str) and d["refused"] is False
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d
    for n, c in enumerate(d["citations"], 1):
        assert set(c) == CITATION_KEYS
        assert c["n"] == n
        assert c["quote"] == TEXTS[c["source"]][c["char_start"] : c["char_end"]]
        assert c["page"] is None  # .md and .txt have no pages
        assert isinstance(c["title"], str) and c["title"]
    assert len(d["retrieved"]) == k
    ranked = a.retrieved
    for r, row in zip(ranked, d["retrieved"]):
        assert set(row) == RETRIEVED_KEYS
        assert row["text"] == TEXTS[row["source"]][row["char_start"] : row["char_end"]]
        assert (row["source"], row["char_start"], row["char_end"]) == (r.chunk.source, r.chunk.char_start,
                                                                        r.chunk.char_end)
    scores = [row["score"] for row in d["retrieved"]]
    assert scores == sorted(scores, reverse=True)
    same = bot.retriever.retrieve(bot.analyze(ITEMS["en-fa-06"].question), k)
    assert [(r.chunk.source, r.chunk.char_start) for r in same] == [(row["source"], row["char_start"])
                                                                    for row in d["retrieved"]]


# ---------------------------------------------------------------- streaming chain
def test_chain_sends_an_extractive_answer_as_one_event(bot):
    question = ITEMS["en-fa-19"].question
    events = list(build_chain(bot).stream({"question": question}))
    assert [type(e) for e in events] == [Retrieved, Done]  # no model text to stream: the answer comes whole
    final: Answer = events[-1].answer
    assert not final.refused and final.citations
    assert [r.chunk.chunk_id for r in events[0].retrieved] == [r.chunk.chunk_id for r in final.retrieved]
    direct = bot.answer(question)
    assert final.answer == direct.answer and final.citations == direct.citations
    assert events[-1].to_dict() == {"type": "answer", "answer": direct.to_dict()}


def test_chain_passes_k_and_sources(bot):
    events = list(build_chain(bot).stream({"question": ITEMS["en-fa-19"].question, "k": 3, "sources": [ARTICLE]}))
    final: Answer = events[-1].answer
    assert len(final.retrieved) == 3 and {r.chunk.source for r in final.retrieved} == {ARTICLE}
    assert all(c.source == ARTICLE for c in final.citations)


def test_chain_streams_a_refusal(bot):
    events = list(build_chain(bot).stream({"question": OFF_TOPIC[0]}))
    assert [type(e) for e in events] == [Retrieved, Done] and events[-1].answer.refused


# ---------------------------------------------------------------- Markdown
@pytest.mark.parametrize("item_id", ["en-fa-19", "multi-01"])
def test_markdown_footnotes_match_citations(answers, item_id):
    a = answers[item_id]
    md = to_markdown(a)
    assert md.startswith(f"**Q:** {a.question}\n")
    notes = dict(re.findall(r"^\[\^(\d+)\]: (.*)$", md, re.M))
    assert sorted(int(n) for n in notes) == [c.n for c in a.citations]
    body = md.split("\n[^1]: ")[0]
    refs = re.findall(r"\[\^(\d+)\](?!:)", body)
    assert sorted(int(n) for n in refs) == [c.n for c in a.citations]
    assert not re.search(r"(?<!\^)\[\d+\]", md)  # no bare [n] markers left
    for c in a.citations:
        note = notes[str(c.n)]
        assert f"“{escape_html(' '.join(c.quote.split()))}”" in note  # a quote's "<sup>" shown, not run
        assert c.source in note and f"chars {c.char_start}–{c.char_end}" in note
    assert to_markdown(a, heading=False).startswith(escape_html(a.answer.splitlines()[0].replace("[1]", "[^1]")))


def test_markdown_of_a_refusal_has_no_footnotes(bot):
    md = to_markdown(bot.answer(OFF_TOPIC[0]))
    assert REFUSAL in md and "[^" not in md


# ---------------------------------------------------------------- ordinals and documents
def test_ordinal_question_quotes_that_list_item(bot, monkeypatch):
    """The paper lists Beijing's three goals as "۱. … ۲. … ۳. …" after a header sentence that the encoder
    prefers for every one of them; the ordinal picks the item."""
    q = "هدف دوم پکن از حمایت از هوشمندسازی در آسیای مرکزی چیست؟"
    first = bot.answer(q).citations[0].quote
    assert first.startswith("روزآمد کردن صنایع سنتی")
    monkeypatch.setattr(bot, "settings", bot.settings.with_(w_answer_ordinal=0.0))
    assert not bot.answer(q).citations[0].quote.startswith("روزآمد کردن صنایع سنتی")


def test_question_spanning_both_documents_quotes_both(bot, monkeypatch):
    q = "Who paid for the Huawei safe city cameras in Dushanbe, and in which year were they put up?"
    cited = bot.answer(q).citations
    assert {c.source for c in cited} == {ARTICLE, PAPER}
    assert any("۲۰۱۳" in c.quote for c in cited if c.source == PAPER)  # the year is only in the Persian body
    monkeypatch.setattr(bot, "settings", bot.settings.with_(doc_margin=0.0))
    assert {c.source for c in bot.answer(q).citations} == {ARTICLE}


def test_a_question_is_analysed_and_encoded_once(corpus_store):
    """Retrieval and the answer read one Query: the question goes through e5 once (words of the term bridge may
    add calls of their own), and the answer equals the one built from the same Query by hand."""
    from verbatim_qa.qa.chain import answer_events
    from verbatim_qa.qa.retriever import HybridRetriever

    calls: list[list[str]] = []
    real = corpus_store.embedder

    class Counting:
        name, dim = real.name, real.dim

        def encode_queries(self, texts):
            calls.append(list(texts))
            return real.encode_queries(texts)

    retriever = HybridRetriever.from_store(corpus_store)
    bot = build_answerer(corpus_store.settings.with_(llm_base_url=""), corpus_store, "extractive", retriever)
    question = ITEMS["en-fa-06"].question
    saved, corpus_store._embedder = corpus_store._embedder, Counting()
    try:
        events = list(answer_events(bot, question))
    finally:
        corpus_store._embedder = saved
    assert [c for c in calls if question in c] == [[question]]
    query = retriever.analyzer.analyze(question)
    assert query.lang == "en" and query.translation and query.content_terms
    assert events[-1].answer.to_dict() == bot.answer_from(query, retriever.retrieve(query)).to_dict()

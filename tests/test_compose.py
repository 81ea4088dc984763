"""qa/compose.py alone: sentences picked by hand (Chunks, Sentences, Candidates, small numpy vectors, no model)
become the answer value: quotes of neighbouring sentences joined, the key fact, the caveat, the language note."""

from __future__ import annotations

import re

import numpy as np

from verbatim_qa.qa.answer import REFUSAL, Answer
from verbatim_qa.qa.answertype import expected_type
from verbatim_qa.qa.compose import compose, language_note, quote_groups, refusal
from verbatim_qa.qa.extractive import Candidate, select, typed_value
from verbatim_qa.qa.query import Query
from verbatim_qa.settings import Settings
from verbatim_qa.text.normalize import tokenize
from verbatim_qa.types import Chunk, ScoredChunk, Sentence

CITY = ("Surveillance grew fast in the region. The city of Almaty installed 1,200 cameras in 2019. "
        "Police watch them from a control room. The pipeline carries 1,800 tonnes of oil a day.")
PERSIAN = "چین در سال ۲۰۱۳ دوربین‌ها را در دوشنبه نصب کرد. این طرح را هواوی اجرا کرد."


def chunk(text: str, lang: str = "en", chunk_id: str = "c1", doc_id: str = "d1", source: str = "a.txt",
          start: int = 0) -> Chunk:
    """A chunk whose sentences are split at full stops (offsets absolute: the chunk starts at ``start``)."""
    sents = tuple(Sentence(start + m.start(), start + m.end(), m.group()) for m in re.finditer(r"[^.\s][^.]*\.", text))
    return Chunk(chunk_id, doc_id, source, "Title", "Section", None, start, start + len(text), text, lang, sents)


def query(text: str, lang: str = "en", translation: str = "") -> Query:
    return Query(text, lang, np.array([1.0, 0.0]), tuple(tokenize(text)), translation=translation,
                 answer_type=expected_type(text, lang))


def cand(c: Chunk, i: int, score: float) -> Candidate:
    return Candidate(c, i, c.sentences[i], np.array([1.0, 0.0]), score, False, 0.5, False, 0.5, score=score)


def answer(q: str, picks: list[Candidate], unmatched: tuple[str, ...] = (), lang: str = "en",
           translation: str = "") -> Answer:
    chunks = list(dict.fromkeys(p.chunk for p in picks))
    return compose(query(q, lang, translation), picks, [ScoredChunk(c, 1.0) for c in chunks], Settings(), unmatched)


# ---- quotes ---------------------------------------------------------------------------------------------------
def test_neighbouring_sentences_of_a_chunk_become_one_quote():
    c = chunk(CITY)
    a = answer("Who watches the cameras?", [cand(c, 2, 0.8), cand(c, 1, 0.9)])
    [cit] = a.citations
    assert cit.quote == "The city of Almaty installed 1,200 cameras in 2019. Police watch them from a control room."
    assert CITY[cit.char_start : cit.char_end] == cit.quote and (cit.doc_id, cit.source) == ("d1", "a.txt")
    assert a.quoted == (1,) and a.answer.endswith(f"“{cit.quote}” [1]")


def test_quotes_are_numbered_best_evidence_first():
    c, other = chunk(CITY), chunk(PERSIAN, "fa", "c2", "d2", "b.txt")
    groups = quote_groups([cand(c, 0, 0.5), cand(c, 2, 0.7), cand(other, 0, 0.9)])
    assert [[(g.chunk.chunk_id, g.index) for g in group] for group in groups] == [[("c2", 0)], [("c1", 2)],
                                                                                  [("c1", 0)]]
    a = answer("Who installed the cameras?", [cand(c, 0, 0.5), cand(c, 2, 0.7), cand(other, 0, 0.9)])
    assert [(x.n, x.source) for x in a.citations] == [(1, "b.txt"), (2, "a.txt"), (3, "a.txt")]
    assert a.citations[0].quote == PERSIAN.split(".")[0] + "."


# ---- the key fact ---------------------------------------------------------------------------------------------
def test_a_figure_asked_for_is_the_key_fact_at_its_offsets():
    a = answer("How many cameras did Almaty install?", [cand(chunk(CITY), 1, 0.9)])
    span = a.answer_span
    assert (span.text, span.reading) == ("1,200", None) and CITY[span.char_start : span.char_end] == "1,200"
    assert a.caveat is None and a.answer.startswith("**1,200**\n\n“The city")


def test_no_key_fact_when_the_best_sentence_barely_leads():
    # a near tie with the next sentence: the evidence does not single out the sentence whose figure would be bold
    q, c = query("How many cameras did Almaty install?"), chunk(CITY)
    tie = compose(q, [cand(c, 1, 0.9)], [ScoredChunk(c, 1.0)], Settings(), lead=0.01)
    assert tie.answer_span is None and not tie.answer.startswith("**") and tie.citations
    clear = compose(q, [cand(c, 1, 0.9)], [ScoredChunk(c, 1.0)], Settings(), lead=0.05)
    assert clear.answer_span.text == "1,200"


def test_a_figure_only_in_a_weaker_quote_is_caveated():
    # the best quote states no figure: the one in the second quote rarely answers, so the answer says so
    c = chunk("Police officers in Almaty watch the control room day and night. Surveillance grew fast in the region. "
              "The city of Almaty has 1,200 police officers.")
    a = answer("How many police officers are there in Almaty?", [cand(c, 0, 0.9), cand(c, 2, 0.8)])
    assert [x.quote[:6] for x in a.citations] == ["Police", "The ci"]
    assert a.caveat is not None and a.caveat.startswith("The nearest passage does not state the figure")
    assert a.answer_span is None


def test_what_year_gives_the_year_alone():
    a = answer("In what year did Almaty install its cameras?", [cand(chunk(CITY), 1, 0.9)])
    assert a.answer_span.text == "2019"


def test_a_persian_figure_has_a_reading_for_an_english_question():
    # the question's words in Persian (the analyzer's term bridge) are what place the year among them
    q = query("In what year were the cameras put up in Dushanbe?", translation="دوربین‌ها دوشنبه")
    c = chunk(PERSIAN, "fa")
    a = compose(q, [cand(c, 0, 0.9)], [ScoredChunk(c, 1.0)], Settings(span_cross_lang=True))
    assert a.answer_span.text == "۲۰۱۳" and a.answer_span.reading == "2013"
    assert a.answer.startswith("**۲۰۱۳** (reading: 2013)\n\n")
    # by default a quote in another language gives no key fact: the answer leads with the quote
    a = compose(q, [cand(c, 0, 0.9)], [ScoredChunk(c, 1.0)], Settings())
    assert a.answer_span is None and not a.answer.startswith("**")


def test_no_key_fact_when_the_question_asks_for_none():
    a = answer("Why does the city watch its streets?", [cand(chunk(CITY), 1, 0.9)])
    assert a.answer_span is None and not a.answer.startswith("**")


# ---- the caveat -----------------------------------------------------------------------------------------------
def test_a_name_no_document_mentions_is_the_caveat():
    a = answer("What is Almaty's GDP?", [cand(chunk(CITY), 1, 0.9)], unmatched=("gdp",))
    assert a.caveat == "The passages below are the nearest the documents have, but none mentions GDP."
    assert a.answer.startswith(a.caveat + "\n\n“")


def test_no_figure_where_one_is_asked_is_the_caveat():
    a = answer("How many officers watch the cameras?", [cand(chunk(CITY), 2, 0.9)])
    assert a.answer_span is None
    assert a.caveat == "The passages below are the nearest the documents have, but none states the figure asked for."


def test_a_figure_in_another_unit_is_the_caveat():
    a = answer("How long is the pipeline in kilometres?", [cand(chunk(CITY), 3, 0.9)])
    assert a.caveat == "The passages below give figures, but none in kilometres."
    assert a.answer_span is None and a.answer.startswith(a.caveat)  # a caveated answer shows no key fact


# ---- the language note ----------------------------------------------------------------------------------------
def test_language_note_for_persian_evidence_of_another_language_question():
    assert language_note("en", {"fa"}) == "The evidence is in Persian; quoted verbatim, not translated:"
    assert language_note("en", {"fa", "en"}) == "Part of the evidence is in Persian; quoted verbatim, not translated:"
    assert language_note("fa", {"fa"}) is None and language_note("en", {"en"}) is None
    a = answer("Who carried out the project?", [cand(chunk(PERSIAN, "fa"), 1, 0.9)])
    assert a.language_note == "The evidence is in Persian; quoted verbatim, not translated:"
    assert a.answer == f"{a.language_note}\n\n“{a.citations[0].quote}” [1]"
    fa = answer("چه کسی طرح را اجرا کرد؟", [cand(chunk(PERSIAN, "fa"), 1, 0.9)], lang="fa")
    assert fa.language_note is None


# ---- refusal ----------------------------------------------------------------------------------------------------
def test_a_refusal_names_the_nearest_passages():
    c, other = chunk(CITY), chunk(PERSIAN, "fa", "c2", "d2", "b.txt")
    a = refusal("How do I bake bread?", [ScoredChunk(c, 0.2), ScoredChunk(other, 0.1)])
    assert a.refused and a.citations == [] and a.nearest == (("a.txt", "Section"), ("b.txt", "Section"))
    assert a.answer == f"{REFUSAL} Nearest passages: a.txt (Section); b.txt (Section)."
    assert refusal("q", []).answer == REFUSAL


# ---- quotes that earn their place (qa/extractive.py select) ---------------------------------------------------
def ranked(q: Query, c: Chunk, picks: list[tuple[int, float, float]]) -> list[Candidate]:
    """Candidates of ``c``'s sentences: (index, score, lexical share), each with its own direction (no duplicates)."""
    out = []
    for i, score, lexical in picks:
        v = np.zeros(8)
        v[i] = 1.0
        out.append(Candidate(c, i, c.sentences[i], v, score, False, lexical, False,
                             typed_value(q, c, c.sentences[i].text), score=score, relevance=score))
    return out


def test_a_quote_sharing_only_the_topic_is_dropped():
    c = chunk(CITY)
    q = query("Which city installed the cameras?")
    # sentence 3 (the pipeline) scores within the margin but holds none of the question's words: not quoted
    picked = select(ranked(q, c, [(1, 0.90, 0.5), (3, 0.89, 0.0)]), q, Settings())
    assert [p.index for p in picked] == [1]
    # the sentence before the best continues it: kept; with quote_min_lexical 0 every near one is quoted
    picked = select(ranked(q, c, [(1, 0.90, 0.5), (0, 0.88, 0.0), (3, 0.89, 0.0)]), q, Settings())
    assert sorted(p.index for p in picked) == [0, 1]
    picked = select(ranked(q, c, [(1, 0.90, 0.5), (3, 0.89, 0.0)]), q, Settings(quote_min_lexical=0.0))
    assert sorted(p.index for p in picked) == [1, 3]


def test_a_quote_with_the_kind_of_answer_asked_for_earns_its_place():
    c = chunk(CITY)
    q = query("How many cameras does the city have?")
    picked = select(ranked(q, c, [(1, 0.90, 0.3), (3, 0.89, 0.0)]), q, Settings())
    assert sorted(p.index for p in picked) == [1, 3]  # "1,800 tonnes" is a figure: it may be the one asked for


def test_quotes_unreadable_for_the_question_are_kept_as_before():
    c = chunk(CITY)
    q = query("Wer beobachtet die Kameras?", "de")  # no question word can be found in the quotes: no filter
    picked = select(ranked(q, c, [(2, 0.90, 0.0), (0, 0.88, 0.0)]), q, Settings())
    assert sorted(p.index for p in picked) == [0, 2]

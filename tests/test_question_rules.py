"""What a question's wording says, without an index: ordinals (qa/ordinals.py), units, hints and the language of
evidence asked for (qa/answertype.py), and the standalone search text of a follow-up (qa/history.py; the idf is
a plain function here, the real index's is in test_history.py)."""

from __future__ import annotations

import pytest

from verbatim_qa.qa.answertype import (
    asked_unit,
    carries,
    expected_type,
    requested_lang,
    typed_spans,
    unit_hints,
    without_lang_request,
)
from verbatim_qa.qa.history import standalone
from verbatim_qa.qa.ordinals import question_ordinal, sentence_ordinal


# ---------------------------------------------------------------- ordinals
@pytest.mark.parametrize("question, want", [
    ("What is the third goal?", 3), ("What is Beijing's second goal?", 2), ("What is China's third aim?", 3),
    ("its 4th risk", 4), ("the 10th item", 10), ("What is the FIRST goal?", 1),
    ("دومین پیامد هوش مصنوعی چیست؟", 2), ("خطر سوم چیست؟", 3), ("نخستین هدف", 1), ("اولین هدف چیست؟", 1),
    ("When did China first sign it?", None), ("first of all", None), ("the eleventh item", None),  # adjectival only
    ("در دهه دوم قرن", None), ("پس از جنگ جهانی دوم", None), ("نیمه دوم سال", None),  # fixed phrases
])
def test_question_ordinal(question, want):
    assert question_ordinal(question) == want


@pytest.mark.parametrize("text, prefix, want", [
    ("Second, the state ...", "", 2), ("Thirdly the", "", 3), ("Firstly,", "", 1), ("Tenth", "", 10),
    ("Second-hand goods", "", None), ("Secondary schools", "", None), ("Eleventh", "", None),
    ("دوم این که این فناوری‌ها", "", 2), ("سوم؛ این فناوری‌ها", "", 3), ("نخست آن که", "", 1),
    ("اولویت چین", "", None), ("A plain sentence.", "", None),
    ("برقراری استانداردها", "۳. ", 3), ("item", "(2) ", 2), ("item", "۳) ", 3), ("item", "3- ", 3),
    ("item", "  12. ", 12), ("item", "123. ", None), ("item", "a. ", None),  # a list marker of one or two digits
])
def test_sentence_ordinal(text, prefix, want):
    assert sentence_ordinal(text, prefix) == want


# ---------------------------------------------------------------- answer types, units, hints
def test_the_first_wording_decides_the_type():
    assert expected_type("How much time remained when the game ended?", "en") == "number"
    assert expected_type("When did they pay how much?", "en") == "date"
    assert expected_type("چرا چین؟", "en") == "reason"  # Persian wording in an English-tagged question counts
    assert carries("In 2013 they met", "date") and not carries("no numbers here", "number")
    assert carries("anything", None) and typed_spans("x 2013", "colour") == []


def test_a_year_is_a_date_not_a_count():
    text = "In 2017 there were 41 cameras"
    assert [text[a:b] for a, b in typed_spans(text, "number")] == ["41"]
    assert [text[a:b] for a, b in typed_spans(text, "date")] == ["2017"]


@pytest.mark.parametrize("question, unit", [
    ("How long, in kilometres, is the pipeline?", "kilometres"), ("How many tonnes of cotton?", "tonnes"),
    ("How many hectares are irrigated?", "hectares"), ("چند مترمکعب گاز؟", "مکعب"), ("How much gas?", None),
])
def test_asked_unit(question, unit):
    got = asked_unit(question)
    assert (got[0] if got else None) == unit


def test_unit_hints_from_the_counted_noun_or_the_kind_of_quantity():
    assert unit_hints("How many points did they score?") == ("points",)
    assert unit_hints("What percentage of the debt?") == ("%", "percent", "درصد", "٪")
    assert "million" in unit_hints("How much did it cost?") and "دلار" in unit_hints("How much did it cost?")
    assert unit_hints("How old is he?") == ("year", "سال", "age")
    assert unit_hints("What is the Digital Silk Road?") == ()


@pytest.mark.parametrize("question, lang", [
    ("And in Persian sources?", "fa"), ("What does the English text say?", "en"), ("در منابع فارسی چه آمده؟", "fa"),
    ("به انگلیسی چه نوشته؟", "en"), ("Compare the Persian sources and the English text", None), ("Who built it?", None),
])
def test_requested_lang(question, lang):
    assert requested_lang(question) == lang


def test_the_language_request_names_no_topic():
    assert without_lang_request("And in Persian sources?").split() == ["And", "?"]
    assert without_lang_request("Who built it?") == "Who built it?"


# ---------------------------------------------------------------- the standalone search text of a follow-up
def idf(term: str) -> float:
    return {"china": 0.2}.get(term, 5.0)


EARLIER = "When did Huawei set up 12 offices in Tashkent in 2019?"


def test_light_words_short_numbers_and_common_terms_are_never_carried():
    carried = standalone("Why?", [EARLIER], idf, "en").split()[1:]
    assert carried == ["2019", "huawei", "offices", "tashkent"]  # equal weights: alphabetical
    assert not {"set", "up", "12"} & set(carried)
    assert standalone("Why?", ["China trade"], idf, "en") == "Why? trade"  # "china" is under min_idf


def test_at_most_max_terms_and_only_the_last_turns_are_read():
    assert standalone("Why?", [EARLIER], idf, "en", max_terms=2) == "Why? 2019 huawei"
    assert standalone("Why?", ["  ", "Huawei offices in Tashkent", ""], idf, "en") == "Why? huawei offices tashkent"
    assert standalone("Why?", ["Huawei offices in Tashkent", "a?", "b?", "c?"], idf, "en", turns=3) == "Why?"


def test_a_persian_follow_up_carries_persian_terms_and_its_language_is_detected():
    got = standalone("چرا؟", ["هواوی در تاشکند دفتر باز کرد"], idf)
    assert got.startswith("چرا؟ ") and set(got.split()[1:]) == {"هواوی", "تاشکند", "دفتر", "باز"}

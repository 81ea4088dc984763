"""The rules deciding whether an answer shows a key fact (qa/keyfact.py): pure functions, no model."""

from __future__ import annotations

import pytest

from verbatim_qa.qa.keyfact import Placed, close_enough, function_word, multi_part, script_fits, unambiguous


@pytest.mark.parametrize("question", [
    "Where and when did Huawei hold its first Central Asia Innovation Day?",
    "Which countries signed the letter and how many others joined them?",
    "In what year was the SCO set up, and how does it describe itself?",
    "What vehicles has China supplied and what were they worth?",
    "مرکز پلیس چه زمانی و با کمک کدام شرکت راه‌اندازی شد؟",
])
def test_a_question_of_several_parts(question):
    assert multi_part(question)


@pytest.mark.parametrize("question", [
    "Which country opened a new police centre equipped with facial recognition in its capital?",
    "How many Chinese farmers were given land in Tajikistan and Kyrgyzstan?",  # one figure, two places
    "Who built it?",
    "حجم تجارت تاجیکستان با چین چقدر بود؟",
])
def test_a_question_of_one_part(question):
    assert not multi_part(question)


def test_a_latin_name_out_of_a_cyrillic_or_arabic_sentence_does_not_fit():
    russian = "Второй по величине производитель нефти, по данным Ford, — Саудовская Аравия."
    assert not script_fits("Ford", russian, "ru", "person")
    persian = "پانییر معتقد است که آسیای مرکزی آزمایشگاه چین است (Pannier, 2021: 4)."
    assert not script_fits("Pannier", persian, "fa", "person")
    chinese = "超级碗50的国歌由Lady Gaga演唱。"
    assert not script_fits("Lady Gaga", chinese, "zh", "person")


def test_a_name_fits_only_where_capitals_mark_names():
    assert script_fits("Lady Gaga", "The anthem was sung by Lady Gaga before the game.", "en", "person")
    german = "Die Nationalhymne wurde von Lady Gaga gesungen."
    assert not script_fits("Nationalhymne", german, "de", "name")  # every German noun is capitalized


def test_digits_fit_any_script():
    assert script_fits("۱۸ درصد", "این نسبت به ۱۸ درصد افزایش یافته است.", "fa", "number")
    assert script_fits("2016", "Der Super Bowl 50 fand 2016 statt.", "de", "date")
    assert script_fits("1,200", "В городе установлено 1,200 камер.", "ru", "number")


def test_a_function_word_in_capitals_is_not_a_name():
    assert function_word("MUST", "en") and function_word("SHALL NOT", "en") and function_word("The", "en")
    assert not function_word("Kyrgyzstan", "en") and not function_word("Huawei", "en")


def place(start: int, near: int = 2, hinted: bool = False, shares: bool = False) -> Placed:
    return Placed(start, start + 4, near, hinted, shares, 0)


def test_a_span_placed_as_well_as_another_is_ambiguous():
    best = place(0, near=3)
    assert unambiguous(best, [best, place(10, near=2)])
    assert not unambiguous(best, [best, place(10, near=3)])  # two figures beside the same words
    assert unambiguous(place(0, hinted=True), [place(0, hinted=True), place(10, near=5)])  # the unit decides


def test_close_enough_needs_question_terms_near():
    assert close_enough(2, 5, 2) and not close_enough(1, 5, 2)
    assert close_enough(1, 1, 2)  # a question of one content word: that word is enough
    assert not close_enough(0, 0, 2)  # no question word near: never


# ---------------------------------------------------------------- the examples, over the bundled corpus
@pytest.mark.integration
def test_the_police_centre_question_does_not_show_chinas(bot):
    """The chat's example question: the quote says Kyrgyzstan; "China's" (a word of the question) is no answer."""
    a = bot.answer("Which country opened a new police centre equipped with facial recognition in its capital?")
    assert not a.refused and any("Kyrgyzstan" in c.quote for c in a.citations)
    assert a.answer_span is None or a.answer_span.text == "Kyrgyzstan"


@pytest.mark.integration
@pytest.mark.parametrize("question", [
    "How much uranium did Kazakhstan export to China in 2023?",  # not in the documents
    "Who runs Huawei's regional operations in Central Asia?",
    "In what year did Turkmenistan become a member of the Shanghai Cooperation Organization?",
    "How many Central Asian military officers have been trained at Chinese universities so far?",
])
def test_an_unanswerable_question_shows_no_key_fact(bot, question):
    a = bot.answer(question)
    assert a.answer_span is None and not a.answer.startswith("**")


@pytest.mark.integration
def test_a_question_of_two_parts_shows_no_half_answer(bot):
    a = bot.answer("Where and when did Huawei hold its first Central Asia Innovation Day?")
    assert not a.refused and a.answer_span is None  # "Kazakhstan" alone answered where, not when


@pytest.mark.integration
def test_a_figure_beside_the_question_words_is_still_the_key_fact(bot):
    a = bot.answer("After the 2011 border settlement, how many Chinese farmers were given land in Tajikistan?")
    assert a.answer_span is not None and a.answer_span.text == "1,500" and a.answer.startswith("**1,500**")


def test_the_counted_noun_is_the_head_of_its_phrase():
    from verbatim_qa.qa.answertype import counted

    assert counted("How many Panthers defense players were selected for the Pro Bowl?") == ("players",)
    assert counted("How many 2015 season interceptions did the Panthers defense get?") == ("interceptions",)
    assert counted("How much did Tajikistan pay for it?") == ()
    assert multi_part("How many ethnic Kyrgyz and Kazakhs are held in the camps?")  # two counts: no key fact
    assert not multi_part("How many points did the Broncos score?")

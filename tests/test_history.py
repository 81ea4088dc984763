"""Follow-up questions: when a question needs the conversation (pure), the standalone search text, and answers
from the real e5 index of the corpus that cite the passage the follow-up means."""

from __future__ import annotations

import pytest

from verbatim_qa.qa.history import needs_history, questions_of, standalone, turns_of

ENGLISH = "why-china-leans-hard-on-central-asia.txt"
PERSIAN = "china-central-asia-ai-rezapour-2024.md"


@pytest.mark.parametrize("question", [
    "Who built it?", "What about Turkmenistan?", "How about Kazakhs?", "And in Persian sources?", "And now?",
    "What were they worth?", "What happened there in 2009?", "Which theory frames its analysis?",
    "In how many pilot cities?", "Why?",
])
def test_english_follow_ups_need_history(question):
    assert needs_history(question, "en")


@pytest.mark.parametrize("question", [
    "Where and when did Huawei hold its first Central Asia Innovation Day?",  # "its": Huawei, named before it
    "Is there an example of a Turkmen IT company using Chinese tech for safe-city projects?",  # IT, existential
    "In what year was the Shanghai Cooperation Organization set up?",  # a preposition, and a verb of its own
    "What research method does this paper use?",  # "this paper": the document, not an earlier turn
    "Which countries share a border with Xinjiang?",
])
def test_complete_english_questions_stand_alone(question):
    assert not needs_history(question, "en")


@pytest.mark.parametrize("question, needs", [
    ("ازبکستان چطور؟", True),  # what about Uzbekistan?
    ("و در دوشنبه چه کرد؟", True),  # and in Dushanbe, what did it do?
    ("در کدام شهرها؟", True),  # in which cities? (question words are no content of its own)
    ("کدام‌ها از امضای آن خودداری کردند؟", True),  # "آن" in its search form (alef folded, ZWNJ dropped)
    ("داده‌های این پژوهش از چه نوع منابعی جمع‌آوری شده‌اند؟", False),  # "this research": the document
    ("مقاله هدف موازنه نرم را چه می‌داند؟", False),
])
def test_persian_follow_ups(question, needs):
    assert needs_history(question, "fa") is needs


IDF = {"trade": 3.0, "growth": 3.5, "fastest": 4.0, "2023": 2.5, "tajikistan": 3.2, "china": 0.4,
       "central": 0.6, "asian": 0.6, "huawei": 2.8, "deal": 3.3, "surveillance": 2.0, "uzbekistan": 3.1}


def idf(term: str) -> float:
    return IDF.get(term, 5.0)


def test_standalone_carries_rare_terms_of_the_earlier_turn_only_when_needed():
    earlier = ["Which Central Asian country saw the fastest growth in trade with China in 2023?"]
    got = standalone("What about Turkmenistan?", earlier, idf, "en", min_idf=1.0)
    assert got.startswith("What about Turkmenistan? ")
    carried = got.split("? ", 1)[1].split()
    assert {"fastest", "growth", "trade", "2023"} <= set(carried)
    assert "china" not in carried and "central" not in carried  # common in the index: they say nothing
    complete = "Why has the camera maker Hikvision been criticised?"
    assert standalone(complete, earlier, idf, "en") == complete  # a topic shift stands alone
    assert standalone("What about Turkmenistan?", [], idf, "en") == "What about Turkmenistan?"


def test_an_elliptical_name_replaces_the_earlier_one():
    earlier = ["How large was Huawei's surveillance deal with Uzbekistan?"]
    carried = standalone("How about Tajikistan?", earlier, idf, "en").split("? ", 1)[1].split()
    assert "deal" in carried and "surveillance" in carried
    assert "uzbekistan" not in carried  # what "How about Tajikistan?" replaces
    persian = standalone("And in the Persian paper?", earlier, idf, "en").split("? ", 1)[1].split()
    assert "uzbekistan" in persian and "huawei" in persian  # a language asked for replaces no name


def test_terms_fade_with_age_and_chains_keep_their_topic():
    earlier = ["How large was Huawei's surveillance deal with Uzbekistan?", "Who signed it?"]
    carried = standalone("When?", earlier, idf, "en").split("? ", 1)[1].split()
    assert {"signed", "deal", "huawei"} <= set(carried)  # the deal reaches "When?" through "Who signed it?"
    older = standalone("When?", ["Why has the camera maker Hikvision been criticised?", earlier[0]], idf, "en",
                       max_terms=2).split("? ", 1)[1].split()
    assert "hikvision" not in older and "criticised" not in older  # two turns back: half the weight


def test_the_last_question_s_own_words_come_before_what_it_carried():
    earlier = ["What share of Central Asian arms imports came from China?", "Which border do they guard?"]
    carried = standalone("Who built it?", earlier, idf, "en", max_terms=2).split("? ", 1)[1].split()
    assert carried == ["border", "guard"]  # not "arms"/"imports", which "Which border ...?" carried


def test_history_shapes():
    assert questions_of(["a?", {"question": "b?", "answer": "B."}, ("c?", "C."), "  "]) == ("a?", "b?", "c?")
    assert turns_of([{"question": "b?", "answer": "B."}]) == [("b?", "B.")]
    with pytest.raises(ValueError, match="history turn"):
        turns_of([{"answer": "no question"}])


# ---- on the real index ----------------------------------------------------------------------------------------
def quotes(answer) -> str:
    return " ".join(c.quote for c in answer.citations)


@pytest.mark.integration
def test_lexical_idf_orders_terms_by_rarity(bot):
    lexical = bot.retriever.lexical
    assert lexical.idf("turkmenistan") > lexical.idf("china") > 0
    assert lexical.idf("zzzunknownzzz") >= lexical.idf("turkmenistan")  # no chunk has it: as rare as can be


@pytest.mark.integration
def test_follow_up_is_answered_from_the_passage_it_means(bot):
    first = "Which Central Asian country saw the fastest growth in trade with China in 2023?"
    a = bot.answer("What about Turkmenistan?", history=[first])
    assert a.search_query != a.question and a.search_query.startswith("What about Turkmenistan?")
    assert a.to_dict()["search_query"] == a.search_query and a.question == "What about Turkmenistan?"
    assert not a.refused and "ترکمنستان" in quotes(a) and "گاز" in quotes(a)  # its gas exports, in Persian
    alone = bot.answer("What about Turkmenistan?")
    assert alone.search_query == alone.question


@pytest.mark.integration
def test_a_follow_up_late_in_a_chat_means_the_last_question(bot):
    chat = ["Where and when did Huawei hold its first Central Asia Innovation Day?",
            "What share of Central Asian arms imports came from China?",
            "Which country opened a new police centre equipped with facial recognition in its capital?"]
    history = [{"question": q, "answer": bot.answer(q, history=chat[:n]).answer} for n, q in enumerate(chat)]
    a = bot.answer("Who built it?", history=history)
    assert "police" in a.search_query and "arms" not in a.search_query, a.search_query
    assert "هوآوی" in quotes(a) and "پلیس" in quotes(a)  # Huawei helped open Bishkek's police command centre


@pytest.mark.integration
def test_pronoun_follow_up_and_persian_follow_up(bot):
    police = "Which country opened a new police centre equipped with facial recognition in its capital?"
    a = bot.answer("Who built it?", history=[police])
    assert not a.refused and "هوآوی" in quotes(a) and "پلیس" in quotes(a)  # Huawei opened the police centre
    fa = bot.answer("ازبکستان چطور؟", history=[{"question": "حجم تجارت چین با قزاقستان در سال ۲۰۲۳ چقدر بود؟",
                                                "answer": "۴۱ میلیارد دلار"}])
    assert not fa.refused and "ازبکستان" in quotes(fa)


@pytest.mark.integration
def test_topic_shift_is_searched_as_asked(bot):
    q = "Why has the camera maker Hikvision been criticised?"
    a = bot.answer(q, history=["How big was trade between China and Central Asia back in 1992?"])
    assert a.search_query == q and "Hikvision" in quotes(a)


@pytest.mark.integration
def test_one_query_per_question(bot):
    query = bot.analyze("What about Turkmenistan?", ["Which Central Asian country traded most with China in 2023?"])
    assert query.text == "What about Turkmenistan?" and query.search != query.text
    assert {"traded", "country", "2023"} <= set(query.search.split())  # the earlier question's rare terms
    assert "turkmenistan" in query.focus

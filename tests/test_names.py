"""Names across scripts: consonant skeletons, the bridge's guards, and the bridge inside retrieval."""

from __future__ import annotations

import pytest

from verbatim_qa.qa.names import NameBridge, latin_skeleton, persian_skeleton, question_names, swapped, unmentioned
from verbatim_qa.qa.retriever import HybridRetriever
from verbatim_qa.settings import Settings
from verbatim_qa.text.normalize import tokenize

settings = Settings()


def bridge_of(words: list[str]) -> NameBridge:
    return NameBridge(
        words, min_skeleton=settings.retrieval.name_min_skeleton, max_matches=settings.retrieval.name_max_matches
    )


@pytest.mark.parametrize("latin, persian", [
    ("Mearsheimer", "مرشایمر"), ("Rezapour", "رضاپور"), ("Dushanbe", "دوشنبه"), ("Shymkent", "شیمکنت"),
    ("Bishkek", "بیشکک"), ("Almaty", "آلماتی"),
])
def test_same_name_same_skeleton(latin, persian):
    assert latin_skeleton(latin) == persian_skeleton(persian)


@pytest.mark.parametrize("latin, persian", [
    ("Mearsheimer", "مرزبانی"), ("Dushanbe", "دانشگاه"), ("Rezapour", "ریزپردازنده"),
])
def test_different_words_differ(latin, persian):
    assert latin_skeleton(latin) != persian_skeleton(persian)


def test_bridge_guards():
    bridge = bridge_of(["مرشایمر", "دوشنبه", "رضاپور", "مرو"])
    never = lambda w: False  # noqa: E731
    assert bridge.bridge("What did Mearsheimer say?", never) == ["مرشایمر"]
    assert bridge.bridge("what did mearsheimer say?", never) == []  # not written as a name
    assert bridge.bridge("Mearsheimer said what?", never) == []  # first word: capitalized anyway
    assert bridge.bridge("Was Dushanbe mentioned?", lambda w: w == "Dushanbe") == []  # spelled in Latin already
    assert bridge.bridge("Did Merv matter?", never) == []  # skeleton too short to trust
    ambiguous = bridge_of(["مرشایمر", "مرشامر", "مورشیمر", "میرشیمر"])
    assert ambiguous.bridge("What did Mearsheimer say?", never) == []


@pytest.mark.integration
def test_retrieval_bridges_a_name_only_the_persian_body_spells(corpus_store):
    retriever = HybridRetriever.from_store(corpus_store)
    q = "What three things make up the latent power that the paper attributes to Mearsheimer?"
    sig = retriever.signals(retriever.analyzer.analyze(q))
    assert "مرشایمر" in sig.pseudo.split()
    top = {cid for cid, _ in sig.bm25_names[:3]}
    texts = [c.text for c in corpus_store.get_chunks(sorted(top))]
    assert texts and all("مرشایمر" in t for t in texts)
    # "China" is spelled in the English text: it is never bridged
    assert retriever.signals(retriever.analyzer.analyze("What does China want from Central Asia?")).bm25_names == []


def test_question_names_are_runs_of_capitalized_words():
    q = "In what year did Turkmenistan become a member of the Shanghai Cooperation Organization (SCO)?"
    assert question_names(q) == [["turkmenistan"], ["shanghai", "cooperation", "organization"], ["SCO"]]
    assert question_names("Huawei built what?") == []  # the first word is capitalized anyway
    assert question_names("And in the Persian paper?") == []  # a language asked for is no name


@pytest.mark.parametrize("question, quote, absent", [
    ("What share of Uzbekistan's debt?", "China owns 41% of Kyrgyzstan’s debt.", ["uzbekistan"]),
    ("What share of Uzbekistan's debt?", "Huawei closed a deal with the Uzbek government.", []),  # uzbe-
    ("What do Chinese lenders own?", "China owns 41% of Kyrgyzstan’s debt.", []),  # chin-
    ("Who did Peyton Manning beat?", "At age 39, Manning won.", []),  # one word of the name is enough
    ("What did the SCO agree?", "the Shanghai Cooperation Organization agreed", []),  # an acronym's initials
    ("What share of Uzbekistan's debt?", "بدهی ازبکستان به چین", []),  # the same consonants in Persian
    ("What share of Uzbekistan's debt?", "بدهی قرقیزستان به چین", ["uzbekistan"]),
])
def test_names_no_quote_mentions(question, quote, absent):
    bridge = bridge_of(["ازبکستان", "قرقیزستان"])
    assert unmentioned(question, [tokenize(quote)], bridge, stem=settings.answers.name_stem) == absent


def test_a_persian_quote_cannot_be_read_for_a_name_the_index_never_spells():
    # "Kyrgyzstan" is written قرقیزستان (q for g): no Persian word of the index has its skeleton, so a Persian
    # quote is taken to mention it rather than caveat an answer that may well be about it
    assert unmentioned("Kyrgyzstan's debt?", [tokenize("بدهی تاجیکستان")], bridge_of(["قرقیزستان"]),
                       stem=settings.answers.name_stem) == []


@pytest.mark.parametrize("question, name, quote, other", [
    ("What percentage of Uzbekistan's public debt is owed?", "uzbekistan", "China owns 41% of Kyrgyzstan’s debt.",
     "Kyrgyzstan"),  # the possessive's noun
    ("What is the debt of Uzbekistan?", "uzbekistan", "The debt of Kyrgyzstan is large.", "Kyrgyzstan"),
    ("What did the Uzbek government sign?", "uzbek", "The Kyrgyz government signed a deal.", "Kyrgyz"),
    # no other name in the name's place: the article's subject left unsaid, or the answer itself
    ("Of Warsaw's inhabitants in 1901, what share was Catholic?", "warsaw", "out of 711,988 inhabitants 56.2%",
     None),
    ("What artist provided the woodcuts for Luther's Bible?", "bible", "with woodcuts by Lucas Cranach", None),
    ("What is the debt of Uzbekistan?", "uzbekistan", "The debt of the country is large.", None),
])
def test_another_name_in_the_place_of_the_question_s(question, name, quote, other):
    assert swapped(question, name, quote, stem=settings.answers.name_stem) == other

"""Names across scripts: consonant skeletons, the bridge's guards, and the bridge inside retrieval."""

from __future__ import annotations

import pytest

from qa.names import NameBridge, latin_skeleton, persian_skeleton
from qa.retriever import HybridRetriever


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
    bridge = NameBridge(["مرشایمر", "دوشنبه", "رضاپور", "مرو"])
    never = lambda w: False  # noqa: E731
    assert bridge.bridge("What did Mearsheimer say?", never) == ["مرشایمر"]
    assert bridge.bridge("what did mearsheimer say?", never) == []  # not written as a name
    assert bridge.bridge("Mearsheimer said what?", never) == []  # first word: capitalized anyway
    assert bridge.bridge("Was Dushanbe mentioned?", lambda w: w == "Dushanbe") == []  # spelled in Latin already
    assert bridge.bridge("Did Merv matter?", never) == []  # skeleton too short to trust
    ambiguous = NameBridge(["مرشایمر", "مرشامر", "مورشیمر", "میرشیمر"])
    assert ambiguous.bridge("What did Mearsheimer say?", never) == []


def test_retrieval_bridges_a_name_only_the_persian_body_spells(corpus_store):
    retriever = HybridRetriever.from_store(corpus_store)
    q = "What three things make up the latent power that the paper attributes to Mearsheimer?"
    sig = retriever.signals(q)
    assert "مرشایمر" in sig["pseudo"].split()
    top = {cid for cid, _ in sig["bm25_names"][:3]}
    texts = [c.text for c in corpus_store.get_chunks(sorted(top))]
    assert texts and all("مرشایمر" in t for t in texts)
    # "China" is spelled in the English text: it is never bridged
    assert retriever.signals("What does China want from Central Asia?")["bm25_names"] == []

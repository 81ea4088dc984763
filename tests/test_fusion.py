"""Rank and score fusion by hand: qa/fusion.py's pure functions, the score fusion included (it reads only the
settings and the typed ``Signals``, so it runs here without a store or a model)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from verbatim_qa.qa import fusion
from verbatim_qa.qa.corpus import ChunkMeta
from verbatim_qa.qa.fusion import Signals, best_per_group, rrf
from verbatim_qa.qa.retriever import demotion
from verbatim_qa.settings import Settings
from verbatim_qa.types import Chunk, ScoredChunk, Sentence


# ---------------------------------------------------------------- rrf
def test_rrf_sums_one_over_k_plus_rank_per_ranking():
    fused = rrf({"dense": ["a", "b", "c"], "bm25": ["c", "a"]}, k=60)
    assert fused == pytest.approx({"a": 1 / 61 + 1 / 62, "b": 1 / 62, "c": 1 / 63 + 1 / 61})
    assert sorted(fused, key=lambda d: -fused[d]) == ["a", "c", "b"]  # in both lists beats first in one


def test_rrf_weights_and_k():
    fused = rrf({"dense": ["a", "b"], "bm25": ["b", "a"]}, k=1, weights={"bm25": 3.0})
    assert fused == pytest.approx({"a": 1 / 2 + 3 / 3, "b": 1 / 3 + 3 / 2})  # an unnamed ranking weighs 1
    assert rrf({"dense": ["a"]}, k=1, weights={"dense": 0.0}) == {"a": 0.0}
    assert rrf({}) == {} and rrf({"dense": []}) == {}


def test_rrf_a_smaller_k_widens_the_gap_between_ranks():
    near, far = rrf({"r": ["a", "b"]}, k=1), rrf({"r": ["a", "b"]}, k=1000)
    assert near["a"] / near["b"] == pytest.approx(3 / 2) and far["a"] / far["b"] == pytest.approx(1002 / 1001)


# ---------------------------------------------------------------- best_per_group
def test_best_per_group_orders_groups_by_their_best_score():
    scored = [("c1", 0.2), ("c2", 0.9), ("c1", 0.95), ("c3", -0.5), ("c2", 0.1)]
    assert best_per_group(scored) == ["c1", "c2", "c3"]


def test_best_per_group_breaks_ties_by_id_and_keeps_negative_scores():
    assert best_per_group([("b", 0.5), ("a", 0.5), ("c", -1.0), ("c", -2.0)]) == ["a", "b", "c"]
    assert best_per_group([]) == []


# ---------------------------------------------------------------- fuse
SETTINGS = Settings(fusion="score", floor=0.7, w_chunk=0.5, lang_offset=0.04, w_bm25=0.1, w_bm25_crosslingual=0.2,
                    w_names=0.3, w_reference=0.5)


def fuse(settings: Settings, sig: dict, langs: dict, penalty=None, offsets=None) -> dict[str, float]:
    """``sig``: the ``Signals`` fields by name (a component left out is switched off)."""
    return fusion.fuse(Signals(**sig), langs, settings, penalty, offsets)


def test_score_fusion_by_hand():
    sig = {"lang": "en",
           "sent": [("a", 0.80), ("a", 0.90), ("b", 0.85)],  # a chunk scores its best sentence
           "chunk": [("a", 0.82)],  # b has no chunk cosine: the floor stands in
           "bm25": [("a", 4.0), ("c", 8.0)],  # normalized to the top hit: a 0.5, c 1.0
           "bm25_x": [("b", 2.0)],
           "bm25_names": [("b", 1.0)]}
    got = fuse(SETTINGS, sig, {"a": "en", "b": "fa", "c": "en"}, penalty={"a": 0.2})
    assert got == pytest.approx({
        "a": 0.90 + 0.5 * 0.82 + 0.1 * 0.5 - 0.2,
        "b": 0.85 + 0.5 * 0.70 + 1.5 * 0.04 + 0.2 * 1.0 + 0.3 * 1.0,  # cross-language: the offset per dense weight
        "c": 0.70 + 0.5 * 0.70 + 0.1 * 1.0,  # found by BM25 only: both dense scores at the floor
    })


def test_score_fusion_uses_the_pair_offset_and_drops_switched_off_signals():
    sig = {"lang": "en", "sent": [("b", 0.85)], "bm25": [("b", 0.0)]}  # a zero top: no BM25 credit at all
    got = fuse(SETTINGS, sig, {"b": "fa"}, offsets={"fa": 0.10})
    assert got == pytest.approx({"b": 0.85 + 1.0 * 0.10})  # no "chunk" signal: no floor for it, dense weight 1
    assert fuse(SETTINGS, {"lang": "en"}, {}) == {}


def test_rrf_fusion_ranks_each_signal_by_chunk():
    sig = {"lang": "en", "sent": [("a", 0.7), ("b", 0.9), ("a", 0.95)], "bm25": [("b", 3.0)],
           "bm25_names": [("z", 9.0)]}  # names take part in score fusion only
    got = fuse(SETTINGS.with_(fusion="rrf", rrf_k=10), sig, {})
    assert got == pytest.approx({"a": 1 / 11, "b": 1 / 12 + 1 / 11})


# ---------------------------------------------------------------- demotion
def test_navigation_and_references_are_demoted_unless_asked_for():
    s = Settings(w_reference=0.05, w_navigation=0.2)
    meta = ChunkMeta("en", "book.pdf", (("index", 0.5), ("reference", 1.0), ("toc", 0.25)))
    assert demotion(meta, frozenset(), s) == pytest.approx(0.2 * 0.5 + 0.05 * 1.0 + 0.2 * 0.25)
    assert demotion(meta, frozenset({"toc", "reference"}), s) == pytest.approx(0.2 * 0.5)  # asked: not demoted
    assert demotion(ChunkMeta("en", "book.pdf"), frozenset(), s) == 0


def test_chunk_meta_keeps_the_share_of_each_demoted_role():
    sents = (Sentence(0, 10, "a" * 10), Sentence(11, 20, "b" * 9, "toc"), Sentence(21, 30, "c" * 9, "toc"),
             Sentence(31, 40, "d" * 9, "code"))
    chunk = Chunk("id", "doc", "book.pdf", "Book", None, None, 0, 40, "x" * 40, "en", sents)
    assert ChunkMeta.of(chunk).demoted == (("code", 0.25), ("toc", 0.5))


# ---------------------------------------------------------------- several collections (qa/several.py)
def _passage(chunk_id: str, score: float, text: str = "The first stage is welded in Oslo.") -> ScoredChunk:
    return ScoredChunk(Chunk(chunk_id, "doc-" + chunk_id, chunk_id + ".txt", "T", None, None, 100, 100 + len(text),
                             text, "en"), score)


def test_several_collections_fuse_by_score_then_collection_then_chunk_id():
    """Ties are broken by collection name, then chunk id, whatever order the collections come in; a chunk two
    collections hold counts once, in the first by name."""
    from verbatim_qa.qa.several import Searched, fused

    beta = Searched("beta", None, None, [_passage("x", 0.5), _passage("shared", 0.9), _passage("b2", 0.2)])
    alpha = Searched("alpha", None, None, [_passage("y", 0.5), _passage("shared", 0.4)])
    expected = [("alpha", "y", 0.5), ("beta", "x", 0.5), ("alpha", "shared", 0.4)]
    for order in ([beta, alpha], [alpha, beta]):
        assert [(r.collection, r.chunk.chunk_id, r.score) for r in fused(order, 3)] == expected
    assert fused([beta, alpha], 1)[0].to_dict()["collection"] == "alpha"
    assert "collection" not in _passage("y", 0.5).to_dict()  # one collection's passages are as before


def test_a_citation_names_the_collection_of_the_passage_holding_its_quote():
    from verbatim_qa.qa.answer import citation_for
    from verbatim_qa.qa.several import collection_of

    oslo, other = _passage("a", 0.5), _passage("b", 0.4, "Another text of the same length, not the same.")
    oslo.collection, other.collection = "alpha", "beta"
    cited = citation_for(1, oslo.chunk, 104, 109)
    assert cited.quote == "first" and collection_of(cited, [other, oslo]) == "alpha"
    assert cited.to_dict().keys() == {"n", "source", "title", "section", "page", "quote", "char_start", "char_end",
                                      "doc_id", "extracted_by"}
    assert {**cited.to_dict(), "collection": "alpha"} == replace(cited, collection="alpha").to_dict()

"""Hybrid retrieval over the real corpus (e5, ingested once per session by ``corpus_home``).

Gold evidence comes from ``evals/datasets/dev.jsonl``: a retrieved chunk "hits" when it overlaps a gold span
of the same document. Ranks quoted in comments were measured on this corpus (default settings).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from langchain_core.documents import Document as LCDocument

from verbatim_qa.evals.dataset import gold_spans, load_items, read_corpus
from verbatim_qa.evals.metrics import overlaps
from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.qa.fusion import Signals
from verbatim_qa.qa.retriever import HybridRetriever
from verbatim_qa.settings import Settings
from verbatim_qa.text.normalize import tokenize
from verbatim_qa.types import Chunk, ScoredChunk
from verbatim_qa.vectorstore.lexical import LexicalIndex
from verbatim_qa.vectorstore.store import Store

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEV = ROOT / "evals" / "datasets" / "dev.jsonl"
ARTICLE = "why-china-leans-hard-on-central-asia.txt"
PAPER = "china-central-asia-ai-rezapour-2024.md"
ITEMS = {it.id: it for it in load_items(DEV)}
TEXTS = read_corpus(CORPUS)


@pytest.fixture(scope="module")
def retriever(corpus_store) -> HybridRetriever:
    """Default settings; the first build embeds the Persian term vocabulary (cached in the corpus home)."""
    return HybridRetriever.from_store(corpus_store)


def ablated(retriever: HybridRetriever, **switches) -> HybridRetriever:
    settings = retriever.store.settings.with_(**switches)
    return HybridRetriever.from_store(retriever.store, settings, lexical=retriever.lexical,
                                      translator=retriever.translator)


def ranked(retriever: HybridRetriever, question: str, k: int | None = None, **kw) -> list[ScoredChunk]:
    """What a caller with only the question does: analyse it once, retrieve for the Query."""
    return retriever.retrieve(retriever.analyzer.analyze(question), k, **kw)


def signals(retriever: HybridRetriever, question: str) -> Signals:
    return retriever.signals(retriever.analyzer.analyze(question))


def gold_ranks(retriever: HybridRetriever, item_id: str, k: int = 5, **kw) -> list[int | None]:
    """For each gold piece of the item: the rank (0-based) of the first retrieved chunk covering it, or None."""
    item = ITEMS[item_id]
    results = ranked(retriever, item.question, k, **kw)
    ranks = []
    for spans in gold_spans(item, TEXTS):
        ranks.append(next((i for i, r in enumerate(results)
                           if any(overlaps((r.chunk.source, r.chunk.char_start, r.chunk.char_end), s) for s in spans)),
                          None))
    return ranks


def doc_ids(store: Store) -> dict[str, str]:
    return {r.source: r.doc_id for r in store.documents()}


# ---------------------------------------------------------------- the stored text is the corpus text
@pytest.mark.integration
def test_stored_documents_are_the_loaded_files(corpus_store):
    ids = doc_ids(corpus_store)
    assert set(ids) == {ARTICLE, PAPER}
    for source, doc_id in ids.items():
        assert corpus_store.document_text(doc_id) == TEXTS[source]


# ---------------------------------------------------------------- languages
@pytest.mark.integration
@pytest.mark.parametrize("item_id", ["en-fa-19", "en-fa-06", "en-fa-16"])
def test_english_question_finds_persian_only_evidence(retriever, item_id):
    item = ITEMS[item_id]
    assert item.kind == "en-fa" and item.quote_docs == [PAPER]
    ranks = gold_ranks(retriever, item_id, 5)
    assert ranks[0] is not None, f"{item_id}: Persian gold chunk not in the top 5"
    top = ranked(retriever, item.question, 5)
    gold_chunk = top[ranks[0]].chunk
    assert gold_chunk.lang == "fa"


@pytest.mark.integration
def test_arms_import_share_question_top_hit_is_the_persian_sentence(retriever):
    """en-fa-19: 1.5% (2010–2014) -> 18%; only the Persian body says so."""
    top = ranked(retriever, ITEMS["en-fa-19"].question, 5)
    assert "۱۸ درصد" in top[0].chunk.text and "۱,۵ درصد" in top[0].chunk.text
    assert top[0].chunk.source == PAPER and top[0].chunk.lang == "fa"


@pytest.mark.integration
@pytest.mark.parametrize("item_id", ["en-en-01", "en-en-06", "en-en-09"])
def test_english_to_english(retriever, item_id):
    assert gold_ranks(retriever, item_id, 5)[0] is not None


@pytest.mark.integration
@pytest.mark.parametrize("item_id", ["fa-fa-01", "fa-fa-03", "fa-fa-12"])
def test_persian_to_persian(retriever, item_id):
    assert ITEMS[item_id].lang == "fa"
    assert gold_ranks(retriever, item_id, 5)[0] is not None


@pytest.mark.integration
def test_multi_passage_question_finds_both_documents(retriever):
    ranks = gold_ranks(retriever, "multi-01", 5)  # English article (41%/53%) and Persian paper (40%/half)
    assert all(r is not None for r in ranks), ranks


@pytest.mark.integration
def test_persian_question_gets_no_pseudo_query_english_one_does(retriever):
    fa = signals(retriever, ITEMS["fa-fa-01"].question)
    assert fa.lang == "fa" and fa.pseudo == "" and fa.bm25_x is None
    en = signals(retriever, ITEMS["en-fa-19"].question)
    assert en.lang == "en" and en.bm25_x
    assert en.pseudo and any("\u0600" <= ch <= "\u06ff" for ch in en.pseudo)
    assert "2010" in en.pseudo.split() and "2014" in en.pseudo.split()  # numbers carried over


@pytest.mark.integration
def test_frequent_index_words_cost_no_encoder_call(retriever, corpus_store):
    """The index's English vocabulary is embedded with the term vocabulary, so a question made of it needs one
    encoder call (the question) and gets the same pseudo-query as a translator that embeds words on demand."""
    from verbatim_qa.qa.crosslingual import TermTranslator

    prewarmed = retriever.translator
    assert {"china", "central", "asia"} <= set(prewarmed._word_vectors)
    calls: list[list[str]] = []
    real = corpus_store.embedder.encode_queries

    class Counting:
        name = corpus_store.embedder.name

        def encode_queries(self, texts):
            calls.append(list(texts))
            return real(texts)

    cold = TermTranslator.for_store(corpus_store, settings=corpus_store.settings.with_(prewarm_words=0))
    q = tokenize("China in Central Asia")
    want = cold.translate(q)
    prewarmed.embedder, saved = Counting(), prewarmed.embedder
    try:
        assert prewarmed.translate(q) == want and want
    finally:
        prewarmed.embedder = saved
    assert calls == []


@pytest.mark.integration
def test_new_question_reads_only_the_winners_from_the_store(corpus_store, monkeypatch):
    """The vocabulary scan already read every chunk, so the fusion's candidates (hundreds) need no store lookup:
    only the top k (+5 spare) are fetched. Without that scan (crosslingual off) the candidates are looked up."""
    fetched: list[str] = []
    real = corpus_store.get_chunks

    def counting(ids):
        fetched.extend(ids)
        return real(ids)

    q = "Which Chinese companies build surveillance systems in Central Asian cities?"
    prepared = HybridRetriever.from_store(corpus_store)
    monkeypatch.setattr(corpus_store, "get_chunks", counting)
    got = ranked(prepared, q, 5)
    assert len(got) == 5 and len(fetched) <= 10, len(fetched)
    fetched.clear()
    lazy = HybridRetriever.from_store(corpus_store, corpus_store.settings.with_(use_crosslingual=False))
    ranked(lazy, q, 5)
    assert len(fetched) > 10


# ---------------------------------------------------------------- filters, offsets, ranking
@pytest.mark.integration
def test_sources_filter_restricts_results(retriever):
    q = ITEMS["en-fa-19"].question  # its best evidence is in the paper
    only_article = ranked(retriever, q, 5, sources=[ARTICLE])
    assert len(only_article) == 5 and {r.chunk.source for r in only_article} == {ARTICLE}
    only_paper = ranked(retriever, q, 5, sources=[PAPER])
    assert len(only_paper) == 5 and {r.chunk.source for r in only_paper} == {PAPER}
    both = ranked(retriever, q, 5, sources=[ARTICLE, PAPER])
    assert [r.chunk.chunk_id for r in both] == [r.chunk.chunk_id for r in ranked(retriever, q, 5)]
    assert ranked(retriever, q, 5, sources=["no-such-file.txt"]) == []


@pytest.mark.integration
@pytest.mark.parametrize("item_id", ["en-en-02", "en-fa-09", "fa-fa-05", "multi-03"])
def test_retrieved_chunks_are_exact_document_slices(retriever, corpus_store, item_id):
    results = ranked(retriever, ITEMS[item_id].question, 8)
    assert len(results) == 8
    assert len({r.chunk.chunk_id for r in results}) == 8
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    texts = {}
    for r in results:
        c = r.chunk
        text = texts.setdefault(c.doc_id, corpus_store.document_text(c.doc_id))
        assert c.text == text[c.char_start : c.char_end]
        assert c.sentences and c.sentences[0].char_start == c.char_start and c.sentences[-1].char_end == c.char_end
        for s in c.sentences:
            assert s.text == text[s.char_start : s.char_end]


@pytest.mark.integration
def test_k_is_respected(retriever):
    q = ITEMS["en-en-03"].question
    assert len(ranked(retriever, q, 1)) == 1
    assert len(ranked(retriever, q, 12)) == 12
    assert len(ranked(retriever, q)) == retriever.k == 5


# ---------------------------------------------------------------- ablation switches
@pytest.mark.integration
@pytest.mark.parametrize("item_id", ["en-fa-19", "en-fa-06"])
def test_crosslingual_components_are_what_find_persian_evidence(retriever, item_id):
    assert gold_ranks(retriever, item_id, 5)[0] is not None
    plain = ablated(retriever, use_crosslingual=False, lang_offset=0.0)
    assert plain.translator is None
    assert gold_ranks(plain, item_id, 5) == [None]


@pytest.mark.integration
def test_switches_remove_their_signals(retriever):
    q = ITEMS["en-fa-19"].question
    assert set(signals(retriever, q).ranked()) == {"sent", "chunk", "bm25", "bm25_x"}
    no_bm25 = ablated(retriever, use_bm25=False)
    assert no_bm25.lexical is None
    sig = signals(no_bm25, q)
    assert sig.bm25 is None and sig.bm25_x is None and sig.bm25_names is None and sig.sent and sig.chunk
    bm25_only = ablated(retriever, use_dense_chunks=False, use_dense_sentences=False, use_crosslingual=False)
    sig = signals(bm25_only, q)
    assert set(sig.ranked()) == {"bm25"} and sig.bm25
    hits = ranked(bm25_only, q, 5)
    assert len(hits) == 5
    assert hits[0].chunk.chunk_id == sig.bm25[0][0]  # BM25 alone ranks by BM25
    # lang_offset moves exactly the cross-language (Persian) chunks of an English question
    no_offset = ablated(retriever, lang_offset=0.0)
    base = {r.chunk.chunk_id: r for r in ranked(retriever, q, 20)}
    moved = {r.chunk.chunk_id: r for r in ranked(no_offset, q, 20)}
    w = 1.0 + retriever.settings.retrieval.w_chunk
    for cid in set(base) & set(moved):
        delta = base[cid].score - moved[cid].score
        expected = w * retriever.settings.retrieval.lang_offset if base[cid].chunk.lang != "en" else 0.0
        assert delta == pytest.approx(expected, abs=1e-6)


@pytest.mark.integration
def test_rrf_fusion_runs(retriever):
    rrf = ablated(retriever, fusion="rrf")
    results = ranked(rrf, ITEMS["en-en-01"].question, 5)
    assert len(results) == 5
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    # each score is a sum of 1/(rrf_k + rank) over at most four rankings
    assert all(0 < s <= 4 / (rrf.settings.retrieval.rrf_k + 1) for s in scores)
    assert gold_ranks(rrf, "en-en-01", 5) == [0]


# ---------------------------------------------------------------- LangChain interface
@pytest.mark.integration
def test_langchain_retriever_returns_documents_with_their_place(retriever, corpus_store):
    from verbatim_qa.qa.langchain_retriever import LangChainRetriever

    adapter = LangChainRetriever(retriever=retriever)
    docs = adapter.invoke(ITEMS["en-en-01"].question)
    assert len(docs) == retriever.k
    ids = doc_ids(corpus_store)
    for d in docs:
        assert isinstance(d, LCDocument)
        m = d.metadata
        assert set(m) == {"source", "doc_id", "char_start", "char_end", "section", "page", "score"}
        assert d.page_content == TEXTS[m["source"]][m["char_start"] : m["char_end"]]
        assert m["doc_id"] == ids[m["source"]]
    assert [d.id for d in docs] == [r.chunk.chunk_id for r in ranked(retriever, ITEMS["en-en-01"].question)]
    batch = LangChainRetriever(retriever=retriever, k=2).batch([ITEMS["en-en-01"].question,
                                                                ITEMS["fa-fa-01"].question])
    assert [len(b) for b in batch] == [2, 2]


@pytest.mark.integration
def test_langchain_retriever_feeds_a_prompt_in_an_lcel_chain(retriever):
    """The adapter inside a real LCEL chain (retriever | format_docs, prompt, model): the passage with the answer
    reaches the model's prompt. The model is LangChain's fake LLM; everything before it is real."""
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.language_models.fake import FakeListLLM
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import PromptTemplate
    from langchain_core.runnables import RunnablePassthrough

    from verbatim_qa.qa.langchain_retriever import LangChainRetriever

    class Prompts(BaseCallbackHandler):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def on_llm_start(self, serialized, prompts, **kw) -> None:
            self.seen.extend(prompts)

    def format_docs(docs: list[LCDocument]) -> str:
        return "\n\n".join(f"[{d.metadata['source']}] {d.page_content}" for d in docs)

    prompt = PromptTemplate.from_template("Answer from the context only.\n\nContext:\n{context}\n\n"
                                          "Question: {question}")
    chain = ({"context": LangChainRetriever(retriever=retriever, k=3) | format_docs,
              "question": RunnablePassthrough()} | prompt | FakeListLLM(responses=["In Astana, in 2017."])
             | StrOutputParser())
    item, handler = ITEMS["en-en-01"], Prompts()
    assert chain.invoke(item.question, config={"callbacks": [handler]}) == "In Astana, in 2017."
    (sent,) = handler.seen
    assert sent.endswith(f"Question: {item.question}")
    assert item.gold_quotes[0] in sent and f"[{ARTICLE}]" in sent  # the passage with the answer, with its file
    off = ITEMS["fa-fa-01"].question
    chain.invoke(off, config={"callbacks": [handler]})
    assert item.gold_quotes[0] not in handler.seen[1]  # another question: other passages


# ---------------------------------------------------------------- BM25: digits and versions
def test_tokenize_folds_persian_and_arabic_digits():
    assert tokenize("۱۸ درصد") == ["18", "درصد"]
    assert tokenize("١٨") == ["18"]
    assert tokenize("18%") == ["18"]


def _chunk(cid: str, text: str, lang: str) -> Chunk:
    return Chunk(chunk_id=cid, doc_id="d", source="s.md", title="t", section=None, page=None,
                 char_start=0, char_end=len(text), text=text, lang=lang)


def test_bm25_ascii_query_matches_persian_digits_synthetic():
    index = LexicalIndex.build([
        _chunk("fa18", "سهم چین به ۱۸ درصد رسید", "fa"),
        _chunk("fa40", "نزدیک به ۴۰ درصد از بدهی", "fa"),
        _chunk("en", "The share grew to nineteen percent", "en"),
    ])
    hits = index.search(tokenize("18"), 5)
    assert [cid for cid, _ in hits] == ["fa18"]
    assert [cid for cid, _ in index.search(tokenize("١٨"), 5)] == ["fa18"]  # Arabic-Indic digits too
    assert index.search(tokenize("zzz"), 5) == []


@pytest.mark.integration
def test_bm25_ascii_query_matches_persian_digits_in_corpus(corpus_store):
    index = LexicalIndex.for_store(corpus_store)
    hits = index.search(tokenize("18"), 5)
    assert hits
    chunks = {c.chunk_id: c for c in corpus_store.get_chunks([cid for cid, _ in hits])}
    top = chunks[hits[0][0]]
    assert "۱۸" in top.text
    assert "18" not in top.text  # matched only through digit folding
    assert "18" in tokenize(top.text)


@pytest.mark.integration
def test_bm25_index_follows_the_store_version(retriever, corpus_copy, corpus_store, tmp_path):
    """``retriever`` (module scope, built first) warms the term cache that ``corpus_copy`` copies."""
    # reuse the session's loaded e5 model: only the new small file is embedded
    store = Store(Settings(home=corpus_copy, embedder="e5"), embedder=corpus_store.embedder)
    v1 = store.version()
    before = LexicalIndex.for_store(store)
    assert before.search(["quokkaville"], 5) == []
    lexical_root = store.settings.cache_dir / "lexical"
    assert (lexical_root / f"{store.settings.deployment.collection}-{v1}" / "ids.json").exists()

    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "extra.md").write_text(
        "# Field notes\n\nThe caravan stopped at Quokkaville before crossing the steppe. "
        "Traders there sold felt and dried apricots.\n", encoding="utf-8")
    report = ingest_paths(store, [folder])
    assert report.added == 1 and not report.failed
    v2 = store.version()
    assert v2 != v1

    after = LexicalIndex.for_store(store)
    hits = after.search(tokenize("Quokkaville"), 5)
    assert len(hits) == 1
    (new_chunk,) = store.get_chunks([hits[0][0]])
    assert new_chunk.source == "extra.md"
    new_chunks = [c for c in store.all_chunks() if c.source == "extra.md"]
    assert len(after.chunk_ids) == len(before.chunk_ids) + len(new_chunks)
    # the index of the old version is gone; the new one is persisted under the new key
    assert sorted(p.name for p in lexical_root.iterdir()) == [f"{store.settings.deployment.collection}-{v2}"]
    # and a retriever over the new version finds the new document
    hybrid = HybridRetriever.from_store(store)
    top = ranked(hybrid, "Where did the caravan stop before crossing the steppe?", 3)
    assert top[0].chunk.source == "extra.md"


RANK_SCRIPT = """
import json, sys
from pathlib import Path
from verbatim_qa.evals.dataset import load_items
from verbatim_qa.qa.retriever import HybridRetriever
from verbatim_qa.vectorstore.store import Store
from verbatim_qa.settings import Settings
r = HybridRetriever.from_store(Store(Settings(home=Path(sys.argv[1]), embedder="e5")))
for it in load_items(Path(sys.argv[2])):
    hits = r.retrieve(r.analyzer.analyze(it.question), 10)
    print(json.dumps([[x.chunk.chunk_id, round(x.score, 6)] for x in hits]))
"""


@pytest.mark.integration
def test_same_index_same_rankings_in_every_process(corpus_home):
    """Briefings must be reproducible: no hash-order tie breaks, no approximate HNSW pools that differ per load
    (both happened: 2-3 of 77 dev rankings changed between processes)."""
    import os
    import subprocess
    import sys

    def ranks(seed: str) -> list[str]:
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        out = subprocess.run([sys.executable, "-c", RANK_SCRIPT, str(corpus_home), str(DEV)], env=env,
                             capture_output=True, text=True, timeout=600, check=True)
        return out.stdout.splitlines()

    first, second = ranks("1"), ranks("2")
    assert len(first) == len(ITEMS) and first == second


@pytest.mark.integration
def test_a_refresh_reads_only_what_changed_and_ranks_as_a_full_preparation(retriever, corpus_copy, corpus_store,
                                                                           tmp_path, monkeypatch):
    """After an ingest, ``refreshed`` reads the new document's chunks only (no scan of the store, no other term
    embedded than the new document's) and ranks exactly as a retriever prepared from scratch; likewise after a
    delete, which reads nothing."""
    store = Store(Settings(home=corpus_copy, embedder="e5"), embedder=corpus_store.embedder)
    old = HybridRetriever.from_store(store)
    assert old.refreshed() is old  # nothing changed
    (tmp_path / "extra.md").write_text(
        "# Field notes\n\nThe caravan stopped at Quokkaville before crossing the steppe. Traders there sold felt "
        "and dried apricots.\n\n## یادداشت\n\nکاروان پیش از گذر از استپ در کوکاویل ایستاد و بازرگانان نمد فروختند.\n",
        encoding="utf-8")
    assert ingest_paths(store, [tmp_path / "extra.md"]).added == 1
    scans, read, embedded = [], [], []
    real_chunks_of, real_encode = store.chunks_of, store.embedder.encode_queries
    monkeypatch.setattr(store, "all_chunks", lambda *a, **k: scans.append(1) or [])
    monkeypatch.setattr(store, "chunks_of", lambda docs: read.extend(docs) or real_chunks_of(docs))
    monkeypatch.setattr(store.embedder, "encode_queries", lambda texts: embedded.extend(texts) or real_encode(texts))
    new = old.refreshed()
    monkeypatch.undo()
    (extra,) = [r for r in store.documents() if r.source == "extra.md"]
    assert scans == [] and read == [extra.doc_id]
    assert embedded and len(embedded) < 40  # the new document's words, not the vocabulary of the corpus
    assert "کوکاویل" in new.translator.terms and "کوکاویل" not in old.translator.terms
    full = HybridRetriever.from_store(store)
    questions = ["Where did the caravan stop before crossing the steppe?", ITEMS["en-fa-19"].question,
                 ITEMS["fa-fa-01"].question, "What did traders sell at Quokkaville?"]

    def ranking(r):
        return [[(x.chunk.chunk_id, round(x.score, 6)) for x in ranked(r, q, 10)] for q in questions]

    assert ranking(new) == ranking(full)
    assert ranked(new, questions[0], 1)[0].chunk.source == "extra.md"
    store.delete_document(extra.doc_id)
    read.clear()
    monkeypatch.setattr(store, "chunks_of", lambda docs: read.extend(docs) or real_chunks_of(docs))
    after_delete = new.refreshed()
    assert read == []
    assert ranking(after_delete) == ranking(HybridRetriever.from_store(store)) == ranking(old)


def test_term_cache_appends_segments_and_ignores_a_torn_one(tmp_path):
    from verbatim_qa.qa.crosslingual import TermCache

    class Fake:
        dim = 2

        def __init__(self):
            self.calls = []

        def encode_queries(self, texts):
            self.calls.append(list(texts))
            return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    enc = Fake()
    cache = TermCache(tmp_path)
    assert cache.vectors(["ab", "abc"], enc).tolist() == [[2, 1], [3, 1]]
    assert cache.vectors(["abc", "abcd"], enc).tolist() == [[3, 1], [4, 1]]
    assert enc.calls == [["ab", "abc"], ["abcd"]] and len(list(tmp_path.glob("*.json"))) == 2
    torn = sorted(tmp_path.glob("*.json"))[-1]
    torn.write_text('["abcd", "extra"]', encoding="utf-8")  # disagrees with its vectors: a torn write
    again, enc2 = TermCache(tmp_path), Fake()
    assert again.vectors(["ab", "abcd"], enc2).tolist() == [[2, 1], [4, 1]] and enc2.calls == [["abcd"]]


# ---------------------------------------------------------------- one analysis per question
@pytest.mark.integration
@pytest.mark.parametrize("llm", [False, True], ids=["extractive", "llm"])
@pytest.mark.parametrize("question, history", [
    ("How much natural gas has the Central Asia–China pipeline delivered to China?", []),
    ("What about Turkmenistan?", ["Which Central Asian country traded most with China in 2023?"]),
    ("ازبکستان چطور؟", ["حجم تجارت چین با قزاقستان در سال ۲۰۲۳ چقدر بود؟"]),
], ids=["plain", "follow-up", "persian-follow-up"])
def test_a_question_is_tokenized_and_its_language_detected_once(retriever, corpus_store, monkeypatch, question,
                                                                 history, llm):
    """From the question to the answer event, every module that tokenizes or detects a language is watched: the
    question is tokenized once, its language detected once, and a follow-up's search text tokenized and encoded
    once (before the analyzer: a follow-up's question was tokenized four times, and the LLM path detected its
    language twice)."""
    import sys

    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from verbatim_qa.qa.chain import answer_events
    from verbatim_qa.qa.extractive import ExtractiveAnswerer
    from verbatim_qa.qa.llm import LLMAnswerer
    from verbatim_qa.text.lang import detect_lang
    from verbatim_qa.text.normalize import tokenize

    if llm:  # condenses the follow-up, then replies with no JSON: the extractive fallback answers
        model = FakeListChatModel(responses=[f"{question} (trade with China in 2023)", "no JSON"])
        bot = LLMAnswerer(model, retriever)
    else:
        bot = ExtractiveAnswerer(retriever)
    texts: list[tuple[str, str]] = []

    def watching(name, real):
        def watched(text, *a, **kw):
            texts.append((name, text))
            return real(text, *a, **kw)
        return watched

    for name, real in (("tokenize", tokenize), ("detect_lang", detect_lang)):
        for module in [m for n, m in sys.modules.items() if n.startswith("verbatim_qa.")]:
            if getattr(module, name, None) is real:
                monkeypatch.setattr(module, name, watching(name, real))
    real_encode = corpus_store.embedder.encode_queries
    monkeypatch.setattr(corpus_store.embedder, "encode_queries",
                        lambda xs: texts.extend(("encode", x) for x in xs) or real_encode(xs))
    events = list(answer_events(bot, question, history=history))
    search = events[-1].answer.search_query
    assert (search != question) == bool(history), search
    count = {(name, which): sum(1 for n, t in texts if n == name and t == text)
             for name in ("tokenize", "detect_lang", "encode") for which, text in (("q", question), ("s", search))}
    if search == question:
        assert count == {(n, w): 1 for n in ("tokenize", "detect_lang", "encode") for w in "qs"}
    else:
        assert count == {("tokenize", "q"): 1, ("tokenize", "s"): 1, ("detect_lang", "q"): 1,
                         ("detect_lang", "s"): 0, ("encode", "q"): 0, ("encode", "s"): 1}

"""Languages beyond English and Persian (#15): identification, text handling, direction and fonts."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from verbatim_qa.text.lang import detect_lang, detect_langs
from verbatim_qa.text.normalize import find_span, normalize, tokenize

ROOT = Path(__file__).resolve().parent.parent
# 40 sentences of 8+ words (Chinese: 20+ characters) and 20 questions per language: ar, ru written for it; en, de,
# es, tr, zh from XQuAD and fa from PersianQA, sampled with a fixed seed.
LANGID = [ROOT / "evals/datasets/langid_ar_ru.jsonl", ROOT / "evals/datasets/langid_xquad_pqa.jsonl"]
LANGS = ("en", "fa", "ar", "ru", "tr", "zh", "de", "es")


def _rows() -> list[dict]:
    return [json.loads(line) for path in LANGID for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_language_of_sentences_and_questions_per_language():
    hits = defaultdict(list)
    for r in _rows():
        hits[(r["lang"], r["kind"])].append(detect_lang(r["text"]) == r["lang"])
    for lang in LANGS:
        sent = hits[(lang, "sentence")]
        assert len(sent) >= 40
        assert sum(sent) / len(sent) >= 0.98, lang
        ques = hits[(lang, "question")]
        assert sum(ques) / len(ques) >= 0.95, lang


def test_language_identification_loads_its_model_once():
    """Its cost per sentence (microseconds) is a benchmark's business; here: the model is not reloaded per call."""
    from verbatim_qa.text.lang import _detector

    sents = [r["text"] for r in _rows() if r["kind"] == "sentence"]
    detect_lang(sents[0])  # the model loads once
    loaded = _detector.cache_info().misses
    for s in sents:
        detect_lang(s)
    assert _detector.cache_info().misses == loaded


def test_document_languages_most_frequent_first():
    de = "Die Stadt liegt am Ufer des Flusses und hat eine lange Geschichte als Handelszentrum der Region. " * 30
    zh = "这座城市位于河岸，作为该地区的贸易中心有着悠久的历史。" * 10
    assert detect_langs(de + zh)[:2] == ("de", "zh")


def test_arabic_letters_stay_arabic_for_display_and_fold_for_matching():
    text = "يقع الكتاب في المكتبة الكبيرة في وسط المدينة القديمة منذ سنوات طويلة."
    assert detect_lang(text) == "ar"
    persian_typed = text.replace("ي", "ی").replace("ك", "ک")  # the same words typed on a Persian keyboard
    assert tokenize(persian_typed) == tokenize(text)  # matching folds yeh and kaf
    start, end = find_span(text, persian_typed[4:20])
    assert text[start:end] == text[4:20] and "ي" in text[start:end]  # the quote is the original Arabic letters


@pytest.mark.parametrize(("text", "want"), [("مرحبا بكم في المكتبة", "rtl"), ("خوش آمدید به کتابخانه", "rtl"),
                                            ("کتاب خانے میں خوش آمدید", "rtl"), ("ברוכים הבאים לספרייה", "rtl"),
                                            ("Добро пожаловать в библиотеку", "ltr"), ("欢迎来到图书馆", "ltr"),
                                            ("Kütüphaneye hoş geldiniz", "ltr")])
def test_direction_by_script(text, want):
    from verbatim_qa.ui.text import direction

    assert direction(text) == want


def test_font_stack_covers_arabic_cyrillic_and_chinese():
    from verbatim_qa.ui.html import FONT_STACK

    fonts = [f.strip(" '") for f in FONT_STACK.split(",")]
    assert fonts[0] == "Vazirmatn" and fonts[-1] == "sans-serif"
    for needed in ("Noto Naskh Arabic", "Noto Sans Hebrew", "Noto Sans", "Noto Sans CJK SC", "Microsoft YaHei"):
        assert needed in fonts


def test_search_form_per_language():
    assert tokenize("İSTANBUL ılık") == ["istanbul", "ilik"]
    assert normalize("Ёлка") == "елка"
    assert "图书" in tokenize("图书馆")


# ---------------------------------------------------------------- cross-language refusal, calibrated per pair
DE_DOC = """Der Rhein ist einer der längsten und wichtigsten Flüsse Europas. Er entspringt in den Schweizer Alpen und \
mündet nach etwa 1230 Kilometern in den Niederlanden in die Nordsee. Seit der Römerzeit ist der Rhein ein wichtiger \
Verkehrsweg für den Handel zwischen den Städten an seinen Ufern.

Die Stadt Köln liegt am Rhein und wurde im Jahr 50 nach Christus von den Römern gegründet. Ihr bekanntestes Bauwerk \
ist der Kölner Dom, dessen Bau im Jahr 1248 begann und erst im Jahr 1880 vollendet wurde. Heute leben in Köln mehr \
als eine Million Menschen.

Die Binnenschifffahrt auf dem Rhein transportiert jedes Jahr große Mengen an Kohle, Erz und Containern. Der Hafen \
von Duisburg gilt als der größte Binnenhafen Europas und verbindet das Ruhrgebiet mit den Seehäfen an der Küste.
"""


@pytest.fixture(scope="module")
def german_bot(tmp_path_factory):
    from verbatim_qa.ingest.pipeline import ingest_paths
    from verbatim_qa.qa.chain import build_answerer
    from verbatim_qa.settings import Settings
    from verbatim_qa.vectorstore.store import Store

    root = tmp_path_factory.mktemp("german")
    (root / "docs").mkdir()
    (root / "docs" / "rhein.txt").write_text(DE_DOC, encoding="utf-8")
    store = Store(Settings(home=root / "home", embedder="e5"))
    assert ingest_paths(store, [root / "docs"]).added == 1
    return build_answerer(store.settings, store, "extractive")


@pytest.mark.integration
def test_german_document_and_chunks_are_german(german_bot):
    store = german_bot.retriever.store
    assert [d.langs[0] for d in store.documents()] == ["de"]
    assert {c.lang for c in store.all_chunks()} == {"de"}


@pytest.mark.integration
@pytest.mark.parametrize(("question", "needle"), [("When did construction of Cologne Cathedral begin?", "1248"),
                                                  ("Where does the Rhine flow into the sea?", "Nordsee")])
def test_english_question_over_german_text_is_answered(german_bot, question, needle):
    a = german_bot.answer(question)
    assert not a.refused
    assert any(needle in c.quote for c in a.citations)
    assert a.caveat is None  # "Cathedral", "Rhine": English words a German text cannot be expected to spell


@pytest.mark.integration
@pytest.mark.parametrize("question", ["How do I bake sourdough bread?", "Who won the 2018 FIFA World Cup final?"])
def test_off_topic_question_over_german_text_is_refused(german_bot, question):
    assert german_bot.answer(question).refused


# ---------------------------------------------------------------- stopwords per language
def test_stopwords_per_language_from_the_library_and_english_persian_by_hand():
    from verbatim_qa.qa.query import content
    from verbatim_qa.text.stopwords import EN_STOP, FA_STOP, stopwords

    assert stopwords("en") is EN_STOP and stopwords("fa") is FA_STOP  # the library's remove "ai", "year", "داده"
    assert {"der", "die", "und", "wann"} <= stopwords("de") and {"и", "в", "не"} <= stopwords("ru")
    assert {"bir", "ve"} <= stopwords("tr") and normalize("في") in stopwords("ar") and stopwords("xx") == frozenset()
    assert all(w == normalize(w) and " " not in w for w in stopwords("ar"))  # in the search form, single tokens
    assert content(tokenize("Wann begann der Bau des Kölner Doms?"), "de") == {"begann", "bau", "kölner", "doms"}
    assert {"ai", "year"} <= content(tokenize("In which year did AI research start?"), "en")


# ---------------------------------------------------------------- the term bridge into every document language
@pytest.mark.integration
def test_bridge_translates_into_the_german_vocabulary(german_bot):
    from verbatim_qa.qa.retriever import HybridRetriever

    assert german_bot.retriever.translator.targets("en") == []  # en-de is left out by default (measured)
    store = german_bot.retriever.store
    retriever = HybridRetriever.from_store(store, store.settings.with_(bridge_pairs="*-*"))
    assert set(retriever.translator.langs) == {"de"} and retriever.translator.targets("en") == ["de"]
    assert retriever.translator.targets("de") == []  # a German question over German text needs none
    q = retriever.analyzer.analyze("When did construction of Cologne Cathedral begin?")
    assert "dom" in q.translation.split() or "kölner" in q.translation.split(), q.translation


def test_bridge_pairs_setting():
    from verbatim_qa.qa.crosslingual import pair_allowed
    from verbatim_qa.settings import Settings

    assert pair_allowed("*-*", "en", "de") and not pair_allowed("*-*,!fa-en", "fa", "en")
    assert pair_allowed("*-*,!fa-en", "en", "fa") and not pair_allowed("en-fa", "*", "de")
    with pytest.raises(ValueError, match="VERBATIM_BRIDGE_PAIRS"):
        Settings(bridge_pairs="german")


@pytest.mark.integration
def test_pair_offset_is_at_least_the_constant_and_calibrated_per_question(german_bot):
    retriever = german_bot.retriever
    s = retriever.settings
    on = retriever.analyzer.analyze("When did construction of Cologne Cathedral begin?")
    off = retriever.analyzer.analyze("How do I bake sourdough bread?")
    for q in (on, off):
        offsets = retriever.pair_offsets(q)
        assert set(offsets) == {"de"} and offsets["de"] >= s.retrieval.lang_offset
    assert retriever.pair_offsets(retriever.analyzer.analyze("Wann begann der Bau des Kölner Doms?")) == {}

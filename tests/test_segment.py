"""Offsets are exact: every sentence and chunk is text[char_start:char_end], over generated text and the corpus."""

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verbatim_qa.ingest.chunking import chunk_document
from verbatim_qa.text.normalize import find_span, normalize, normalize_map, tokenize
from verbatim_qa.text.segment import segment, sentences
from verbatim_qa.types import Document, content_hash

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
ALPHABET = st.sampled_from(
    list("abcXYZ .,!?;:\n\n#*<>/-") + list("سلامچینهوشمصنوعی ؟،؛.") + ["\u200c", "۱", "۸", "Dr.", "3.5", "e.g."]
    # hostile structure: runs of terminals and closers, dotted words, fences, list markers, headings, sup tags
    + ["!!!", "...", "?!", "”", "»", ")", "a.b.c", "U.S.A.", "```", "\n- ", "\n1. ", "\n## ", "<sup>۱</sup>", "\t"]
)
TEXTS = st.lists(ALPHABET, max_size=400).map("".join)


def doc_of(text: str) -> Document:
    return Document("d", "f.md", "/f.md", "t", text, ("en",), content_hash(text))


def assert_exact(doc: Document, max_chars: int) -> None:
    chunks = chunk_document(doc, max_chars)
    prev_end = 0
    for c in chunks:
        assert doc.text[c.char_start : c.char_end] == c.text
        assert c.char_start >= prev_end  # in order, no overlap
        prev_end = c.char_end
        for s in c.sentences:
            assert doc.text[s.char_start : s.char_end] == s.text
            assert c.char_start <= s.char_start < s.char_end <= c.char_end
            assert s.text == s.text.strip()


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.integers(min_value=1, max_value=800))
def test_offsets_exact_on_generated_text(text, max_chars):
    assert_exact(doc_of(text), max_chars)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_offsets_exact_on_arbitrary_unicode(text):
    assert_exact(doc_of(text), 200)


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_no_text_is_lost_between_sentences(text):
    """Sentences cover every non-space character of the text."""
    covered = [False] * len(text)
    for s in sentences(text):
        for i in range(s.char_start, s.char_end):
            covered[i] = True
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())


@pytest.mark.parametrize("path", sorted(CORPUS.iterdir()), ids=lambda p: p.name)
@pytest.mark.parametrize("max_chars", [300, 600, 1000])
def test_offsets_exact_on_corpus(path, max_chars):
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    assert_exact(doc_of(text), max_chars)


def test_english_abbreviations_and_decimals_do_not_split():
    text = "Dr. Smith paid 3.5 million, e.g. for roads in the U.S. market. Then he left! Why? Because."
    got = [s.text for s in sentences(text)]
    assert got == ["Dr. Smith paid 3.5 million, e.g. for roads in the U.S. market.", "Then he left!", "Why?",
                   "Because."]


def test_dot_leaders_end_the_sentence_before_them():
    """A table of contents' leaders are no sentence of their own: thousands of identical rows (one vector) made the
    dense pools' cut an arbitrary, per-process pick among them."""
    text = "Introduction. . . . . . . . . 5\nHello world. ... Next one!"
    got = [s.text for s in sentences(text)]
    assert got == ["Introduction. . . . . . . . .", "5\nHello world. ...", "Next one!"]
    assert all(any(ch.isalnum() for ch in s) for s in got)


def test_persian_punctuation():
    text = "چین در آسیای مرکزی فعال است، اما روسیه نگران است؛ چرا؟ پاسخ روشن است. پایان"
    got = [s.text for s in sentences(text)]
    assert got == ["چین در آسیای مرکزی فعال است، اما روسیه نگران است؛ چرا؟", "پاسخ روشن است.", "پایان"]


def test_markdown_sections_give_paths():
    text = "# Title\n\nIntro text here.\n\n## Part A\n\nAlpha one. Alpha two.\n\n### Sub\n\nDeep.\n\n## Part B\n\nBeta."
    paths = [sec.path for sec in segment(text)]
    assert paths == ["Title", "Title > Part A", "Title > Part A > Sub", "Title > Part B"]


def test_chunks_respect_size_and_sections():
    text = "## S\n\n" + " ".join(f"Sentence number {i} is here." for i in range(40)) + "\n\n## T\n\nLast one."
    chunks = chunk_document(doc_of(text), 200)
    assert all(len(c.text) <= 200 for c in chunks)
    assert chunks[-1].section == "T" and chunks[-1].text.endswith("Last one.")
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_search_form_folds_persian_and_digits():
    assert normalize("می‌شود") == normalize("میشود")
    assert normalize("كتاب ي") == normalize("کتاب ی")
    assert tokenize("سال ۱۸ و ١٩") == ["سال", "18", "و", "19"]
    assert normalize("رضاپور<sup>۱</sup> **مهم**") == "رضاپور مهم"
    assert normalize("Hello  WORLD\n") == "hello world"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.integers(0, 200), st.integers(0, 200))
def test_find_span_maps_back_to_original(text, a, b):
    a, b = sorted((min(a, len(text)), min(b, len(text))))
    needle = text[a:b]
    span = find_span(text, needle)
    if span is None:
        assert normalize(needle) == "" or normalize(needle) not in normalize(text)
    else:
        s, e = span
        assert normalize(text[s:e]) == normalize(needle)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), TEXTS))
def test_normalize_map_points_every_character_back_into_the_text(text):
    """The search form never crashes and each of its characters maps to an original index, in order."""
    norm, origin = normalize_map(text)
    assert len(norm) == len(origin)
    assert all(0 <= o < len(text) for o in origin)
    assert origin == sorted(origin)
    assert norm == norm.strip(" ") and "  " not in norm
    assert normalize(text) == norm  # the fast path (no map) gives the same search form


@pytest.mark.parametrize("line", [
    "Caravan 12 crossed the pass at dawn. " * 13_500,  # ordinary prose on one line
    "a.b" * 165_000,  # periods with no space: each used to rescan the sentence so far
    "!" * 499_999 + "x",  # one run of terminals not followed by a space
    "wordy" * 100_000,  # one "sentence" of half a million characters
], ids=["prose", "dotted", "bangs", "no-terminal"])
def test_a_half_megabyte_line_is_segmented_in_linear_time(line):
    """Hostile input must not hang ingest: these took hours before (quadratic). The time of the whole line
    against a tenth of it, in one run: linear is ~10x, quadratic ~100x (the tenth's best of three, against noise)."""
    def timed(text: str) -> float:
        started = time.perf_counter()
        assert_exact(doc_of(text), 600)
        return time.perf_counter() - started

    tenth = min(timed(line[: len(line) // 10]) for _ in range(3))
    assert timed(line) / tenth < 40

"""ui/text.py, the answer text split for rendering: paragraphs, quotes before markers (a "[3]" inside a quote is the
document's, not a citation), and the writing direction of a text."""

from __future__ import annotations

import pytest

from verbatim_qa.ui.text import Segment, direction, is_rtl, paragraphs, segments


def test_paragraphs_split_on_blank_lines_and_drop_empty_ones():
    text = "\n\nFirst line\nsame paragraph\n\n  \n\nSecond [1]\n\n\n"
    assert paragraphs(text) == ["First line\nsame paragraph", "Second [1]"]
    assert paragraphs("") == [] and paragraphs(" \n\n \n") == []


def test_a_marker_inside_a_quote_belongs_to_the_quote():
    quote = "Huawei opened it in 2017 [3] with the city."
    got = segments(f"“{quote}” [1] and [3]", {1: quote})
    assert got == [Segment("text", "“"), Segment("quote", quote, 1), Segment("text", "” "),
                   Segment("marker", "[1]", 1), Segment("text", " and [3]")]  # no citation 3: "[3]" stays text


def test_markers_of_known_citations_only():
    got = segments("See [2], [10] and [2].", {2: "x"})
    assert [s.kind for s in got] == ["text", "marker", "text", "marker", "text"]
    assert [s.n for s in got if s.kind == "marker"] == [2, 2]
    assert "".join(s.text for s in got) == "See [2], [10] and [2]."


def test_longer_quotes_are_placed_first_and_quotes_never_overlap():
    long, short = "the new police centre in Bishkek", "police centre"
    got = segments(f"“{long}” [1] “{short}” [2]", {2: short, 1: long})
    assert [(s.kind, s.text, s.n) for s in got if s.kind == "quote"] == [("quote", long, 1), ("quote", short, 2)]


def test_a_quote_found_twice_is_taken_once_and_a_missing_or_empty_quote_is_skipped():
    got = segments("a b a", {1: "a", 2: "zzz", 3: ""})
    assert [(s.kind, s.text) for s in got] == [("quote", "a"), ("text", " b a")]


def test_segments_rebuild_the_paragraph_exactly():
    para = "Intro. “Alpha [1] beta” [1] mid “گزارش ۲۰۲۳” [2] end [7]"
    got = segments(para, {1: "Alpha [1] beta", 2: "گزارش ۲۰۲۳"})
    assert "".join(s.text for s in got) == para
    assert [s.kind for s in got].count("marker") == 2 and [s.kind for s in got].count("quote") == 2


@pytest.mark.parametrize("text, want", [
    ("Hello", "ltr"), ("سلام", "rtl"), ("שלום", "rtl"), ("مرحبا", "rtl"),
    ("۲۰۲۳ سال", "rtl"),  # Persian digits are weak (AN/EN): the first letter decides
    ("2023: گزارش", "rtl"), ("“(2023)” Report", "ltr"), ("123 ...", None), ("", None),
])
def test_direction_of_the_first_strong_character(text, want):
    assert direction(text) == want
    assert is_rtl(text) is (want == "rtl")

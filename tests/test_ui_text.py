"""ui/text.py: the paragraphs of streamed draft text and the writing direction of a text. (Answers are rendered from
their parts, tests/test_render.py: no quote or marker is looked for in text.)"""

from __future__ import annotations

import pytest

from verbatim_qa.ui.text import direction, is_rtl, paragraphs


def test_paragraphs_split_on_blank_lines_and_drop_empty_ones():
    text = "\n\nFirst line\nsame paragraph\n\n  \n\nSecond [1]\n\n\n"
    assert paragraphs(text) == ["First line\nsame paragraph", "Second [1]"]
    assert paragraphs("") == [] and paragraphs(" \n\n \n") == []


@pytest.mark.parametrize("text, want", [
    ("Hello", "ltr"), ("سلام", "rtl"), ("שלום", "rtl"), ("مرحبا", "rtl"),
    ("۲۰۲۳ سال", "rtl"),  # Persian digits are weak (AN/EN): the first letter decides
    ("2023: گزارش", "rtl"), ("“(2023)” Report", "ltr"), ("123 ...", None), ("", None),
])
def test_direction_of_the_first_strong_character(text, want):
    assert direction(text) == want
    assert is_rtl(text) is (want == "rtl")

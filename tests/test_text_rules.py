"""The pure text rules of verbatim_qa/text that had no direct tests: one-line messages, sentence roles from a block's
shape, scripts and short-text languages, stopwords and heading text."""

from __future__ import annotations

import pytest

from verbatim_qa.text.lang import detect_lang, is_arabic_script, is_caseless, script_of, script_of_lang
from verbatim_qa.text.lines import one_line
from verbatim_qa.text.roles import assign_roles, block_role, block_spans, heading_role, is_reference_heading
from verbatim_qa.text.segment import clean_heading, segment
from verbatim_qa.text.stopwords import is_stop, stopwords


# ---------------------------------------------------------------- lines
def test_one_line_folds_white_space_names_the_exception_and_cuts():
    assert one_line("a\n  b\tc") == "a b c"
    assert one_line(ValueError("bad\nthing")) == "bad thing"
    assert one_line(ValueError("bad\nthing"), kind=True) == "ValueError: bad thing"
    assert one_line(KeyError()) == "KeyError"  # no message: the type stands alone
    assert one_line("x" * 10, limit=8) == "xxxxx..." and len(one_line("y" * 500)) == 300


# ---------------------------------------------------------------- roles
TITLE = "Water in Asia"


@pytest.mark.parametrize("block, role", [
    ("Water in Asia", "title"),
    ("Water in Asia. It is long. ", "body"),  # a line equal to the title but made of sentences is text
    ("Some plain sentence about rivers.", "body"),
    ("جدول ۲- تجارت", "caption"), ("Table 3.1: Trade", "caption"), ("(The panorama above is of Khiva)", "caption"),
    ("Written by Jane", "attribution"), ("نویسنده: دانیال رضاپور", "attribution"), ("Heather Zeiger", "attribution"),
    ("Aruuke Uran Kyzy, “Why is anti-Chinese sentiment on the rise?” at The Diplomat", "attribution"),
    ("Heather zeiger walked", "body"),  # not a name: lower case
    ("Smith, J. (2019). Rivers of Asia.", "reference"),
    ("Doe, Jane. Water. Available at: https://x.org doi: 10.1/2", "reference"),
    ("https://example.org/aral", "link"), ("[link](https://x.org)", "body"),  # a link with words is text
    ("<sup>1</sup> A footnote.", "footnote"), ("¹ note", "footnote"), ("* a starred note", "footnote"),
    # a table of contents' line in a book's text version: dot leaders to the end, with or without its page number
    ("1.2 Basics . . . . . . . . . . . . 12", "toc"), ("Things you need to know ........ xii", "toc"),
    ("مزیتهای لاتک در مقایسه با حروفچینهای دیگر . . . . . . . . . . .", "toc"),
    ("He waited... and waited.... Then he left.", "body"),  # an ellipsis is not a leader
])
def test_block_role_from_its_shape(block, role):
    assert block_role(block, TITLE) == role


def test_in_a_reference_section_text_is_reference_but_shapes_still_win():
    assert block_role("Some plain sentence about rivers.", None, in_references=True) == "reference"
    assert block_role("Table 3.1: Trade", None, in_references=True) == "caption"


@pytest.mark.parametrize("heading, want", [
    ("References", True), ("**References**", True), ("3. منابع", True), ("کتابنامه:", True),
    ("Reference points", False), ("Sources of water", False),
])
def test_reference_headings(heading, want):
    assert is_reference_heading(heading) is want


def test_heading_role_and_block_spans():
    assert heading_role("Water in ASIA", TITLE) == "title" and heading_role("Rivers", TITLE) == "heading"
    assert heading_role("Rivers", None) == "heading"
    text = "\n\n  a\nb  \n\n\nc\n"
    assert block_spans(text) == [(4, 7), (12, 13)] and [text[s:e] for s, e in block_spans(text)] == ["a\nb", "c"]


def test_assign_roles_labels_spans_without_moving_them():
    text = ("# Water in Asia\n\nThe Amu Darya feeds the Aral Sea. It has shrunk since the 1960s.\n\n"
            "Figure 1: The Aral Sea in 1989.\n\n## References\n\nSmith, J. (2019), Rivers of Asia, Oxford.\n")
    sections = segment(text)
    labelled = assign_roles(text, sections, TITLE)
    spans = [(s.char_start, s.char_end) for sec in labelled for s in sec.sentences]
    assert spans == [(s.char_start, s.char_end) for sec in sections for s in sec.sentences]
    roles = {s.text: s.role for sec in labelled for s in sec.sentences}
    assert roles["The Amu Darya feeds the Aral Sea."] == roles["It has shrunk since the 1960s."] == "body"
    assert roles["Figure 1: The Aral Sea in 1989."] == "caption"
    assert roles["## References"] == "heading"
    assert roles["Smith, J. (2019), Rivers of Asia, Oxford."] == "reference"


# ---------------------------------------------------------------- scripts and short texts
@pytest.mark.parametrize("text, script", [
    ("Hello world", "latin"), ("abcd سلام", "arabic"),  # a tie with Latin goes to Arabic script
    ("日本語のテキスト", "kana"), ("中文文本", "han"), ("Привет мир", "cyrillic"), ("Hi שלום עולם", "hebrew"),
    ("123 !?", None), ("", None),
])
def test_script_of(text, script):
    assert script_of(text) == script


def test_scripts_of_languages_and_case():
    assert [script_of_lang(x) for x in ("fa", "ar", "de", "zh", "uk", "xx")] == \
        ["arabic", "arabic", "latin", "han", "cyrillic", "latin"]
    assert is_caseless("سلام دنیا") and is_caseless("中文") and not is_caseless("Hello") and not is_caseless("Привет")
    assert is_arabic_script("ب") and is_arabic_script("۲") and not is_arabic_script("b")


@pytest.mark.parametrize("text, fallback, lang", [
    ("Hello", None, "en"), ("Hallo", "de", "de"),  # one word: the fallback when its script matches
    ("سلام", "de", "fa"), ("Привет", None, "ru"), ("你好", None, "zh"),  # else the script's default
    ("123 456", None, "und"), ("<b></b> user@example.org https://x.org", None, "und"),  # no letters of a language
])
def test_short_texts_take_the_fallback_or_the_scripts_default(text, fallback, lang):
    assert detect_lang(text, fallback) == lang


# ---------------------------------------------------------------- stopwords and headings
def test_stopwords_hand_lists_and_the_library():
    assert is_stop("the") and is_stop("و") and not is_stop("river")
    assert is_stop("und", "de") and not is_stop("und")  # German only when asked for
    assert stopwords("xx") == frozenset() and stopwords(None) == frozenset()
    assert all(" " not in w for w in stopwords("de"))  # one search-form token each


def test_clean_heading_drops_markup_and_closing_hashes():
    assert clean_heading("## **Rivers** <sup>2</sup> ##") == "Rivers"
    assert clean_heading("#   A   b  ") == "A b"

"""Document HTML in the Markdown Verbatim writes is shown, never run (issue 26): "Copy as Markdown" / ``ask``
(qa/render.py) and Markdown briefings escape it, a CommonMark renderer (markdown-it, rich's) shows it as text,
and ``verify`` still reads each quote back exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from verbatim_qa.ingest.loaders import load_document
from verbatim_qa.qa.answer import Answer
from verbatim_qa.qa.render import to_markdown as answer_markdown
from verbatim_qa.text.markdown import escape_html
from verbatim_qa.types import Citation
from verbatim_qa.ui.briefing import Briefing, Item, Note, Segment, to_markdown
from verbatim_qa.ui.claims import read_claims
from verbatim_qa.ui.provenance import Record, text_sha256, unescape
from verbatim_qa.ui.verify import OK, CorpusSources, verify

HOSTILE = 'Opened <img src=x onerror="alert(1)"> in 2017 &amp; <script>steal()</script> \\<b> [sic]'
TEXT = f"Intro line.\n\n{HOSTILE}\n"
html = MarkdownIt("commonmark").render  # raw HTML on: what a Markdown viewer does with a .md file


def rendered_tags(markdown: str) -> set[str]:
    out = html(markdown)
    return {tag for tag in ("<img", "<script", "<b>") if tag in out}


@given(st.text(alphabet=st.sampled_from(list("\\<>&;#a1*[]`_ \n")), max_size=40))
def test_unescape_undoes_escape(text):
    assert unescape(escape_html(text)) == text


def test_escaped_html_is_shown_not_run():
    assert rendered_tags(HOSTILE) == {"<img", "<script"}  # what an unescaped quote did
    out = html(escape_html(HOSTILE))
    assert rendered_tags(escape_html(HOSTILE)) == set()
    assert "&lt;script&gt;steal()&lt;/script&gt;" in out and "&amp;amp;" in out and "\\&lt;b&gt;" in out
    assert escape_html("AT&T, 3 < 4 > 2, **bold** [1]") == "AT&T, 3 \\< 4 > 2, **bold** [1]"  # only what is needed


def citation() -> Citation:
    start = TEXT.index(HOSTILE)
    return Citation(1, "note.txt", "Note", None, None, HOSTILE, start, start + len(HOSTILE))


def test_copy_as_markdown_escapes_the_quote_and_the_question():
    answer = Answer("Who wrote <i>it</i>?", False, [citation()], quoted=(1,))
    md = answer_markdown(answer)
    assert rendered_tags(md) == set() and "<i>" not in html(md)
    assert f"“{HOSTILE}”" in unescape(md)


def test_markdown_briefing_is_escaped_and_verify_reads_its_quotes_back(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "note.txt").write_text(TEXT, encoding="utf-8")
    doc = load_document(folder / "note.txt", 10_000)
    c = citation()
    record = Record(1, "note.txt", doc.doc_id, text_sha256(doc.text), c.char_start, c.char_end)
    paragraph = [Segment("text", "“"), Segment("quote", HOSTILE, 1), Segment("text", "” "), Segment("marker", "[1]", 1)]
    item = Item("What <b>opened</b>?", False, [paragraph], [Note(1, c, record)])
    md = to_markdown(Briefing("Brief <script>x()</script>", None, [item]))
    assert rendered_tags(md) == set()
    path = tmp_path / "brief.md"
    path.write_text(md, encoding="utf-8")
    (claim,) = read_claims(path)
    assert claim.quote == HOSTILE
    assert [r.status for r in verify([claim], CorpusSources(folder, 10_000))] == [OK]

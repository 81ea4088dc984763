"""The renderers of one hand-built Answer value (no model, no store): the contract's text and JSON, Markdown,
footnotes, the chat HTML and the briefings; the LLM's reply turned into typed sentences; its draft decoded while
it streams; the stream events."""

from __future__ import annotations

import io
import json

import docx
import pytest

from verbatim_qa.qa.answer import MODEL_WORDS, QUOTES_ONLY_NOTE, REFUSAL, Answer, Marker, ModelSentence
from verbatim_qa.qa.events import Done, Retrieved, Token
from verbatim_qa.qa.llm.markers import cited_text
from verbatim_qa.qa.llm.reply import AnswerStream
from verbatim_qa.qa.llm.verify import Verified, VerifiedQuotes
from verbatim_qa.qa.render import footnotes, to_markdown, with_footnotes
from verbatim_qa.types import AnswerSpan, Chunk, Citation, ScoredChunk
from verbatim_qa.ui import briefing
from verbatim_qa.ui import html as H

TEXT = ("Before. The city installed 1,200 cameras in 2019[3]. After that, police watched them. "
        "چین دوربین‌ها را نصب کرد.")
Q1 = "The city installed 1,200 cameras in 2019[3]."  # "[3]": a footnote mark of the document, not a citation
Q2 = "چین دوربین‌ها را نصب کرد."


def chunk() -> Chunk:
    return Chunk("c1", "doc1", "cams.pdf", "Cameras", "City", 4, 0, len(TEXT), TEXT, "en")


def cite(n: int, quote: str) -> Citation:
    start = TEXT.index(quote)
    return Citation(n, "cams.pdf", "Cameras", "City", 4, quote, start, start + len(quote), doc_id="doc1",
                    extracted_by="ocr")


def extractive() -> Answer:
    span = AnswerSpan("1,200", "cams.pdf", TEXT.index("1,200"), TEXT.index("1,200") + 5)
    return Answer("How many cameras?", False, [cite(1, Q1), cite(2, Q2)], [ScoredChunk(chunk(), 1.0)],
                  answer_span=span, caveat="The passages below give figures, but none counts officers.",
                  language_note="Part of the evidence is in Persian; quoted verbatim, not translated:",
                  quoted=(1, 2))


def llm() -> Answer:
    said = (ModelSentence(("The city has 1,200 cameras ", Marker(1), ".")),
            ModelSentence(("Dragons guard them ", Marker(None), ".")," "),
            ModelSentence(("China put them up ", Marker(2), Marker(1), "."), "\n\n"))
    return Answer("How many cameras?", False, [cite(1, Q1), cite(2, Q2)], [ScoredChunk(chunk(), 1.0)],
                  answerer="llm", sentences=said)


# ---- the contract's text and JSON ----------------------------------------------------------------------------
def test_text_is_the_parts_in_order():
    assert extractive().answer == (
        "**1,200**\n\nThe passages below give figures, but none counts officers.\n\n"
        "Part of the evidence is in Persian; quoted verbatim, not translated:\n\n"
        f"“{Q1}” [1]\n\n“{Q2}” [2]")
    assert llm().answer == (f"{MODEL_WORDS}\n\nThe city has 1,200 cameras [1]. Dragons guard them [unsupported]."
                            "\n\nChina put them up [2][1].")
    refused = Answer("q", True, nearest=(("a.txt", "Intro"), ("b.md", None)))
    assert refused.answer == f"{REFUSAL} Nearest passages: a.txt (Intro); b.md."


def test_json_gains_fields_and_keeps_the_old_ones():
    d = llm().to_dict()
    assert list(d)[:8] == ["question", "search_query", "answer", "refused", "answer_span", "caveat", "citations",
                           "retrieved"]
    assert d["answer"] == llm().answer and d["language_note"] is None
    assert d["model_sentences"] == [{"text": "The city has 1,200 cameras [1].", "citations": [1]},
                                    {"text": "Dragons guard them [unsupported].", "citations": []},
                                    {"text": "China put them up [2][1].", "citations": [2, 1]}]
    c = d["citations"][0]
    assert list(c)[:8] == ["n", "source", "title", "section", "page", "quote", "char_start", "char_end"]
    assert (c["doc_id"], c["extracted_by"]) == ("doc1", "ocr")
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d


# ---- Markdown and footnotes ----------------------------------------------------------------------------------
def test_markdown_writes_markers_from_the_value_not_from_the_text():
    md = to_markdown(extractive())
    assert md.startswith("**Q:** How many cameras?\n\n**1,200**\n\n")
    assert f"“{Q1}” [^1]" in md and "2019[3]" in md  # the document's own "[3]" stays as it is
    assert f"[^1]: “{Q1}” — Cameras, City, p. 4 (cams.pdf, chars 8–52)" in md
    body = to_markdown(llm(), heading=False)
    assert body.startswith(f"{MODEL_WORDS}\n\nThe city has 1,200 cameras [^1]. Dragons guard them [unsupported]."
                           "\n\nChina put them up [^2][^1].\n")


def test_footnotes_for_chat_clients():
    notes = footnotes(extractive())
    assert notes.split("\n\n")[0] == f"[1] “{Q1}” — Cameras, City, p. 4 (cams.pdf, chars 8–52)"
    assert with_footnotes(extractive()) == f"{extractive().answer}\n\n{notes}"
    assert with_footnotes(Answer("q", True)) == REFUSAL


# ---- the chat HTML -------------------------------------------------------------------------------------------
def test_chat_html_renders_each_part():
    page = H.answer_html(0, extractive(), "md", token="")
    assert '<p class="vb-key" dir="auto"><b dir="auto">1,200</b></p>' in page
    assert '<p class="vb-caveat" dir="auto">The passages below give figures, but none counts officers.</p>' in page
    assert 'class="vb-lang-note"' in page
    assert f'“<span class="vb-quote" dir="auto">{Q1}</span>” <button type="button" class="vb-cite"' in page
    assert '<p dir="rtl">“<span class="vb-quote" dir="auto">' in page  # the Persian quote's paragraph
    assert page.count('class="vb-cite"') == 2  # the document's "[3]" is no marker
    # the source panel: the quote inside its chunk, the page image (a PDF), and that the text came from OCR
    assert f"Before. <mark>{Q1}</mark> After that" in page and "read by OCR" in page
    assert 'src="/api/sources/doc1/pages/4.png?start=8&amp;end=52"' in page


def test_chat_html_marks_the_models_own_sentences():
    page = H.answer_html(0, llm(), "md")
    assert page.count('<p class="vb-said"') == 2  # two paragraphs of the model's words
    assert page.count(f'<p class="vb-said-tag">{H.e(MODEL_WORDS)}</p>') == 1  # under one label
    assert "vb-said-tag" not in H.answer_html(0, extractive(), "md")
    assert '<span class="vb-unsupported" title="no verified quote backs this claim">[unsupported]</span>' in page
    assert 'China put them up <button type="button" class="vb-cite" data-src="vb-src-0-2"' in page
    assert "vb-quote" not in page.split('<div class="vb-cards">')[0]  # no quote lines: every quote is cited


def test_streaming_turn_shows_the_draft_as_a_draft():
    turn = {"question": "q", "status": "streaming", "text": "The city has [1"}
    page = H.conversation([turn])
    assert "Draft: the quotes are being checked" in page and "The city has [1" in page and "vb-caret" in page
    assert "Draft" not in H.conversation([{**turn, "text": ""}])


# ---- briefings -----------------------------------------------------------------------------------------------
def test_briefing_numbers_footnotes_across_answers_and_keeps_the_key_fact_bold():
    b = briefing.build([extractive(), llm()], "B")
    md = briefing.to_markdown(b)
    assert "**1,200**" in md and f"“{Q1}” [^1]" in md and f"“{Q2}” [^2]" in md
    assert (f"_{MODEL_WORDS}_\n\nThe city has 1,200 cameras [^3]. Dragons guard them [unsupported].\n\n"
            "China put them up [^4][^3].") in md and md.count(MODEL_WORDS) == 1
    assert md.count("[^3]: “") == 1 and md.count("[^4]: “") == 1 and "2019[3]" in md
    page = briefing.to_html(b)
    assert '<b class="key" dir="auto">1,200</b>' in page and '<sup><a href="#fn-4" id="ref-4">4</a></sup>' in page
    assert page.count(f'<i class="said-tag">{briefing.e(MODEL_WORDS)}</i>') == 1
    doc = docx.Document(io.BytesIO(briefing.to_docx(b)))
    key = next(p for p in doc.paragraphs if p.text == "1,200")
    assert key.runs[0].bold
    assert any(p.text == "China put them up 43." for p in doc.paragraphs)  # markers are superscript numbers
    label = next(p for p in doc.paragraphs if p.text == MODEL_WORDS)
    assert label.runs[0].italic


# ---- the LLM reply as typed sentences ------------------------------------------------------------------------
def verified(*spans: tuple[int, str]) -> VerifiedQuotes:
    """The model's marker n stands for the verified span of ``quote``."""
    found = VerifiedQuotes()
    for n, quote in spans:
        key = ("doc1", TEXT.index(quote), TEXT.index(quote) + len(quote))
        found.spans.setdefault(key, Verified(chunk(), key[1], key[2]))
        found.by_n.setdefault(n, []).append(key)
    return found


def test_cited_text_keeps_cited_sentences_and_renumbers_markers():
    cited = cited_text("No source here. China built them [5]. The city has many [2, 7].\n\nEnd [2].",
                       verified((2, Q1), (5, Q2)), quotes_only=False)
    assert [c.quote for c in cited.citations] == [Q2, Q1]  # numbered in order of first mention
    assert [s.text() for s in cited.sentences] == ["China built them [1].", "The city has many [2][unsupported].",
                                                    "End [2]."]
    assert [s.gap for s in cited.sentences] == ["", " ", "\n\n"] and cited.quoted == ()
    assert cited.sentences[1].cites == (2,)
    assert any("1 sentence(s)" in n for n in cited.notes) and any("[7]" in n for n in cited.notes)


def test_cited_text_without_backed_markers_shows_only_quotes():
    cited = cited_text("Nothing cited here.", verified((1, Q1)), quotes_only=False)
    assert cited.sentences == () and cited.quoted == (1,)
    strict = cited_text("Cited [1].", verified((1, Q1)), quotes_only=True)
    assert strict.sentences == () and strict.quoted == (1,) and strict.notes == []


# ---- the draft, decoded while it streams ---------------------------------------------------------------------
@pytest.mark.parametrize("reply", [
    '{"answer": "Caravans carried \\"silk\\" [1]\\nand paper \\u00e9\\ud83d\\ude00 \\u0686.", "quotes": []}',
    'Sure! ```json\n{"quotes": [{"n": 1, "quote": "the \\"answer\\": \\"no\\""}], "answer": "Caravans [1]."}\n```',
    '{"answer":"چین [1] و \\\\ بیشتر"}',
])
def test_answer_stream_yields_the_answer_field_piece_by_piece(reply):
    want = json.loads(reply[reply.index("{"): reply.rindex("}") + 1])["answer"]
    for size in (1, 2, 3, 7, len(reply)):
        draft = AnswerStream()
        got = "".join(draft.feed(reply[i : i + size]) for i in range(0, len(reply), size))
        assert got == want, size


def test_answer_stream_yields_nothing_for_a_reply_without_the_field():
    draft = AnswerStream()
    assert draft.feed("I think the answer is ") + draft.feed("Samarkand.") == ""


# ---- events ----------------------------------------------------------------------------------------------------
def test_events_as_the_http_stream_sends_them():
    hit = ScoredChunk(chunk(), 0.1234567)
    assert Retrieved([hit]).to_dict() == {"type": "retrieved", "retrieved": [
        {"source": "cams.pdf", "section": "City", "char_start": 0, "char_end": len(TEXT), "score": 0.123457}]}
    assert Token("The ").to_dict() == {"type": "token", "text": "The "}
    assert Done(llm()).to_dict() == {"type": "answer", "answer": llm().to_dict()}


def test_only_quotes_drops_the_models_sentences_and_quotes_every_citation():
    strict = llm().only_quotes()
    assert strict.sentences == () and strict.quoted == (1, 2) and strict.notes[-1] == QUOTES_ONLY_NOTE
    assert strict.answer == f"“{Q1}” [1]\n\n“{Q2}” [2]" and MODEL_WORDS not in to_markdown(strict)
    assert extractive().only_quotes() is not None and extractive().only_quotes().answer == extractive().answer

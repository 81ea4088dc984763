"""DOCX tables as rows (each row a paragraph of its own, cells labelled by the header row) and right-to-left
(``w:bidi``) paragraphs in logical order: on the real LibreOffice briefing (tests/data, from ../shared/pdf) and
on documents made here with python-docx; and the row answering a question about it through the real answerer."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement

from verbatim_qa.ingest.loaders import load_document

BRIEFING = Path(__file__).resolve().parent / "data" / "briefing-libreoffice.docx"  # a copy of shared/pdf's
MAX = 10**8


def _doc(tmp_path, rows, rtl=False, header_flag=False) -> Path:
    d = docx.Document()
    d.add_paragraph("Before the table.")
    table = d.add_table(rows=len(rows), cols=len(rows[0]))
    for row, cells in zip(table.rows, rows):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    if header_flag:
        table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    para = d.add_paragraph("After the table.")
    if rtl:
        para._p.get_or_add_pPr().append(OxmlElement("w:bidi"))
    path = tmp_path / "t.docx"
    d.save(path)
    return path


def test_real_briefing_rows_carry_their_header_and_rtl_reads_as_typed():
    doc = load_document(BRIEFING, MAX)
    blocks = doc.text.split("\n\n")
    assert "Country: Uzbekistan | Trade with China, 2023: $14 billion | Change: +45%" in blocks
    assert "Country: Turkmenistan | Trade with China, 2023: $10.6 billion | Change: -5.2%" in blocks
    assert "Country | Trade with China, 2023 | Change" not in doc.text  # the labels are in every row instead
    truth = (BRIEFING.with_name("briefing-libreoffice.paragraphs.txt")).read_text("utf-8").splitlines()
    persian = [line for line in truth if any("\u0600" <= c <= "\u06ff" for c in line)]
    assert len(persian) >= 5
    for line in persian:  # right-to-left paragraphs: exactly the typed (logical) order, numbers and «» included
        assert line in blocks
    assert any(b.startswith("فاخری (۲۰۲۱) در مقاله «") for b in blocks)


def test_header_labels_need_a_header_row(tmp_path):
    labelled = load_document(_doc(tmp_path, [["Country", "Trade"], ["Kazakhstan", "$41 billion"],
                                             ["Uzbekistan", "$14 billion"]]), MAX)
    assert labelled.text == ("Before the table.\n\nCountry: Kazakhstan | Trade: $41 billion\n\n"
                             "Country: Uzbekistan | Trade: $14 billion\n\nAfter the table.")
    # a first row holding figures is data, not labels
    plain = load_document(_doc(tmp_path, [["2021", "41"], ["2022", "45"]]), MAX)
    assert plain.text == "Before the table.\n\n2021 | 41\n\n2022 | 45\n\nAfter the table."
    # marked as a repeating header row: labels even when they hold figures
    flagged = load_document(_doc(tmp_path, [["Year", "2023"], ["Kazakhstan", "41"]], header_flag=True), MAX)
    assert "Year: Kazakhstan | 2023: 41" in flagged.text


def test_persian_table_and_rtl_paragraph(tmp_path):
    path = _doc(tmp_path, [["کشور", "حجم تجارت (میلیارد دلار)"], ["قزاقستان", "۴۱"], ["ازبکستان", "۱۴"]], rtl=True)
    doc = load_document(path, MAX)
    assert "کشور: قزاقستان | حجم تجارت (میلیارد دلار): ۴۱" in doc.text.split("\n\n")
    assert doc.text.endswith("After the table.")


@pytest.mark.integration
def test_a_row_answers_with_its_header(make_settings, tmp_path):
    from verbatim_qa.ingest.pipeline import ingest_paths
    from verbatim_qa.qa.chain import build_answerer
    from verbatim_qa.vectorstore.store import Store

    store = Store(make_settings("e5"))
    assert ingest_paths(store, [BRIEFING]).added == 1
    bot = build_answerer(store.settings.with_(llm_base_url=""), store, "extractive")
    answer = bot.answer("What was Uzbekistan's trade with China in 2023?")
    assert not answer.refused
    quotes = [c.quote for c in answer.citations]
    assert any("Uzbekistan | Trade with China, 2023: $14 billion" in q for q in quotes), quotes
    doc = store.load(store.documents()[0].doc_id)
    for c in answer.citations:
        assert doc.text[c.char_start:c.char_end] == c.quote

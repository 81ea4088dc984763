"""Web pages: main content (trafilatura picks it, the visible-text walker writes it) on saved pages in
evals/html (two chapters of the Debian FAQ's DocBook manual, and an English and a Persian news page with a cookie
banner, navigation, a sidebar and a footer): the article and its headings in, the page chrome out."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from verbatim_qa.cli import app
from verbatim_qa.evals.html_eval import html_pages, run_html_eval
from verbatim_qa.ingest.loaders import load_document
from verbatim_qa.settings import Settings

PAGES = Path(__file__).resolve().parent.parent / "evals" / "html"


def test_saved_pages_keep_the_article_and_drop_the_chrome():
    result = run_html_eval(PAGES, Settings())
    assert len(result["pages"]) == 4
    for page in result["pages"]:
        main, visible = page["main"], page["visible"]
        assert main["sentence_recall"] == 1.0, page["file"]
        assert main["lines_kept"] == visible["lines_kept"] >= 0.97, page["file"]  # nothing of the article lost
        assert main["boilerplate_leaked"] == 0, (page["file"], main["leaked"])
        assert visible["boilerplate_leaked"] >= 3, page["file"]  # the chrome is there to be left out


@pytest.mark.parametrize("name, headings", [
    ("debian-faq-basic-defs.html", ["# Chapter 1. Definitions and overview", "## 1.1. What is this FAQ?",
                                    "## 1.7. How does one pronounce Debian and what does this word mean?"]),
    ("news-article-en.html", ["# China leans hard on Central Asia", "## Surveillance for free"]),
    ("news-article-fa.html", ["# چین و آسیای مرکزی", "## پیشینه پژوهش"]),
])
def test_headings_lead_the_main_content(name, headings):
    doc = load_document(PAGES / name, 10**7)
    blocks = doc.text.split("\n\n")
    assert [b for b in blocks if b.startswith("#")][:2] == headings[:2]
    assert all(h in blocks for h in headings)
    assert doc.text.startswith(headings[0])  # no banner, navigation or byline before the title
    assert "Most read this week" not in doc.text and "cookie" not in doc.text.lower()
    assert doc.title  # <title> still names the page


def test_eval_html_command(tmp_path):
    run = CliRunner().invoke(app, ["eval", "--html", str(PAGES), "--out", str(tmp_path)])
    assert run.exit_code == 0, run.output
    assert "| news-article-fa.html | 1.000 | 1.000 | 0/11 |" in (tmp_path / "html_report.md").read_text("utf-8")
    assert html_pages(tmp_path) == []
    assert CliRunner().invoke(app, ["eval", "--html", str(tmp_path)]).exit_code == 2

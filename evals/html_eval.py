"""``verbatim eval --html DIR``: what of a saved web page comes out as its text, main content (trafilatura, what
Verbatim indexes) beside all visible text. Each ``NAME.html`` comes with ``NAME.paragraphs.txt`` (the article's
headings and paragraphs, one a line) and ``NAME.boilerplate.txt`` (navigation, banner, footer and sidebar texts,
one a line, none of them in the article).

Per page: sentence recall (``pdf_metrics``), lines kept (article lines, headings included, whole inside one
paragraph) and boilerplate leaked (boilerplate lines found anywhere in the text).
"""

from __future__ import annotations

from pathlib import Path

from verbatim_qa.ingest.loaders.decode import decode_text, normalize_newlines
from verbatim_qa.ingest.loaders.html import html_text, visible_text
from verbatim_qa.settings import Settings

from .pdf_metrics import normalise, row_recall, sentence_recall, sentences


def html_pages(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.glob("*.htm*")) if p.with_suffix(".paragraphs.txt").is_file()]


def page_scores(text: str, article: list[str], boilerplate: list[str]) -> dict:
    paras = text.split("\n\n")
    found, n = sentence_recall(sentences(article), paras)
    kept, lines = row_recall([[line] for line in article], paras)
    flat = normalise(text)
    leaked = [b for b in boilerplate if normalise(b) in flat]
    return {"sentence_recall": found / n if n else None, "lines_kept": kept / lines if lines else None,
            "boilerplate_leaked": len(leaked), "boilerplate": len(boilerplate), "leaked": leaked}


def run_html_eval(folder: Path, settings: Settings) -> dict:
    pages = []
    for page in html_pages(folder):
        markup = normalize_newlines(decode_text(page.read_bytes()))
        article = [x for x in page.with_suffix(".paragraphs.txt").read_text("utf-8").splitlines() if x.strip()]
        bp = page.with_suffix(".boilerplate.txt")
        boilerplate = [x for x in bp.read_text("utf-8").splitlines() if x.strip()] if bp.is_file() else []
        pages.append(
            {
                "file": page.name,
                "main": page_scores(html_text(markup, settings.documents.html_min_main_chars)[0], article, boilerplate),
                "visible": page_scores(visible_text(markup)[0], article, boilerplate),
            }
        )
    return {"folder": str(folder), "pages": pages}


def html_report(result: dict) -> str:
    def f(v):
        return "—" if v is None else f"{v:.3f}"

    lines = [f"# Web page text: {result['folder']}", "",
             "main = main content (trafilatura, indexed); visible = all visible text. Recall: article sentences whole "
             "in one paragraph; lines: article lines (headings too) whole in one paragraph; leaked: boilerplate "
             "lines (navigation, cookie banner, footer, sidebar) found in the text.", "",
             "| page | main recall | main lines | main leaked | visible recall | visible lines | visible leaked |",
             "|---|---|---|---|---|---|---|"]
    for p in result["pages"]:
        m, v = p["main"], p["visible"]
        lines.append(f"| {p['file']} | {f(m['sentence_recall'])} | {f(m['lines_kept'])} | "
                     f"{m['boilerplate_leaked']}/{m['boilerplate']} | {f(v['sentence_recall'])} | "
                     f"{f(v['lines_kept'])} | {v['boilerplate_leaked']}/{v['boilerplate']} |")
    return "\n".join(lines) + "\n"

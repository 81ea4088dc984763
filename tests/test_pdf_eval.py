"""``verbatim eval --pdf``: the fidelity measures on hand-made cases (no PDF), the LaTeX and paragraph ground
truths, the producer families, and the command end to end on a Chromium PDF printed here."""

from __future__ import annotations

import gzip
import html
import io
import json
import tarfile

import pytest
from pdfs import chromium_pdf
from typer.testing import CliRunner

from verbatim_qa.cli import app
from verbatim_qa.evals.latex_text import UNKNOWN, latex_text
from verbatim_qa.evals.pdf_bench import extractor_speeds
from verbatim_qa.evals.pdf_eval import pdf_report, producer_family, run_pdf_eval
from verbatim_qa.evals.pdf_metrics import (
    Score,
    mean_of,
    normalise,
    row_recall,
    score,
    sentence_recall,
    sentences,
    token_validity,
    tokens,
    vocabulary,
)
from verbatim_qa.evals.pdf_truth import read_truth, truth_file
from verbatim_qa.settings import Settings

EN = ("The caravan reached the oasis before the storm broke over the dunes. "
      "Its drivers watered the camels and counted the bales twice.")
FA = "تا پایان سال ۲۰۲۳، در مجموع ۴۲۳,۲ میلیارد مترمکعب گاز از این خط لوله به چین صادر شده است."


# ---------------------------------------------------------------- normalisation and tokens
def test_normalise_removes_what_the_definition_removes():
    assert normalise("می\u200cکند") == normalise("میکند") == "میکند"
    assert normalise("a b\tc\n d") == "abcd"
    assert normalise("\u200fسلام\u200e") == "سلام"  # bidi marks
    assert normalise("کـــتاب") == "کتاب"  # tatweel
    assert normalise("علي كتاب") == "علیکتاب"  # Arabic yeh and kaf folded to Persian
    assert normalise("ﻣﺠﻤﻮع") == "مجموع"  # presentation forms by NFKC
    assert normalise("۱۳۹۷") == normalise("1397")  # XePersian prints the source's ASCII digits as Persian


def test_tokens_keep_a_zwnj_word_whole_and_split_a_broken_one():
    assert tokens("می‌کند") == ["میکند"]
    assert tokens("م یکند") == ["م", "یکند"]
    assert tokens("«چین»، (۲۰۲۱) well-known") == ["چین", "2021", "well", "known"]
    assert tokens("بُعد") == ["بُعد"]  # a combining mark stays in its word


def test_sentences_need_six_words_and_stay_in_their_paragraph():
    got = sentences(["One two three four five six. Short one here.", "Seven eight nine ten eleven twelve?"])
    assert got == ["One two three four five six.", "Seven eight nine ten eleven twelve?"]
    assert sentences(["«جمله‌ای فارسی با شش کلمه است.» و این هم جمله دوم با شش کلمه."]) == [
        "«جمله‌ای فارسی با شش کلمه است.»", "و این هم جمله دوم با شش کلمه."]


# ---------------------------------------------------------------- the measures
def test_sentence_recall_whole_inside_one_paragraph():
    sents = sentences([EN])
    assert len(sents) == 2
    assert sentence_recall(sents, [EN]) == (2, 2)
    lines = ["The caravan reached the oasis before the", "storm broke over the dunes. Its drivers watered",
             "the camels and counted the bales twice."]
    assert sentence_recall(sents, lines) == (0, 2)  # one line per paragraph: every sentence cut
    assert sentence_recall(sents, ["\n".join(lines)]) == (2, 2)  # line ends are whitespace
    # a match never runs from one paragraph into the next
    assert sentence_recall(sents, ["The caravan reached the oasis", "before the storm broke over the dunes."]) == (0, 2)
    assert sentence_recall(sentences([FA]), [FA.replace(" ", "  ")]) == (1, 1)
    assert sentence_recall([], ["anything"]) == (0, 0)


def test_token_validity_counts_broken_and_reversed_words():
    vocab = vocabulary([FA, "می‌کند چین"])
    assert token_validity("می‌کند چین", vocab) == (2, 2)
    assert token_validity("م یکند نیچ", vocab) == (0, 3)  # split and reversed words are not words of the source
    assert token_validity("page 12 چین", vocab) == (1, 2)  # bare numbers (page numbers) are not counted


def test_row_recall_needs_every_cell_in_order_in_one_paragraph():
    rows = [["Country", "Trade"], ["Kazakhstan", "$41 billion"]]
    assert row_recall(rows, ["Country Trade", "Kazakhstan $41 billion"]) == (2, 2)
    assert row_recall(rows, ["Kazakhstan", "$41 billion"]) == (0, 2)[0:1] + (2,)
    assert row_recall(rows, ["Trade Country", "$41 billion Kazakhstan"]) == (0, 2)


def test_score_and_means():
    s = score(sentences([EN]), vocabulary([EN]), [], [EN, "zzz"])
    assert s == Score(2, 2, 22, 23, 0, 0)
    assert s.sentence_recall == 1.0 and s.token_validity == 22 / 23 and s.row_recall is None
    assert Score(0, 0, 0, 0).sentence_recall is None
    assert mean_of([0.5, None, 1.0]) == 0.75 and mean_of([None]) is None


def test_score_reads_a_line_end_hyphen_as_matching_does():
    """The loader keeps "-\n" where the page hyphenates a word at a line end; matching reads the word whole, and so
    does the score: both the sentence and the word count. A hyphen before a space stays a broken word."""
    source = sentences([EN])
    hyphenated = EN.replace("watered", "wa-\ntered").replace("reached", "reach-\r\ned")
    assert score(source, vocabulary([EN]), [], [hyphenated]) == Score(2, 2, 22, 22, 0, 0)
    broken = EN.replace("watered", "wa- tered")
    assert score(source, vocabulary([EN]), [], [broken]).sentences_found == 1


def test_xepersian_punctuation_folds_like_its_digits():
    """XePersian prints the source's ";" as "؛" (and its 1397 as ۱۳۹۷): the same sentence either way."""
    assert normalise("سبک آلفاپرشین؛ سبکی برای ایجاد مراجع") == normalise("سبک آلفاپرشین; سبکی برای ایجاد مراجع")


# ---------------------------------------------------------------- ground truth
def test_latex_text_prints_what_latex_prints():
    src = r"""\documentclass{article}
\usepackage{xepersian} % a comment
\begin{document}
\section{Getting started}
The \emph{quick} brown fox---a ``clever'' animal---jumps over the lazy dog's
back~again.\footnote{A note.} Na\"ive caf\'e \LaTeX{} users type \verb|\relax| often.
Math like $x^2$ hides a sentence from the comparison entirely here.

\begin{verbatim}
code_line(42) % not a comment
\end{verbatim}
\end{document}"""
    text = latex_text(src)
    paras = text.split("\n\n")
    assert "Getting started" in paras
    assert "The quick brown fox—a “clever” animal—jumps over the lazy dog’s back again." + UNKNOWN in text
    assert "A note." in paras
    assert "Naïve café LATEX users type \\relax often." in text
    assert any("code_line(42) % not a comment" in p and UNKNOWN in p for p in paras)
    assert "comment" not in text.replace("not a comment", "")
    assert any(UNKNOWN in p and "Math like" in p for p in paras)


def test_latex_truth_keeps_only_comparable_sentences(tmp_path):
    src = (r"\begin{document}Every word of this sentence prints as typed here. "
           r"This one cites \cite{knuth} a book we cannot render.\end{document}")
    (tmp_path / "doc.tex.gz").write_bytes(gzip.compress(src.encode()))
    truth = read_truth(tmp_path / "doc.tex.gz")
    assert truth.sentences == ["Every word of this sentence prints as typed here."]
    assert {"cites", "knuth", "prints"} <= truth.vocab  # the raw source's words count for validity

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, body in (("src/a.tex", src), ("src/b.tex", r"The second chapter has its own sentence too."),
                           ("src/style.sty", r"\newcommand{\never}{Words in a style file never print.}")):
            info = tarfile.TarInfo(name)
            info.size = len(body.encode())
            tar.addfile(info, io.BytesIO(body.encode()))
    (tmp_path / "book.src.tar.gz").write_bytes(buf.getvalue())
    book = read_truth(tmp_path / "book.src.tar.gz")
    assert sorted(book.sentences) == ["Every word of this sentence prints as typed here.",
                                      "The second chapter has its own sentence too."]


def test_paragraph_truth_rows_and_sidecar_lookup(tmp_path):
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    assert truth_file(tmp_path / "x.pdf") is None
    (tmp_path / "x.paragraphs.txt").write_text(f"Title\n{EN}\nCountry | Trade\nKazakhstan | $41 billion\n", "utf-8")
    truth = read_truth(truth_file(tmp_path / "x.pdf"))
    assert truth.rows == [["Country", "Trade"], ["Kazakhstan", "$41 billion"]]
    assert len(truth.sentences) == 2 and "Kazakhstan" in truth.vocab


def test_producer_families():
    assert producer_family({"Creator": "Writer", "Producer": "LibreOffice 7.4"}) == "LibreOffice"
    assert producer_family({"Creator": "Chromium", "Producer": "Skia/PDF m120"}) == "Chromium"
    assert producer_family({"Creator": "LaTeX with hyperref", "Producer": "xdvipdfmx (20190824)"}) == \
        "LaTeX (xdvipdfmx)"
    assert producer_family({"Creator": "LaTeX with hyperref package", "Producer": "XeTeX 0.99999"}) == "XeTeX"
    assert producer_family({"Creator": "groff version 1.22.4", "Producer": "GPL Ghostscript 10.0"}) == \
        "groff + Ghostscript"
    assert producer_family({"Creator": "scan of LibreOffice 7.4", "Producer": "img2pdf 0.6.3"}) == \
        "scan of LibreOffice"
    assert producer_family({"Producer": "Acme PDF 1.0"}) == "Acme PDF 1.0"


# ---------------------------------------------------------------- end to end
@pytest.mark.integration  # Chromium prints the page
def test_eval_pdf_command_on_a_printed_page(tmp_path):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    paras = [EN, FA]
    chromium_pdf("".join(f'<p dir="auto">{html.escape(p)}</p>' for p in paras), folder / "page.pdf")
    (folder / "page.paragraphs.txt").write_text("\n".join(paras) + "\n", "utf-8")
    (folder / "page.html").unlink()
    (folder / "orphan.pdf").write_bytes((folder / "page.pdf").read_bytes())  # no ground truth: skipped, said so

    result = run_pdf_eval(folder, Settings())
    [doc] = result["documents"]
    assert doc["producer"] == "Chromium" and doc["sentences"] == 3
    assert set(doc["by"]) == {"verbatim", "pdfium", "pdftotext"}
    assert doc["by"]["verbatim"]["sentence_recall"] == 1.0
    assert "| Chromium | 1 |" in pdf_report(result)

    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["eval", "--pdf", str(folder), "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "orphan.pdf: no ground truth" in run.stderr
    saved = json.loads((out / "pdf_results.json").read_text("utf-8"))
    assert saved["documents"][0]["by"]["verbatim"]["sentences_found"] == 3
    assert "| page.pdf | Chromium | 1 | 3 |" in (out / "pdf_report.md").read_text("utf-8")

    speeds = extractor_speeds(folder / "page.pdf", Settings())  # what `verbatim bench --pdf-dir` prints per file
    assert speeds["pages"] == 1
    assert all(speeds[f"{n}_pages_per_s"] > 0 for n in ("verbatim", "pdfium", "pdftotext"))

    empty = tmp_path / "empty"
    empty.mkdir()
    assert CliRunner().invoke(app, ["eval", "--pdf", str(empty)]).exit_code == 2
    assert CliRunner().invoke(app, ["eval", "--pdf", str(tmp_path / "missing")]).exit_code == 2

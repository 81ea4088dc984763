"""Code terms in a question (function names, options, file names, MIME types, LaTeX commands) are recognised
(verbatim_qa/text/identifiers.py), prose is not, and a passage holding one exactly is ranked for it
(qa/retriever.py ``holding``)."""

from __future__ import annotations

import pytest

from verbatim_qa.qa.fusion import Signals, fuse
from verbatim_qa.settings import Settings
from verbatim_qa.text.identifiers import holds, identifiers


@pytest.mark.parametrize(("question", "terms"), [
    ("What does asn1_get_length_der return?", ("asn1_get_length_der",)),
    ("What does the --shell-escape option do?", ("--shell-escape",)),
    ("Run latex -shell-escape on it", ("-shell-escape",)),
    ("Where is mimeapps.list stored?", ("mimeapps.list",)),
    ("Which header is libtasn1.h?", ("libtasn1.h",)),
    ("Which MIME type is application/x-tex or text/plain?", ("application/x-tex", "text/plain")),
    ("How do I use \\usepackage{graphicx}?", ("\\usepackage",)),
    ("What does canvas.drawString(x, y, text) do, and drawString()?", ("canvas.drawstring", "drawstring")),
    ("Are files under /usr/share/mime/packages read?", ("/usr/share/mime/packages",)),
    ("What does `ps2pdf` do?", ("ps2pdf",)),
])
def test_code_terms_are_found_in_search_form(question, terms):
    assert identifiers(question) == terms


@pytest.mark.parametrize("question", [
    "Roughly how many countries have bought Huawei's AI-based facial recognition, e.g. in the U.S.?",
    "Which Python versions does ReportLab 3.6.12 require?",
    "Who maintains alpha-persian, and/or who wrote it?",
    "What is 3.5 percent of the GDP, i.e. the total of Ph.D. holders?",
    "How do I make ReportLab produce PDF/A compliant files?",
    "چه کسی سبک آلفاپرشین را نوشته است؟",
])
def test_prose_has_no_code_terms(question):
    assert identifiers(question) == ()


def test_a_term_is_held_whole_not_inside_a_longer_name():
    assert holds("Call asn1_get_length_der() first.", "asn1_get_length_der")
    assert not holds("Call asn1_get_length_der2() first.", "asn1_get_length_der")
    assert not holds("see my_asn1_get_length_der", "asn1_get_length_der")
    assert holds("\\documentclass{article}", "\\documentclass")
    assert not holds("\\documentclassx", "\\documentclass")
    assert holds("Set the MIME type to Application/X-TeX.", "application/x-tex")  # the search form folds case


def test_holding_a_term_lifts_a_chunk_and_brings_it_in():
    """A chunk no other ranking found still becomes a candidate; the lift is w_identifier x the share held."""
    s = Settings(w_identifier=0.1)
    sig = Signals(lang="en", sent=[("a", 0.90), ("b", 0.89)], chunk=[("a", 0.8), ("b", 0.8)], bm25=[],
                  ident=[("b", 1.0), ("c", 0.5)])
    assert sig.candidates() == {"a", "b", "c"}
    fused = fuse(sig, {"a": "en", "b": "en", "c": "en"}, s)
    assert fused["b"] > fused["a"]
    assert fused["b"] - fused["a"] == pytest.approx(0.1 - 0.01)
    plain = fuse(Signals(lang="en", sent=sig.sent, chunk=sig.chunk, bm25=[]), {"a": "en", "b": "en"}, s)
    assert plain["a"] > plain["b"]

"""The answer metrics of ``verbatim eval`` (evals/answers.py): pure maths over plain rows."""

from __future__ import annotations

import math

import pytest

from verbatim_qa.evals.answers import (
    answer_metrics,
    keyfact_metrics,
    quote_metrics,
    quotes_without_gold,
    span_contains,
    squad_norm,
    token_f1,
)


@pytest.mark.parametrize("text, want", [
    ("The Greens", "greens"), ("۴۲۳,۲ میلیارد", "423 2 میلیارد"), ("$22 million.", "$22 million"),
    ("  An  Apple ", "apple"),
])
def test_squad_norm_folds_case_articles_punctuation_and_digits(text, want):
    assert squad_norm(text) == want


def test_token_f1_is_squads():
    assert token_f1("Lady Gaga", "Lady Gaga") == 1.0
    assert token_f1("the singer Lady Gaga", "Lady Gaga") == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))
    assert token_f1("Academy Award", "Lady Gaga") == 0.0
    assert token_f1("۱۳", "13") == 1.0  # digits folded


def test_span_contains_the_gold_and_is_short():
    assert span_contains("1943", ["1943"])
    assert not span_contains("7 January 1943 in New York City", ["1943"])  # more than three times the gold
    assert span_contains("حدود ۰٫۴۴ کیلومتر مربع", ["۰٫۴۴ کیلومتر مربع"])
    assert not span_contains(None, ["1943"]) and not span_contains("1901", ["1904"])


def row(**kw) -> dict:
    base = {"answerable": True, "refused": False, "caveat": False, "quote_hit": 1.0, "verbatim": [True],
            "roles": ["body"], "answer_in_quotes": True, "factoid": True, "span_hit": True, "span_em": 1.0,
            "span_f1": 1.0, "ms": 10.0}
    return {**base, **kw}


def test_answer_metrics_counts_caveats_refusals_roles_and_spans():
    rows = [row(), row(span_hit=False, span_em=0.0, span_f1=0.5, roles=["body", "caption"]),
            row(caveat=True, factoid=False, span_hit=None, span_em=None, span_f1=None),
            row(answerable=False, quote_hit=None, caveat=True, factoid=False, span_hit=None, span_em=None,
                span_f1=None, answer_in_quotes=None),
            row(answerable=False, quote_hit=None, refused=True, verbatim=[], roles=[], factoid=False,
                span_hit=None, span_em=None, span_f1=None, answer_in_quotes=None),
            row(answerable=False, quote_hit=None, factoid=False, span_hit=None, span_em=None, span_f1=None,
                answer_in_quotes=None)]
    m = answer_metrics(rows)
    assert m["n_answerable"] == 3 and m["n_unanswerable"] == 3 and m["n_factoid"] == 2
    assert m["span_hit_factoid"] == 0.5
    assert m["span_exact_match"] == 0.5 and m["span_f1"] == 0.75
    assert m["answerable_caveated"] == pytest.approx(1 / 3)
    assert m["unanswerable_refused_or_caveated"] == pytest.approx(2 / 3)
    assert m["refusal_rate_unanswerable"] == pytest.approx(1 / 3)
    assert m["non_body_quote_share"] == pytest.approx(1 / 6)
    assert m["false_refusal_rate"] == 0.0


def test_answer_metrics_without_unanswerables_says_nan():
    m = answer_metrics([row()])
    assert math.isnan(m["unanswerable_refused_or_caveated"]) and "span_hit_factoid" in m


def test_keyfact_precision_coverage_and_shown_where_it_should_not_be():
    rows = [row(shown=True), row(shown=True, span_hit=False), row(shown=False, span_hit=False),
            row(shown=True, factoid=False, span_hit=True),  # right on a non-factoid question: counts for precision
            row(shown=True, caveat=True, span_hit=False),
            row(answerable=False, shown=True, span_hit=None, factoid=False),
            row(answerable=False, shown=False, refused=True, span_hit=None, factoid=False)]
    m = keyfact_metrics(rows)
    assert m["keyfact_shown"] == 4 and m["keyfact_precision"] == 0.5
    assert m["keyfact_coverage"] == pytest.approx(3 / 4)  # shown on 3 of the 4 factoid questions
    assert m["keyfact_on_unanswerable"] == 0.5 and m["keyfact_on_refused_or_caveated"] == 1
    assert keyfact_metrics([row()]) == {}  # rows that do not say whether a key fact was shown
    assert math.isnan(keyfact_metrics([row(shown=False, factoid=False)])["keyfact_precision"])


def test_quotes_per_answer_and_quotes_without_gold_evidence():
    rows = [row(quotes=3, quotes_no_gold=1), row(quotes=1, quotes_no_gold=0),
            row(quotes=2, quotes_no_gold=None),  # gold unknown: not judged, still an answer with quotes
            row(quotes=0, refused=True, quotes_no_gold=0)]
    m = quote_metrics(rows)
    assert m["quotes_per_answer"] == 2.0 and m["no_gold_quote_share"] == 0.25
    assert quote_metrics([row()]) == {}


def test_quotes_without_gold_counts_quotes_overlapping_no_gold_span():
    cites = [("a.txt", 0, 15), ("a.txt", 16, 31), ("b.txt", 16, 31)]
    assert quotes_without_gold(cites, [[("a.txt", 20, 40)]]) == 2
    assert quotes_without_gold(cites, [[("a.txt", 0, 5)], [("b.txt", 30, 31), ("a.txt", 99, 100)]]) == 1
    assert quotes_without_gold(cites, [[("a.txt", 0, 5)], []]) is None  # a gold piece lost: not judged
    assert quotes_without_gold([], [[("a.txt", 0, 5)]]) == 0

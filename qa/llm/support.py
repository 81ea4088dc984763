"""Whether the quotes a model's sentence cites back it: a cheap, explainable test of its words, not of its meaning.

A verified quote proves the document says the quote, not that it says what the model wrote beside the marker: a
model obeying a document's "ignore previous instructions ... send your password to ..." can cite a real, unrelated
passage (issue #26). A sentence is backed when at least ``min_share`` of its content words (stopwords dropped) are
in the quotes it cites, a word matching a quote word with the same first ``STEM`` letters ("moves" ~ "moved"),
every number it states is in them, and it negates ("not", "never", ...) only when one of them does too (the
quote's words with "not" added are the cheapest false claim). The share that separates backed from unbacked
sentences, and how often this is right, is measured on hand-made pairs (evals/support_eval.py;
docs/measurements.md#model-sentence-support).
"""

from __future__ import annotations

from collections.abc import Iterable

from verbatim_qa.text.normalize import tokenize
from verbatim_qa.text.stopwords import is_stop

NEGATIONS = frozenset({"not", "no", "never", "none", "nor", "nothing", "nobody", "neither", "without", "cannot",
                       "isn", "aren", "wasn", "weren", "doesn", "didn", "don", "hasn", "haven", "hadn", "wouldn",
                       "shouldn", "couldn"})  # English only: "isn" is how the search form splits "isn't"
STEM = 4  # first letters two words share to count as one ("archive"/"archives", "grew"/"grew"); numbers: exact


def content_terms(text: str) -> list[str]:
    """The words of ``text`` that carry its claim (search form, stopwords and single letters dropped)."""
    return [t for t in tokenize(text) if t.isdigit() or (len(t) > 1 and not is_stop(t))]


def _key(term: str) -> str:
    return term if term.isdigit() else term[:STEM]


def support(sentence: str, quotes: Iterable[str]) -> float:
    """The share of ``sentence``'s content words found in ``quotes`` (its text without markers); 0 when it states a
    number none of them has or negates where none of them does, 1 when it has no content word (claims nothing)."""
    quotes = list(quotes)
    if NEGATIONS.intersection(tokenize(sentence)) and not any(NEGATIONS.intersection(tokenize(q)) for q in quotes):
        return 0.0
    terms = content_terms(sentence)
    if not terms:
        return 1.0
    found = {_key(t) for q in quotes for t in content_terms(q)}
    if any(t.isdigit() and t not in found for t in terms):
        return 0.0
    return sum(_key(t) in found for t in terms) / len(terms)

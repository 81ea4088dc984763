"""``verify`` on offsets that are no span of a text (issue 26): Python slicing reads a negative start from the end,
so a claim of chars -5–len used to come out "ok" for a quote no offset pointed at. Without an index: the claims of
an ``ask --json`` file, checked against a folder read with the ingest loaders."""

from __future__ import annotations

import json

import pytest
from helpers import write

from verbatim_qa.ui.claims import read_claims
from verbatim_qa.ui.provenance import text_sha256
from verbatim_qa.ui.verify import DIFFERS, OK, CorpusSources, verify

TEXT = "The bridge at Ishkashim was rebuilt in 2003. Traders cross it every Saturday.\n"


def results(tmp_path, start: int, end: int, quote: str, sha: str = "") -> list[tuple[str, str]]:
    write(tmp_path / "docs", "note.txt", TEXT)
    answer = {"citations": [{"n": 1, "source": "note.txt", "quote": quote, "char_start": start, "char_end": end}],
              "provenance": [{"n": 1, "source": "note.txt", "doc_id": "", "sha256": sha,
                              "char_start": start, "char_end": end}]}
    claims = read_claims(write(tmp_path, "answer.json", json.dumps(answer)))
    return [(r.status, r.detail) for r in verify(claims, CorpusSources(tmp_path / "docs", 10_000))]


def test_a_quote_at_its_offsets_is_ok(tmp_path):
    start = TEXT.index("rebuilt in 2003")
    assert results(tmp_path, start, start + 15, "rebuilt in 2003", text_sha256(TEXT)) == [(OK, "")]


@pytest.mark.parametrize("start, end", [
    (-9, len(TEXT)),  # the last nine characters, read from the end
    (-9, -1),
    (40, 30),  # an end before the start: an empty slice
])
def test_offsets_that_are_no_span_are_refused(tmp_path, start, end):
    quote = TEXT[start:end]  # what Python's slicing gives: the claim would match it
    for sha in ("", text_sha256(TEXT)):
        ((status, detail),) = results(tmp_path, start, end, quote, sha)
        assert status == DIFFERS and detail == f"chars {start}–{end} are not a span of a text"

"""Answer metrics: quote-hit, citation verbatim rate, refusal and false-refusal rates, latency.

Maths in pure functions over plain values (``answer_metrics``); ``run_answer_eval`` does the I/O.
"""

from __future__ import annotations

import time
from pathlib import Path

from qa.chain import build_answerer
from vectorstore.store import Store
from verbatim.settings import Settings
from verbatim.text.normalize import normalize

from .dataset import EvalItem, gold_spans, read_corpus
from .metrics import mean, overlaps, percentile


def answer_metrics(rows: list[dict]) -> dict:
    """rows: {"answerable", "refused", "quote_hit" (float|None), "verbatim": [bool], "answer_in_quotes"
    (bool|None), "ms"} per item."""
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    checks = [v for r in rows for v in r["verbatim"]]
    out = {
        "quote_hit": mean([r["quote_hit"] for r in ans]),
        "citation_verbatim_rate": (sum(checks) / len(checks)) if checks else 1.0,
        "citations": len(checks),
        "refusal_rate_unanswerable": mean([float(r["refused"]) for r in una]) if una else float("nan"),
        "false_refusal_rate": mean([float(r["refused"]) for r in ans]) if ans else float("nan"),
        "latency_p50_ms": percentile([r["ms"] for r in rows], 50),
        "latency_p95_ms": percentile([r["ms"] for r in rows], 95),
        "n_answerable": len(ans),
        "n_unanswerable": len(una),
    }
    with_answers = [r for r in ans if r.get("answer_in_quotes") is not None]
    if with_answers:
        out["answer_in_quotes"] = mean([float(r["answer_in_quotes"]) for r in with_answers])
    return out


def quote_hit(citations: list[tuple[str, int, int]], gold: list[list[tuple[str, int, int]]]) -> float:
    """Share of gold pieces that some cited quote overlaps."""
    if not gold:
        return 0.0
    return sum(any(overlaps(c, s) for c in citations for s in spans) for spans in gold) / len(gold)


def run_answer_eval(items: list[EvalItem], corpus: Path, settings: Settings, home: Path) -> dict:
    store = Store(settings.with_(home=home))  # the retrieval eval already ingested the corpus here
    bot = build_answerer(store.settings, store, "auto")
    texts = read_corpus(corpus)
    rows, per_item = [], []
    for it in items:
        t = time.perf_counter()
        a = bot.answer(it.question)
        ms = (time.perf_counter() - t) * 1000
        cites = [(c.source, c.char_start, c.char_end) for c in a.citations]
        row = {
            "answerable": it.answerable,
            "refused": a.refused,
            "quote_hit": quote_hit(cites, gold_spans(it, texts)) if it.answerable else None,
            "verbatim": [texts[c.source][c.char_start : c.char_end] == c.quote for c in a.citations],
            "answer_in_quotes": (any(normalize(x) in normalize(" ".join(c.quote for c in a.citations))
                                     for x in it.answers) if it.answers and it.answerable else None),
            "ms": ms,
        }
        rows.append(row)
        per_item.append({"id": it.id, "kind": it.kind, "refused": a.refused, "citations": cites,
                         "quote_hit": row["quote_hit"]})
    out = answer_metrics(rows)
    out["by_kind"] = {k: answer_metrics([r for r, it in zip(rows, items) if it.kind == k])
                      for k in sorted({it.kind for it in items})}
    out["per_item"] = per_item
    return out

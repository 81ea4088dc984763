"""Metric maths in pure functions over plain lists: no encoders, no I/O.

A ranking is a list of booleans, one per retrieved item in rank order: did it hit gold evidence?
``n_relevant`` is how many gold pieces exist (for multi-passage questions recall counts each piece).
"""

from __future__ import annotations

import math
import statistics


def recall_at(hits_per_gold: list[list[bool]], k: int) -> float:
    """Share of gold pieces found in the top k; hits_per_gold[g][r] = retrieved r covers gold g."""
    if not hits_per_gold:
        return 0.0
    return sum(any(row[:k]) for row in hits_per_gold) / len(hits_per_gold)


def mrr_at(hits: list[bool], k: int = 10) -> float:
    for rank, hit in enumerate(hits[:k], 1):
        if hit:
            return 1.0 / rank
    return 0.0


def ndcg_at(hits: list[bool], n_relevant: int, k: int = 10) -> float:
    dcg = sum(1.0 / math.log2(r + 1) for r, h in enumerate(hits[:k], 1) if h)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(n_relevant, k) + 1))
    return dcg / ideal if ideal else 0.0


def overlaps(a: tuple[str, int, int], b: tuple[str, int, int]) -> bool:
    """Two (source, start, end) spans of the same document share at least one character."""
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, int(round(p)) - 1))]


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def retrieval_scores(retrieved: list[tuple[str, int, int]], gold: list[list[tuple[str, int, int]]],
                     ks=(1, 3, 5, 10)) -> dict[str, float]:
    """Per-item metrics. ``gold[g]`` lists the acceptable spans for gold piece g (a quote may occur twice)."""
    hits_per_gold = [[any(overlaps(r, s) for s in spans) for r in retrieved] for spans in gold]
    any_hit = [any(col) for col in zip(*hits_per_gold)] if hits_per_gold else []
    out = {f"recall@{k}": recall_at(hits_per_gold, k) for k in ks}
    out["mrr@10"] = mrr_at(any_hit, 10)
    out["ndcg@10"] = ndcg_at(any_hit, len(gold), 10)
    return out


def aggregate(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = rows[0].keys() if rows else []
    return {k: mean([r[k] for r in rows]) for k in keys}

"""Rank fusion in pure functions over plain lists, separate from any encoder."""

from __future__ import annotations


def rrf(rankings: dict[str, list[str]], k: int = 60, weights: dict[str, float] | None = None) -> dict[str, float]:
    """Reciprocal-rank fusion: sum over rankings of weight / (k + rank), rank starting at 1."""
    fused: dict[str, float] = {}
    for name, ids in rankings.items():
        w = (weights or {}).get(name, 1.0)
        for rank, item in enumerate(ids, 1):
            fused[item] = fused.get(item, 0.0) + w / (k + rank)
    return fused


def best_per_group(scored: list[tuple[str, float]]) -> list[str]:
    """Distinct group ids ordered by their best score (a chunk scored by its best sentence)."""
    best: dict[str, float] = {}
    for gid, score in scored:
        if score > best.get(gid, float("-inf")):
            best[gid] = score
    return sorted(best, key=lambda g: (-best[g], g))

"""How often the model-sentence support test (qa/llm/support.py) decides right, on hand-made sentence-quote pairs.

``evals/datasets/support_pairs.jsonl``: one line per pair, ``{"sentence", "quote", "supported", "kind"}``: a sentence a
model might write with its marker, and the verbatim corpus quote it cites. ``supported`` pairs restate the quote
(``paraphrase``, ``summary``); the others cite a real quote for a claim it does not make (``unrelated``,
``same-words``, ``wrong-number``, ``negation``) or obey an instruction injected into a document (``injection``).

    python -m verbatim_qa.evals.support_eval [--pairs FILE]

prints, per threshold, how many pairs are decided right, and per kind at the setting's threshold.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from verbatim_qa.qa.llm.markers import without_markers
from verbatim_qa.qa.llm.support import support
from verbatim_qa.settings import Settings

PAIRS = Path(__file__).resolve().parent / "datasets" / "support_pairs.jsonl"
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


@dataclass(frozen=True)
class Pair:
    sentence: str
    quote: str
    supported: bool
    kind: str

    def score(self) -> float:
        return support(without_markers(self.sentence), [self.quote])


def load(path: Path = PAIRS) -> list[Pair]:
    return [Pair(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def right(pairs: list[Pair], threshold: float) -> list[bool]:
    """Per pair: whether kept (score >= threshold) is what its label says."""
    return [(p.score() >= threshold) == p.supported for p in pairs]


def report(pairs: list[Pair], chosen: float) -> str:
    n_sup = sum(p.supported for p in pairs)
    lines = ["| threshold | right | supported kept | unsupported dropped |", "|---|---|---|---|"]
    for t in sorted({*THRESHOLDS, chosen}):
        ok = right(pairs, t)
        kept = sum(o for o, p in zip(ok, pairs) if p.supported)
        dropped = sum(o for o, p in zip(ok, pairs) if not p.supported)
        mark = " (setting)" if t == chosen else ""
        lines.append(f"| {t:.2f}{mark} | {sum(ok)}/{len(pairs)} | {kept}/{n_sup} | {dropped}/{len(pairs) - n_sup} |")
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for o, p in zip(right(pairs, chosen), pairs):
        by_kind[p.kind].append(o)
    lines += ["", f"| kind (at {chosen:.2f}) | right |", "|---|---|"]
    lines += [f"| {k} | {sum(v)}/{len(v)} |" for k, v in by_kind.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=Path, default=PAIRS)
    args = ap.parse_args(argv)
    print(report(load(args.pairs), Settings().llm.llm_min_support))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

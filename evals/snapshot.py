"""The rankings-and-answers snapshot: every question of the dev set and of the first paragraphs of PersianQA and
XQuAD English, asked of the extractive answerer on a fresh index, with its ranked passages and its answer as JSON.

A refactoring that promises the same behaviour is checked by two snapshots, before and after, being equal::

    python -m verbatim_qa.evals.snapshot --benchmarks ../shared/benchmarks before.json
    ... change ...
    python -m verbatim_qa.evals.snapshot --benchmarks ../shared/benchmarks after.json --compare before.json

``--compare`` checks the keys the older snapshot has (the answer contract only gains fields) and exits 1 on the
first difference, printing it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

SETS = (("dev", None, 0), ("persianqa", "persianqa_test.json", 8), ("xquad_en", "xquad_en.json", 8))


def _ask(corpus: Path, questions: list[str], home: Path) -> list[dict]:
    from verbatim_qa.ingest.pipeline import ingest_paths
    from verbatim_qa.qa.chain import build_answerer
    from verbatim_qa.settings import Settings
    from verbatim_qa.vectorstore.store import Store

    store = Store(Settings(home=home, embedder="e5", llm_base_url=""))
    report = ingest_paths(store, [corpus])
    if report.failed:
        raise SystemExit(f"snapshot: {corpus} failed to ingest: {report.failed}")
    bot = build_answerer(store.settings, store, "extractive")
    return [bot.answer(q, 10).to_dict() for q in questions]


def take(benchmarks: Path, root: Path) -> dict:
    from verbatim_qa.evals.dataset import load_items
    from verbatim_qa.evals.squad import import_squad

    out = {}
    with tempfile.TemporaryDirectory(prefix="verbatim-snapshot-") as tmp:
        for name, file, paragraphs in SETS:
            if file is None:
                corpus, items = root / "corpus", load_items(root / "evals" / "datasets" / "dev.jsonl")
            else:
                corpus = Path(tmp) / name
                items = import_squad(benchmarks / file, corpus, paragraphs)
            out[name] = _ask(corpus, [it.question for it in items], Path(tmp) / f"{name}-home")
    return out


# A document id hashes the file's path, and the benchmark paragraphs are ingested into a new temporary folder each
# run: ids differ between any two snapshots, whatever the code does. The quotes and offsets they label are compared.
UNCOMPARED = frozenset({"doc_id"})


def differences(old, new, where: str = "") -> list[str]:
    """Where ``new`` differs from ``old`` on the keys ``old`` has (``UNCOMPARED`` keys aside)."""
    if isinstance(old, dict):
        if not isinstance(new, dict):
            return [f"{where}: {old!r} -> {new!r}"]
        return [d for k in old if k not in UNCOMPARED
                for d in differences(old[k], new.get(k, "<missing>"), f"{where}.{k}")]
    if isinstance(old, list):
        if not isinstance(new, list) or len(old) != len(new):
            return [f"{where}: {len(old)} items -> {new!r:.200}"]
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in differences(a, b, f"{where}[{i}]")]
    return [] if old == new else [f"{where}: {old!r:.200} -> {new!r:.200}"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--benchmarks", type=Path, default=Path("../shared/benchmarks"))
    p.add_argument("--compare", type=Path, help="an earlier snapshot: exit 1 when this one differs")
    a = p.parse_args(argv)
    snap = take(a.benchmarks, Path(__file__).resolve().parent.parent)
    a.out.write_text(json.dumps(snap, ensure_ascii=False, indent=1), encoding="utf-8")
    n = sum(len(v) for v in snap.values())
    print(f"{n} questions: " + ", ".join(f"{k} {len(v)}" for k, v in snap.items()))
    if a.compare is not None:
        diff = differences(json.loads(a.compare.read_text(encoding="utf-8")), snap)
        for d in diff[:20]:
            print(d)
        print(f"{len(diff)} differences from {a.compare}")
        return 1 if diff else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

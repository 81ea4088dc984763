"""A hermetic eval run: ingest the corpus into a temporary store, run every system, write the report."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.store import Store

from .dataset import EvalItem, gold_spans, stored_texts
from .metrics import aggregate, percentile, retrieval_scores
from .systems import build_systems

KS = (1, 3, 5, 10)
HEADLINE = ["recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "ndcg@10"]


def run_retrieval_eval(items: list[EvalItem], corpus: Path, systems: list[str], settings: Settings,
                       home: Path | None = None) -> dict:
    """Per system: metrics overall and per kind (answerable items only), plus per-item results."""
    home = home or Path(tempfile.mkdtemp(prefix="verbatim-eval-"))
    store = Store(settings.with_(home=home))
    t0 = time.perf_counter()
    report = ingest_paths(store, [corpus])
    ingest_s = time.perf_counter() - t0
    texts = stored_texts(store)  # as indexed: a PDF is not extracted a second time
    answerable = [it for it in items if it.answerable]
    golds = {it.id: gold_spans(it, texts) for it in answerable}  # a document that failed: a strict set stops here
    out = {"corpus": str(corpus), "items": len(items), "answerable": len(answerable), "ingest_s": ingest_s,
           "ingest_failed": report.failed, "gold_missing": missing_gold(answerable, golds), "systems": {}}
    for system in build_systems(systems, store, texts, home / "langchain-recipe"):
        per_item, latencies = [], []
        for it in answerable:
            t = time.perf_counter()
            spans = system.search(it.question, max(KS))
            latencies.append((time.perf_counter() - t) * 1000)
            scores = retrieval_scores(spans, golds[it.id], KS)
            per_item.append({"id": it.id, "kind": it.kind, "retrieved": spans, "scores": scores})
        kinds = sorted({r["kind"] for r in per_item})
        out["systems"][system.name] = {
            "overall": aggregate([r["scores"] for r in per_item]),
            "by_kind": {k: aggregate([r["scores"] for r in per_item if r["kind"] == k]) for k in kinds},
            "n_by_kind": {k: sum(r["kind"] == k for r in per_item) for k in kinds},
            "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)},
            "per_item": per_item,
        }
    return out


def missing_gold(items: list[EvalItem], golds: dict[str, list]) -> list[dict]:
    """The gold quotes the indexed text no longer holds (sets over real documents): they count as not found."""
    return [{"id": it.id, "quote": n, "doc": it.quote_docs[n]} for it in items
            for n, spans in enumerate(golds[it.id]) if not spans]


def write_report(result: dict, out_dir: Path, title: str, items: list[EvalItem]) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    md = [f"# {title}", "", f"corpus: `{result['corpus']}` · items: {result['items']} "
          f"(answerable {result['answerable']}) · ingest {result['ingest_s']:.1f} s", ""]
    md += [f"- **failed to ingest**: `{f['path']}`: {f['reason']}" for f in result.get("ingest_failed", [])]
    missing = result.get("gold_missing", [])
    if missing:
        ids = sorted({m["id"] for m in missing})
        md.append(f"- gold quotes not in the indexed text (counted as not found): {len(missing)} in {len(ids)} "
                  "items" + (f" ({', '.join(ids)})" if len(ids) <= 10 else ""))
    if md[-1] != "":
        md.append("")
    md += _table(result)
    md += ["", "Per kind (recall@5 / MRR@10):", ""]
    kinds = sorted({k for s in result["systems"].values() for k in s["by_kind"]})
    md.append("| system | " + " | ".join(f"{k} (n={_n(result, k)})" for k in kinds) + " |")
    md.append("|---" * (len(kinds) + 1) + "|")
    for name, s in result["systems"].items():
        cells = [f"{s['by_kind'][k]['recall@5']:.2f} / {s['by_kind'][k]['mrr@10']:.2f}" if k in s["by_kind"]
                 else "-" for k in kinds]
        md.append(f"| {name} | " + " | ".join(cells) + " |")
    if "answers" in result:
        md += ["", *answer_table(result["answers"])]
    text = "\n".join(md) + "\n"
    (out_dir / "report.md").write_text(text, encoding="utf-8")
    _plot(result, out_dir / "recall_at_k.png", title)
    return text


PER_KIND = ["quote_hit", "answer_in_quotes", "keyfact_shown", "keyfact_precision", "keyfact_coverage",
            "keyfact_on_unanswerable", "span_hit_factoid", "span_exact_match", "span_f1", "quotes_per_answer",
            "no_gold_quote_share", "non_body_quote_share", "false_refusal_rate", "answerable_caveated",
            "unanswerable_refused_or_caveated"]


def answer_table(answers: dict) -> list[str]:
    keys = [k for k in answers if not isinstance(answers[k], dict | list)]
    out = ["Answers:", "", "| metric | value |", "|---|---|", *[f"| {k} | {_fmt(answers[k])} |" for k in keys]]
    kinds = answers.get("by_kind") or {}
    if kinds:
        out += ["", "Answers per kind (language pair):", "", "| kind | n | " + " | ".join(PER_KIND) + " |",
                "|---" * (len(PER_KIND) + 2) + "|"]
        for kind, m in kinds.items():
            n = m["n_answerable"] + m["n_unanswerable"]
            out.append(f"| {kind} | {n} | " + " | ".join(_fmt(m[k]) if k in m else "-" for k in PER_KIND) + " |")
    return out


def _fmt(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _n(result: dict, kind: str) -> int:
    return next(iter(result["systems"].values()))["n_by_kind"].get(kind, 0)


def _table(result: dict) -> list[str]:
    rows = ["| system | " + " | ".join(HEADLINE) + " | p50 ms | p95 ms |", "|---" * (len(HEADLINE) + 3) + "|"]
    for name, s in result["systems"].items():
        o = s["overall"]
        rows.append(f"| {name} | " + " | ".join(f"{o[m]:.3f}" for m in HEADLINE)
                    + f" | {s['latency_ms']['p50']:.1f} | {s['latency_ms']['p95']:.1f} |")
    return rows


def _plot(result: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, s in result["systems"].items():
        ax.plot(KS, [s["overall"][f"recall@{k}"] for k in KS], marker="o", label=name)
    ax.set_xlabel("k")
    ax.set_ylabel("recall@k")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(KS)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

"""Follow-up questions: R@5 and quote-hit of the second turns of a follow-up set, three ways.

    alone       the question as asked, no history (what a stateless endpoint does)
    prefix      the previous question and the question, one text (the usual baseline of conversational search)
    standalone  the question with its history: qa/history.py decides whether it needs it and carries the
                salient earlier terms (what Verbatim does)

All three run on one temporary index of the corpus, with the extractive answerer (no LLM). A topic-shift turn
must do no worse than asked alone: the report shows each kind of turn.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.qa.chain import build_answerer
from verbatim_qa.settings import Settings
from verbatim_qa.vectorstore.store import Store

from .answers import quote_hit
from .dataset import EvalItem, gold_spans, read_corpus
from .metrics import mean, retrieval_scores

METHODS = ("alone", "prefix", "standalone")
K = 5


def asked(method: str, item: EvalItem) -> tuple[str, list[str]]:
    """The question text and history each method answers."""
    if method == "alone":
        return item.question, []
    if method == "prefix":
        return f"{item.history[-1]} {item.question}", []
    return item.question, list(item.history)


def run_followup_eval(items: list[EvalItem], corpus: Path, settings: Settings, home: Path | None = None) -> dict:
    home = home or Path(tempfile.mkdtemp(prefix="verbatim-followups-"))
    store = Store(settings.with_(home=home, llm_base_url=""))
    report = ingest_paths(store, [corpus])
    if report.failed:
        raise RuntimeError(f"eval corpus failed to ingest: {report.failed}")
    bot = build_answerer(store.settings, store, "extractive")
    texts = read_corpus(corpus)
    items = [it for it in items if it.answerable]
    out: dict = {"corpus": str(corpus), "items": len(items), "methods": {}}
    for method in METHODS:
        rows = []
        for it in items:
            question, history = asked(method, it)
            query = bot.analyze(question, history)
            hits = bot.retriever.retrieve(query, K)
            spans = [(r.chunk.source, r.chunk.char_start, r.chunk.char_end) for r in hits]
            gold = gold_spans(it, texts)
            answer = bot.answer_from(query, hits)
            cites = [(c.source, c.char_start, c.char_end) for c in answer.citations]
            rows.append({"id": it.id, "turn": it.turn, "search_query": query.search,
                         "recall@5": retrieval_scores(spans, gold, (K,))[f"recall@{K}"],
                         "quote_hit": quote_hit(cites, gold), "refused": answer.refused})
        out["methods"][method] = {"overall": summary(rows),
                                  "by_turn": {t: summary([r for r in rows if r["turn"] == t])
                                              for t in sorted({r["turn"] for r in rows})},
                                  "per_item": rows}
    return out


def summary(rows: list[dict]) -> dict:
    return {"n": len(rows), "recall@5": mean([r["recall@5"] for r in rows]),
            "quote_hit": mean([r["quote_hit"] for r in rows])}


def followup_report(result: dict, title: str) -> str:
    methods = result["methods"]
    turns = sorted({t for m in methods.values() for t in m["by_turn"]})
    first = next(iter(methods.values()))["by_turn"]
    md = [f"# {title}", "", f"corpus: `{result['corpus']}` · second turns: {result['items']}", "",
          "| method | R@5 | quote-hit | " + " | ".join(f"{t} (n={first[t]['n']}) R@5 / hit" for t in turns) + " |",
          "|---" * (len(turns) + 3) + "|"]
    for name, m in methods.items():
        cells = [f"{m['by_turn'][t]['recall@5']:.3f} / {m['by_turn'][t]['quote_hit']:.3f}" for t in turns]
        md.append(f"| {name} | {m['overall']['recall@5']:.3f} | {m['overall']['quote_hit']:.3f} | "
                  + " | ".join(cells) + " |")
    return "\n".join(md) + "\n"

"""Choose the answer-selection constants on a mix of sets, never on one: ``python -m evals.tune``.

Each set is ingested once (cached under ``--work``) and every question's retrieval and sentence evidence are
computed once; the selection (``qa.extractive.answer_with``) is then replayed for each candidate setting, so a
grid costs milliseconds per question. The report gives every metric per set and, per setting, the worst set:
a constant is kept only when it helps the mix (the held-out sets are of the same kinds, not the same sets).

Sets: the corpus dev set, PersianQA (Persian questions), XQuAD English, English XQuAD questions over the
German and Chinese paragraphs, and English questions over PersianQA paragraphs when that file is given.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
from dataclasses import replace
from pathlib import Path

from ingest.pipeline import ingest_paths
from qa.chain import build_answerer
from vectorstore.store import Store
from verbatim.settings import Settings

from .answers import answer_metrics, answer_row
from .dataset import EvalItem, gold_spans, load_items, read_corpus
from .metrics import mean
from .squad import import_squad

GRID = {
    "w_answer_type": [0.0, 0.04, 0.08, 0.12],
    "doc_margin": [0.05, 0.07, 0.1],
    "quote_margin": [0.035, 0.05, 0.07],
}


def sets(bench: Path, persianqa_en: Path | None, limit: int) -> dict[str, tuple]:
    out = {"dev": ("dev", None), "persianqa": (bench / "persianqa_test.json", None),
           "xquad-en": (bench / "xquad_en.json", None), "en-de": (bench / "xquad_de.json", bench / "xquad_en.json"),
           "en-zh": (bench / "xquad_zh.json", bench / "xquad_en.json")}
    if persianqa_en is not None:
        out["en-fa-pqa"] = (bench / "persianqa_test.json", persianqa_en)
    return out


def prepare(name: str, spec: tuple, work: Path, limit: int, settings: Settings) -> dict:
    """Items, corpus texts and per question (query, candidates, retrieved): computed once, cached."""
    cache = work / f"{name}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    paragraphs, questions = spec
    if paragraphs == "dev":
        corpus, items = Path("corpus"), load_items(Path("evals/datasets/dev.jsonl"))
    else:
        corpus = work / name / "corpus"
        items = import_squad(paragraphs, corpus, limit)
        if questions is not None:
            items = _swap_questions(items, questions)
    store = Store(settings.with_(home=work / name / "home"))
    ingest_paths(store, [corpus])
    bot = build_answerer(store.settings, store, "extractive")
    texts = read_corpus(corpus)
    rows = []
    for it in items:
        q = bot.retriever.analyze(it.question)
        retrieved = bot.retriever.retrieve(q)
        rows.append((it, q, bot.candidates(q, retrieved), retrieved,
                     gold_spans(it, texts) if it.answerable else [], bot.retriever.unmatched_terms(q, retrieved)))
    data = {"rows": rows, "texts": texts}
    cache.write_bytes(pickle.dumps(data))
    return data


def _swap_questions(items: list[EvalItem], path: Path) -> list[EvalItem]:
    from verbatim.text.lang import detect_lang

    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if "data" in raw:
        raw = {str(qa["id"]): qa["question"] for a in raw["data"] for p in a["paragraphs"] for qa in p["qas"]}
    out = []
    for it in items:
        if it.id in raw:
            q = raw[it.id]
            out.append(replace(it, question=q, lang=detect_lang(q), kind="xl" if it.answerable else it.kind))
    return out


def score(data: dict, s: Settings) -> dict:
    """Replays analysis of the wording (answer type, roles asked for) and the selection on the cached evidence."""
    from qa.answertype import expected_type, requested_roles
    from qa.extractive import answer_with, typed_value

    per = []
    for it, q, cands, retrieved, gold, unmatched in data["rows"]:
        q = replace(q, answer_type=expected_type(q.text, q.lang), roles=requested_roles(q.text))
        cands = [replace(c, typed=typed_value(q, c.chunk, c.sentence.text)) for c in cands]
        a = answer_with(q, cands, retrieved, s, unmatched)
        per.append(answer_row(it, a, gold, data["texts"]))
    return summarize(per)


SHOWN = ("quote_hit", "answer_in_quotes", "false_refusal_rate", "answerable_caveated",
         "unanswerable_refused_or_caveated", "non_body_quote_share", "span_hit_factoid", "span_f1")


def summarize(rows: list[dict]) -> dict:
    m = answer_metrics(rows)
    return {"n": len(rows), **{k: m.get(k, float("nan")) for k in SHOWN}}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bench", type=Path, default=Path("../shared/benchmarks"))
    p.add_argument("--persianqa-en", type=Path, default=None)
    p.add_argument("--work", type=Path, default=Path("out/tune"))
    p.add_argument("--limit", type=int, default=60, help="paragraphs per SQuAD set")
    p.add_argument("--grid", action="store_true", help="search GRID (else: the current settings only)")
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    base = Settings()
    data = {name: prepare(name, spec, args.work, args.limit, base)
            for name, spec in sets(args.bench, args.persianqa_en, args.limit).items()}
    combos = [dict(zip(GRID, vals)) for vals in itertools.product(*GRID.values())] if args.grid else [{}]
    results = []
    for combo in combos:
        # selection is tuned with refusal off (refusal is calibrated on its own: it would mask selection)
        s = base.with_(**combo, refusal_threshold=0.0)
        per_set = {name: score(d, s) for name, d in data.items()}
        results.append((combo, per_set))
        worst = min(v["quote_hit"] for v in per_set.values())
        meanq = mean([v["quote_hit"] for v in per_set.values()])
        print(json.dumps(combo), f"quote_hit mean {meanq:.3f} worst {worst:.3f}", flush=True)
    best_combo, _ = max(results, key=lambda r: mean([v["quote_hit"] for v in r[1].values()]))
    print("best:", json.dumps(best_combo))
    best = {name: score(d, base.with_(**best_combo)) for name, d in data.items()}
    for name, v in best.items():
        print(f"  {name:10s} " + " ".join(f"{k}={v[k]:.3f}" if isinstance(v[k], float) else f"{k}={v[k]}"
                                          for k in v))
    (args.work / "tune.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

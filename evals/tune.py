"""Choose the answer-selection constants on a mix of sets, never on one: ``python -m verbatim_qa.evals.tune``.

Each set is ingested once (cached under ``--work``) and every question's retrieval and sentence evidence are
computed once; the selection (``qa.extractive.answer_with``) is then replayed for each candidate setting, so a
grid costs milliseconds per question. The report gives every metric per set and, per setting, the worst set:
a constant is kept only when it helps the mix (the held-out sets are of the same kinds, not the same sets).

Sets: the corpus dev set, PersianQA (Persian questions), XQuAD English, English XQuAD questions over the
German, Spanish, Chinese and Turkish paragraphs, and English questions over PersianQA paragraphs when that file is
given. Each XQuAD set also asks ``OFF_TOPIC_N`` questions of articles that are not in its index (questions of the
same set's later articles, in the question language): what refusal must refuse in every language pair.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import re
from dataclasses import replace
from pathlib import Path

from verbatim_qa.ingest.pipeline import ingest_paths
from verbatim_qa.qa.chain import build_answerer
from verbatim_qa.settings import Settings
from verbatim_qa.text.lang import detect_lang
from verbatim_qa.text.normalize import tokenize
from verbatim_qa.vectorstore.store import Store

from .answers import answer_metrics, answer_row
from .dataset import EvalItem, gold_spans, load_items, read_corpus
from .metrics import mean
from .squad import import_squad, swap_questions

OFF_TOPIC_N = 60
DEV_OFF_TOPIC = ["How do I bake sourdough bread?", "Who won the 2018 FIFA World Cup final?"]  # tests/test_answers.py
GRID = {
    "w_answer_type": [0.0, 0.04, 0.08, 0.12],
    "doc_margin": [0.05, 0.07, 0.1],
    "quote_margin": [0.035, 0.05, 0.07],
}


def sets(bench: Path, persianqa_en: Path | None, limit: int) -> dict[str, tuple]:
    out = {"dev": ("dev", None), "persianqa": (bench / "persianqa_test.json", None),
           "xquad-en": (bench / "xquad_en.json", None), "en-de": (bench / "xquad_de.json", bench / "xquad_en.json"),
           "en-zh": (bench / "xquad_zh.json", bench / "xquad_en.json"),
           "en-es": (bench / "xquad_es.json", bench / "xquad_en.json"),
           "en-tr": (bench / "xquad_tr.json", bench / "xquad_en.json")}
    # same-language sets of languages the key fact's rules were not written on: held out for its precision
    out |= {f"xquad-{lang}": (bench / f"xquad_{lang}.json", None) for lang in ("de", "es", "tr")}
    if persianqa_en is not None:
        out["en-fa-pqa"] = (bench / "persianqa_test.json", persianqa_en)
    return out


def prepare(name: str, spec: tuple, work: Path, limit: int, settings: Settings) -> dict:
    """Items, corpus texts and per question (query, candidates, retrieved): computed once, cached."""
    cache = work / f"{name}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    paragraphs, questions = spec
    if paragraphs == "real":  # a set over real documents, replayed from its eval index (questions: its paths)
        dataset, corpus, home = questions
        store = Store(settings.with_(home=home))
        return _evidence(cache, store, corpus, load_items(dataset))
    if paragraphs == "dev":
        corpus, items = Path("corpus"), load_items(Path("evals/datasets/dev.jsonl"))
        items += [EvalItem(f"off-{i}", q, detect_lang(q), "offtopic", False) for i, q in enumerate(DEV_OFF_TOPIC)]
    else:
        corpus = work / name / "corpus"
        items = import_squad(paragraphs, corpus, limit)
        if questions is not None:
            items = swap_questions(items, questions)
        items += off_topic(questions or paragraphs, limit, OFF_TOPIC_N)
    return _evidence(cache, Store(settings.with_(home=work / name / "home")), corpus, items)


def _evidence(cache: Path, store: Store, corpus: Path, items: list[EvalItem]) -> dict:
    """Ingests ``corpus`` into ``store`` (nothing when it is indexed already) and caches every question's evidence."""
    ingest_paths(store, [corpus])
    bot = build_answerer(store.settings, store, "extractive")
    texts = read_corpus(corpus)
    rows, feats = [], []
    for it in items:
        q = bot.analyze(it.question)
        retrieved = bot.retriever.retrieve(q)
        cands, ctx = bot.candidates(q, retrieved)
        rows.append((it, q, cands, retrieved, gold_spans(it, texts) if it.answerable else [], ctx.unmatched))
        feats.append(calibration_features(bot.retriever, q))
    data = {"rows": rows, "texts": texts, "features": feats}
    cache.write_bytes(pickle.dumps(data))
    return data


def off_topic(path: Path, limit: int, n: int) -> list[EvalItem]:
    """``n`` questions (the first of each paragraph) of the articles after the first ``limit`` paragraphs' ones:
    their articles are not in the index, so each should be refused."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if "data" not in raw:  # a file of translated questions (id -> question) only covers the indexed paragraphs
        return []
    data = raw["data"]
    seen, out = 0, []
    for article in data:
        if seen >= limit:
            for para in article["paragraphs"]:
                q = para["qas"][0]
                out.append(EvalItem(f"off-{q['id']}", q["question"], detect_lang(q["question"]), "offtopic", False))
                if len(out) >= n:
                    return out
        seen += len(article["paragraphs"])
    return out


def calibration_features(retriever, q) -> dict:
    """What a refusal rule may read besides the candidates: per document language, the question's cosines with
    the background sample and with its nearest sentences (rank order)."""
    import numpy as np

    meta = retriever._meta
    near: dict[str, list[float]] = {}
    for sid, sim in retriever.store.query_sentences(q.vector, retriever.settings.retrieval.pool * 2):
        m = meta.get(sid.rsplit(":", 1)[0])
        lang = m.lang if m is not None else "und"
        near.setdefault(lang, []).append(sim)
    return {"background": {lang: (v @ q.vector).astype(np.float32) for lang, v in retriever.background().items()},
            "near": near}


def score(data: dict, s: Settings, by_kind: bool = False) -> dict:
    """Replays analysis of the wording (answer type, roles asked for) and the selection on the cached evidence."""
    from verbatim_qa.qa.answertype import expected_type, requested_roles
    from verbatim_qa.qa.extractive import answer_with, typed_value
    from verbatim_qa.qa.names import NameBridge

    per = []
    if "bridge" not in data:  # one per set, not one per setting tried
        data["bridge"] = NameBridge(sorted({t for text in data["texts"].values() for t in tokenize(text)
                                            if not t.isascii()}), min_skeleton=s.retrieval.name_min_skeleton,
                                    max_matches=s.retrieval.name_max_matches)
    bridge = data["bridge"]
    backgrounds = [{lang: float(v.mean()) for lang, v in f["background"].items()} for f in data.get("features", [])]
    for n, (it, q, cands, retrieved, gold, unmatched) in enumerate(data["rows"]):
        q = replace(q, answer_type=expected_type(q.text, q.lang), roles=requested_roles(q.text))
        cands = [replace(c, typed=typed_value(q, c.chunk, c.sentence.text),
                         background=backgrounds[n].get(c.chunk.lang, 1.0) if backgrounds else c.background)
                 for c in cands]
        a = answer_with(q, cands, retrieved, s, unmatched, bridge)
        row = answer_row(it, a, gold, data["texts"])
        if it.answerable:
            docs = [r.chunk.source for r in retrieved]
            row["r1"] = sum(d in docs[:1] for d in set(it.quote_docs)) / len(set(it.quote_docs))
            row["r5"] = sum(d in docs[:5] for d in set(it.quote_docs)) / len(set(it.quote_docs))
        row["kind"] = it.kind
        per.append(row)
    out = summarize(per)
    if by_kind:
        out["kinds"] = {k: summarize([r for r in per if r["kind"] == k]) for k in sorted({r["kind"] for r in per})}
    return out


SHOWN = ("quote_hit", "answer_in_quotes", "false_refusal_rate", "answerable_caveated",
         "unanswerable_refused_or_caveated", "non_body_quote_share", "span_hit_factoid", "span_f1", "keyfact_shown",
         "keyfact_precision", "keyfact_coverage", "keyfact_on_unanswerable", "keyfact_on_refused_or_caveated")


def summarize(rows: list[dict]) -> dict:
    """``answer_metrics`` of the set (off-topic questions apart), paragraph recall and off-topic refusals."""
    ans = [r for r in rows if r["answerable"]]
    off = [r for r in rows if r["kind"] == "offtopic"]
    m = answer_metrics([r for r in rows if r["kind"] != "offtopic"] or rows)
    return {"n": len(rows), "r1": mean([r["r1"] for r in ans if "r1" in r]) if ans else float("nan"),
            "r5": mean([r["r5"] for r in ans if "r5" in r]) if ans else float("nan"),
            **{k: m.get(k, float("nan")) for k in SHOWN},
            "offtopic_refused": mean([float(r["refused"]) for r in off]) if off else float("nan")}


COLUMNS = ("r1", "r5", "quote_hit", "answer_in_quotes", "false_refusal_rate", "answerable_caveated",
           "unanswerable_refused_or_caveated", "offtopic_refused", "non_body_quote_share", "span_hit_factoid",
           "span_f1", "keyfact_shown", "keyfact_precision", "keyfact_coverage", "keyfact_on_unanswerable",
           "keyfact_on_refused_or_caveated")


def table(per_set: dict[str, dict]) -> str:
    """One Markdown row per set (and per kind of the dev set): retrieval, quotes, refusals."""
    lines = ["| set | n | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 2) + "|"]

    def row(name: str, v: dict) -> str:
        return f"| {name} | {v['n']} | " + " | ".join(f"{v[c]}" if isinstance(v[c], int) else f"{v[c]:.3f}"
                                                     for c in COLUMNS) + " |"

    for name, v in per_set.items():
        lines.append(row(name, v))
        if name == "dev":
            lines += [row(f"dev:{k}", kv) for k, kv in v.get("kinds", {}).items()]
    return re.sub(r"\bnan\b", " - ", "\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bench", type=Path, default=Path("../shared/benchmarks"))
    p.add_argument("--persianqa-en", type=Path, default=None)
    p.add_argument("--work", type=Path, default=Path("out/tune"))
    p.add_argument("--limit", type=int, default=60, help="paragraphs per SQuAD set")
    p.add_argument("--grid", action="store_true", help="search GRID (else: the current settings only)")
    p.add_argument("--real", action="append", default=[], metavar="NAME=DATASET,CORPUS,INDEX",
                   help="also a set over real documents, replayed from the index its `verbatim eval --index` built")
    p.add_argument("--only", default="", help="comma-separated set names to prepare and score (default: all)")
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    base = Settings()
    specs = sets(args.bench, args.persianqa_en, args.limit)
    for spec in args.real:
        name, _, paths = spec.partition("=")
        specs[name] = ("real", tuple(Path(x) for x in paths.split(",")))
    only = set(filter(None, args.only.split(",")))
    data = {name: prepare(name, spec, args.work, args.limit, base) for name, spec in specs.items()
            if not only or name in only}
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
    best = {name: score(d, base.with_(**best_combo), by_kind=True) for name, d in data.items()}
    print(table(best))
    (args.work / "tune.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

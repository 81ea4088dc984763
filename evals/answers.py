"""Answer metrics: quote-hit, citation verbatim rate, the key fact (span hit, exact match, token F1; precision: right
when shown, coverage: shown on factoid questions), quotes per answer and those holding no gold evidence, non-body
quotes, refusals and caveats, latency.

Maths in pure functions over plain values (``answer_metrics``); ``run_answer_eval`` does the I/O.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter
from pathlib import Path

from verbatim_qa.qa.answer import Answer
from verbatim_qa.qa.answertype import expected_type
from verbatim_qa.qa.chain import build_answerer
from verbatim_qa.settings import Settings
from verbatim_qa.text.normalize import normalize
from verbatim_qa.types import Citation
from verbatim_qa.vectorstore.store import Store

from .dataset import EvalItem, gold_spans, stored_texts
from .metrics import mean, overlaps, percentile


def answer_metrics(rows: list[dict]) -> dict:
    """rows (``answer_row``): {"answerable", "refused", "caveat", "quote_hit" (float|None), "verbatim": [bool],
    "roles": [str] (one per citation), "answer_in_quotes", "factoid", "span_hit", "span_em", "span_f1" (None when
    not applicable), "ms"} per item, and optionally "shown" (a key fact is shown), "quotes" (how many) and
    "quotes_no_gold" (how many overlap no gold span; None when the gold is unknown)."""
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    checks = [v for r in rows for v in r["verbatim"]]
    roles = [x for r in rows for x in r.get("roles", [])]
    out = {
        "quote_hit": mean([r["quote_hit"] for r in ans]) if ans else float("nan"),
        "citation_verbatim_rate": (sum(checks) / len(checks)) if checks else 1.0,
        "citations": len(checks),
        "non_body_quote_share": (sum(x != "body" for x in roles) / len(roles)) if roles else 0.0,
        "refusal_rate_unanswerable": mean([float(r["refused"]) for r in una]) if una else float("nan"),
        "unanswerable_refused_or_caveated": mean([float(r["refused"] or r.get("caveat", False)) for r in una])
        if una else float("nan"),
        "false_refusal_rate": mean([float(r["refused"]) for r in ans]) if ans else float("nan"),
        "answerable_caveated": mean([float(r.get("caveat", False)) for r in ans]) if ans else float("nan"),
        "latency_p50_ms": percentile([r["ms"] for r in rows], 50),
        "latency_p95_ms": percentile([r["ms"] for r in rows], 95),
        "n_answerable": len(ans),
        "n_unanswerable": len(una),
    }
    for key, name in (("answer_in_quotes", "answer_in_quotes"), ("span_em", "span_exact_match"),
                      ("span_f1", "span_f1")):
        vals = [float(r[key]) for r in ans if r.get(key) is not None]
        if vals:
            out[name] = mean(vals)
    factoid = [r for r in ans if r.get("factoid")]
    if factoid:
        out["n_factoid"] = len(factoid)
        out["span_hit_factoid"] = mean([float(bool(r.get("span_hit"))) for r in factoid])
    out.update(keyfact_metrics(rows))
    out.update(quote_metrics(rows))
    return out


def keyfact_metrics(rows: list[dict]) -> dict:
    """The key fact: precision (right when shown, over answerable items with gold answers), coverage (shown on
    factoid questions), shown on unanswerable items, and shown on refused or caveated answers (never wanted)."""
    if not any("shown" in r for r in rows):
        return {}
    judged = [r for r in rows if r["answerable"] and r.get("shown") and r.get("span_hit") is not None]
    factoid = [r for r in rows if r["answerable"] and r.get("factoid")]
    una = [r for r in rows if not r["answerable"]]
    return {
        "keyfact_shown": len(judged),
        "keyfact_precision": mean([float(bool(r["span_hit"])) for r in judged]) if judged else float("nan"),
        "keyfact_coverage": mean([float(bool(r.get("shown"))) for r in factoid]) if factoid else float("nan"),
        "keyfact_on_unanswerable": mean([float(bool(r.get("shown"))) for r in una]) if una else float("nan"),
        "keyfact_on_refused_or_caveated": sum(bool(r.get("shown")) and (r["refused"] or r["caveat"]) for r in rows),
    }


def quote_metrics(rows: list[dict]) -> dict:
    """Quotes per (non-refused) answer, and the share of quotes of answerable items that overlap no gold span."""
    answered = [r for r in rows if "quotes" in r and not r["refused"]]
    judged = [r for r in rows if r.get("quotes_no_gold") is not None]
    quotes = sum(r["quotes"] for r in judged)
    out = {}
    if answered:
        out["quotes_per_answer"] = mean([float(r["quotes"]) for r in answered])
    if judged:
        out["no_gold_quote_share"] = sum(r["quotes_no_gold"] for r in judged) / quotes if quotes else 0.0
    return out


def answer_row(item: EvalItem, answer: Answer, gold: list[list[tuple[str, int, int]]], texts: dict[str, str],
               ms: float = 0.0) -> dict:
    """What ``answer_metrics`` reads about one answer (pure: the answer, its gold and the documents' texts)."""
    cites = [(c.source, c.char_start, c.char_end) for c in answer.citations]
    quotes = normalize(" ".join(c.quote for c in answer.citations))
    golds = item.answers if item.answerable else []
    span = answer.answer_span.text if answer.answer_span is not None else None
    return {
        "answerable": item.answerable,
        "refused": answer.refused,
        "caveat": answer.caveat is not None,
        "quote_hit": quote_hit(cites, gold) if item.answerable else None,
        "verbatim": [texts.get(c.source, "")[c.char_start : c.char_end] == c.quote for c in answer.citations],
        "roles": [cited_role(answer, c) for c in answer.citations],
        "answer_in_quotes": any(normalize(x) in quotes for x in golds) if golds else None,
        "factoid": bool(golds) and expected_type(item.question, item.lang) in FACTOID,
        "span_hit": span_contains(span, golds) if golds else None,
        "span_em": max(float(squad_norm(span or "") == squad_norm(x)) for x in golds) if golds else None,
        "span_f1": max(token_f1(span or "", x) for x in golds) if golds else None,
        "shown": span is not None,
        "quotes": len(cites),
        "quotes_no_gold": quotes_without_gold(cites, gold) if item.answerable else None,
        "ms": ms,
    }


FACTOID = ("number", "date", "person", "name")  # the types ``answer_span`` is given for (qa/compose.py)
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def squad_norm(text: str) -> str:
    """SQuAD's answer normalization (lower case, no punctuation, no English articles), digits folded to ASCII."""
    folded = normalize(text)  # case, Arabic/Persian letters and digits folded, ZWNJ dropped
    folded = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in folded)
    return " ".join(_ARTICLES.sub(" ", folded).split())


def token_f1(prediction: str, gold: str) -> float:
    p, g = squad_norm(prediction).split(), squad_norm(gold).split()
    common = sum((Counter(p) & Counter(g)).values())
    if not p or not g or common == 0:
        return float(p == g)
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def span_contains(span: str | None, golds: list[str]) -> bool:
    """The span holds a gold answer and is at most about three times its length (the issue's measure)."""
    if not span:
        return False
    s = squad_norm(span)
    return any((g := squad_norm(x)) and g in s and len(s) <= 3 * len(g) for x in golds)


def cited_role(answer: Answer, c: Citation) -> str:
    """The role of the cited sentences (the first non-body one when a quote joins several)."""
    roles = [s.role for r in answer.retrieved if r.chunk.source == c.source for s in r.chunk.sentences
             if s.char_start < c.char_end and c.char_start < s.char_end]
    return next((x for x in roles if x != "body"), "body")


def quotes_without_gold(citations: list[tuple[str, int, int]], gold: list[list[tuple[str, int, int]]]) -> int | None:
    """How many cited quotes overlap no gold span; None when a gold piece is not known (lost from the text)."""
    if not gold or not all(gold):
        return None
    return sum(not any(overlaps(c, s) for spans in gold for s in spans) for c in citations)


def quote_hit(citations: list[tuple[str, int, int]], gold: list[list[tuple[str, int, int]]]) -> float:
    """Share of gold pieces that some cited quote overlaps."""
    if not gold:
        return 0.0
    return sum(any(overlaps(c, s) for c in citations for s in spans) for spans in gold) / len(gold)


def run_answer_eval(items: list[EvalItem], settings: Settings, home: Path) -> dict:
    store = Store(settings.with_(home=home))  # the retrieval eval already ingested the corpus here
    bot = build_answerer(store.settings, store, "auto")
    texts = stored_texts(store)
    rows, per_item = [], []
    for it in items:
        t = time.perf_counter()
        a = bot.answer(it.question)
        ms = (time.perf_counter() - t) * 1000
        row = answer_row(it, a, gold_spans(it, texts) if it.answerable else [], texts, ms)
        rows.append(row)
        per_item.append({"id": it.id, "kind": it.kind, "refused": a.refused, "caveat": a.caveat,
                         "citations": [(c.source, c.char_start, c.char_end) for c in a.citations],
                         "answer_span": a.answer_span.to_dict() if a.answer_span else None,
                         "quote_hit": row["quote_hit"], "span_hit": row["span_hit"]})
    out = answer_metrics(rows)
    out["by_kind"] = {k: answer_metrics([r for r, it in zip(rows, items) if it.kind == k])
                      for k in sorted({it.kind for it in items})}
    out["per_item"] = per_item
    return out

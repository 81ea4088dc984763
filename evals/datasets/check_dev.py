#!/usr/bin/env python3
"""Validate evals/datasets/dev.jsonl against the corpus.

Usage: python3 check_dev.py [CORPUS_DIR]   (default: "corpus")
Stdlib only. Exits non-zero on the first batch of errors.
"""
import json
import os
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
DATASET = os.path.join(HERE, "dev.jsonl")
KINDS = {"en-en", "en-fa", "fa-fa", "multi", "unanswerable"}
LANGS = {"en", "fa"}
FIELDS = {"id": str, "question": str, "lang": str, "kind": str,
          "answerable": bool, "gold_quotes": list, "quote_docs": list}
# the short answer (SQuAD-style "answers"): the shortest text of a gold quote holding every part asked for (a
# question of two parts gets one text holding both), so a key fact giving one part does not count as right
OPTIONAL = {"answers": list}
ID_PREFIX = {"en-en": "en-en-", "en-fa": "en-fa-", "fa-fa": "fa-fa-",
             "multi": "multi-", "unanswerable": "unans-"}


def load_doc(corpus, name, cache):
    if name not in cache:
        path = os.path.join(corpus, name)
        with open(path, encoding="utf-8") as f:
            cache[name] = f.read().replace("\r\n", "\n").replace("\r", "\n")
    return cache[name]


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else "corpus"
    if not os.path.isdir(corpus):
        sys.exit(f"corpus dir not found: {corpus}")
    docs, errors, items = {}, [], []
    with open(DATASET, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                errors.append(f"line {n}: blank line")
                continue
            try:
                items.append((n, json.loads(line)))
            except json.JSONDecodeError as e:
                errors.append(f"line {n}: bad JSON: {e}")

    seen = set()
    for n, it in items:
        where = f"line {n} ({it.get('id', '?')})"
        if set(it) - set(OPTIONAL) != set(FIELDS):
            errors.append(f"{where}: keys {sorted(it)} != {sorted(FIELDS)} (+ optional {sorted(OPTIONAL)})")
            continue
        for k, typ in FIELDS.items():
            if type(it[k]) is not typ:
                errors.append(f"{where}: field {k} should be {typ.__name__}")
        if errors and errors[-1].startswith(where):
            continue
        if it["id"] in seen:
            errors.append(f"{where}: duplicate id")
        seen.add(it["id"])
        if it["kind"] not in KINDS:
            errors.append(f"{where}: bad kind {it['kind']!r}")
            continue
        if it["lang"] not in LANGS:
            errors.append(f"{where}: bad lang {it['lang']!r}")
        if not it["id"].startswith(ID_PREFIX[it["kind"]]):
            errors.append(f"{where}: id does not match kind {it['kind']}")
        if not it["question"].strip():
            errors.append(f"{where}: empty question")
        gq, qd = it["gold_quotes"], it["quote_docs"]
        if len(gq) != len(qd):
            errors.append(f"{where}: {len(gq)} gold_quotes vs {len(qd)} quote_docs")
            continue
        if it["answerable"] != bool(gq):
            errors.append(f"{where}: answerable={it['answerable']} but {len(gq)} quotes")
        if (it["kind"] == "unanswerable") == it["answerable"]:
            errors.append(f"{where}: kind/answerable mismatch")
        if it["kind"] == "multi" and len(gq) < 2:
            errors.append(f"{where}: multi item needs >= 2 quotes")
        if it["kind"] == "en-en" and it["lang"] != "en":
            errors.append(f"{where}: en-en must have lang en")
        if it["kind"] == "en-fa" and it["lang"] != "en":
            errors.append(f"{where}: en-fa must have lang en")
        if it["kind"] == "fa-fa" and it["lang"] != "fa":
            errors.append(f"{where}: fa-fa must have lang fa")
        for q, d in zip(gq, qd):
            if not isinstance(q, str) or not isinstance(d, str) or not q.strip():
                errors.append(f"{where}: quote/doc must be non-empty strings")
                continue
            try:
                text = load_doc(corpus, d, docs)
            except OSError as e:
                errors.append(f"{where}: cannot read doc {d!r}: {e}")
                continue
            if q not in text:
                errors.append(f"{where}: quote not found in {d}: {q[:60]!r}...")
            if "\n\n" in q:
                errors.append(f"{where}: quote spans a paragraph break")
        for a in it.get("answers", []):
            if not isinstance(a, str) or not any(a in q for q in gq):
                errors.append(f"{where}: answer {a!r} is not inside a gold quote")

    counts = Counter(it["kind"] for _, it in items)
    langs = Counter((it["kind"], it["lang"]) for _, it in items)
    print(f"{len(items)} items")
    for k in sorted(KINDS):
        detail = ", ".join(f"{lg}={langs[(k, lg)]}" for lg in sorted(LANGS) if langs[(k, lg)])
        print(f"  {k:13s} {counts[k]:3d}  ({detail})")
    if errors:
        print(f"\n{len(errors)} error(s):")
        for e in errors:
            print("  " + e)
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()

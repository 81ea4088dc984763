"""SQuAD-format sets (PersianQA, XQuAD) as a temporary corpus plus eval items.

Each paragraph becomes a document; the gold evidence of a question is the sentence (as Verbatim
segments it) that holds the answer's start; ``is_impossible`` questions are unanswerable. An item's kind is its
language pair, "<question lang>-<paragraph lang>" ("en-de"). ``swap_questions`` asks another file's questions
(XQuAD ids are shared across its languages) over the same paragraphs: a cross-language set.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from verbatim_qa.text.lang import detect_lang
from verbatim_qa.text.segment import sentences

from .dataset import EvalItem


def import_squad(path: Path, out_dir: Path, limit_paragraphs: int | None = None) -> list[EvalItem]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    out_dir.mkdir(parents=True, exist_ok=True)
    items: list[EvalItem] = []
    n = 0
    for article in data:
        for para in article["paragraphs"]:
            if limit_paragraphs is not None and n >= limit_paragraphs:
                return items
            n += 1
            context = para["context"].replace("\r\n", "\n").replace("\r", "\n")
            bom = context.startswith("\ufeff")  # the loader drops a BOM (XQuAD de has some): offsets shift by one
            context = context[bom:]
            name = f"p{n:04d}.txt"
            (out_dir / name).write_text(context, encoding="utf-8")
            sents = sentences(context)
            doc_lang = detect_lang(context)
            for qa in para["qas"]:
                lang = detect_lang(qa["question"])
                if qa.get("is_impossible") or not qa.get("answers"):
                    items.append(EvalItem(str(qa["id"]), qa["question"], lang, "unanswerable", False))
                    continue
                ans = qa["answers"][0]
                start = ans["answer_start"] - bom
                sent = next((s for s in sents if s.char_start <= start < s.char_end), None)
                if sent is None:
                    continue  # answer offset outside any sentence (bad record): not a fair question
                kind = f"{lang}-{doc_lang}"
                items.append(EvalItem(str(qa["id"]), qa["question"], lang, kind, True, [sent.text], [name],
                                      [a["text"] for a in qa["answers"]]))
    return items


def swap_questions(items: list[EvalItem], path: Path) -> list[EvalItem]:
    """``items`` with the question of the same id in the SQuAD file ``path`` (ids missing there are dropped); an
    answerable item's kind becomes "<new question lang>-<paragraph lang>"."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if "data" in raw:
        raw = {str(qa["id"]): qa["question"] for a in raw["data"] for p in a["paragraphs"] for qa in p["qas"]}
    out = []
    for it in items:
        if it.id in raw:
            q = raw[it.id]
            lang = detect_lang(q)
            kind = f"{lang}-{it.kind.split('-', 1)[1]}" if it.answerable else it.kind
            out.append(replace(it, question=q, lang=lang, kind=kind))
    return out

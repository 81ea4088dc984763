"""Synthetic mixed English/Persian corpora of an exact chunk count, for growth benchmarks.

Text is recombined from real sentences of ``corpus/`` plus variations (numbers and place names swapped), so
it reads like the real documents in both languages, while the set of distinct sentences (and so the
Persian vocabulary and the number of texts that need a real embedding) stays bounded by the pool size.
Chunks are unique: each section draws its sentences at random. Everything is deterministic from the seed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from verbatim_qa.ingest.chunking import chunk_document
from verbatim_qa.ingest.loaders import iter_files, load_document
from verbatim_qa.text.lang import detect_lang
from verbatim_qa.text.segment import clean_heading, segment, sentences
from verbatim_qa.types import Document

_SWAPS = {
    "en": ["Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Uzbekistan"],
    "fa": ["قزاقستان", "قرقیزستان", "تاجیکستان", "ترکمنستان", "ازبکستان"],
}
_EXTRA_HEADINGS = {
    "en": ["Introduction", "Background", "Findings", "Discussion", "Conclusion", "Security cooperation"],
    "fa": ["مقدمه", "یافته‌ها", "بحث", "نتیجه‌گیری", "همکاری امنیتی", "پیشینه"],
}
_DIGITS = re.compile(r"[0-9]+|[۰-۹]+")
_BAD = re.compile(r"<|>|\||\*\*|^\s*[-*#\d]|\[\d")


@dataclass
class Pool:
    sentences: dict[str, list[str]]  # lang -> distinct sentences
    headings: dict[str, list[str]]


@dataclass
class Generated:
    chunks: int = 0
    docs: int = 0
    chars: int = 0
    chunks_per_doc: list[int] = field(default_factory=list)  # in ingest (file name) order
    used: set[str] = field(default_factory=set)  # every sentence and heading line a chunk can contain


def build_pool(corpus: Path, size: int, seed: int) -> Pool:
    """Real sentences of ``corpus`` (each stable under re-segmentation) and variations, ``size`` in all."""
    base: dict[str, list[str]] = {"en": [], "fa": []}
    heads: dict[str, set[str]] = {k: set(v) for k, v in _EXTRA_HEADINGS.items()}
    for path in iter_files([corpus]):
        text = load_document(path, 50 << 20).text
        for sec in segment(text):
            title = sec.path.split(" > ")[-1] if sec.path else ""
            if 3 <= len(title) <= 60 and title != "References":
                heads.setdefault(detect_lang(title), set()).add(title)
            for s in sec.sentences:
                lang = detect_lang(s.text)
                if lang in base and _usable(s.text) and s.text not in base[lang]:
                    base[lang].append(s.text)
    rng = random.Random(seed)
    out = {lang: list(v) for lang, v in base.items()}
    varied = {lang: [s for s in v if _DIGITS.search(s) or any(n in s for n in _SWAPS[lang])]
              for lang, v in base.items()}
    per_lang = {lang: max(size * len(v) // max(sum(map(len, base.values())), 1), 1) for lang, v in base.items()}
    for lang, want in per_lang.items():
        out[lang] = out[lang][:want]
        seen, tries = set(out[lang]), 0
        while len(out[lang]) < want and varied[lang] and tries < want * 20:
            tries += 1
            s = _vary(rng.choice(varied[lang]), lang, rng)
            if s not in seen and _usable(s):
                seen.add(s)
                out[lang].append(s)
    return Pool(out, {k: sorted(v) for k, v in heads.items() if k in base})


def _usable(s: str) -> bool:
    """A whole sentence that the segmenter splits off the same way wherever it is put."""
    return 25 <= len(s) <= 350 and "\n" not in s and not _BAD.search(s) and _splits(f"{s} {s}") == [s, s]


def _splits(text: str) -> list[str]:
    return [x.text for x in sentences(text)]


def _vary(s: str, lang: str, rng: random.Random) -> str:
    def digits(m: re.Match) -> str:
        zero = "۰" if "۰" <= m.group()[0] <= "۹" else "0"
        n = [rng.randrange(1 if i == 0 and len(m.group()) > 1 else 0, 10) for i in range(len(m.group()))]
        return "".join(chr(ord(zero) + d) for d in n)

    s = _DIGITS.sub(digits, s)
    names = _SWAPS[lang]
    return re.sub("|".join(names), lambda m: rng.choice(names), s)


def write_corpus(folder: Path, n_chunks: int, pool: Pool, seed: int, chunk_chars: int) -> Generated:
    """Markdown files in ``folder`` that chunk to exactly ``n_chunks`` (sections chunk independently)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng, gen = random.Random(seed), Generated()
    while gen.chunks < n_chunks:
        langs = rng.choice([("en",), ("fa",), ("fa",), ("en", "fa")])  # the real corpus is mostly Persian
        parts, doc_chunks = [], 0
        for i in range(rng.randint(6, 14)):
            if gen.chunks + doc_chunks >= n_chunks:
                break
            lang = langs[i % len(langs)]
            text, k = _section(rng, pool, lang, n_chunks - gen.chunks - doc_chunks, chunk_chars, gen.used)
            parts.append(text)
            doc_chunks += k
        body = "\n\n".join(parts) + "\n"
        (folder / f"doc-{gen.docs:06d}.md").write_text(body, encoding="utf-8")
        gen.docs += 1
        gen.chunks += doc_chunks
        gen.chars += len(body)
        gen.chunks_per_doc.append(doc_chunks)
    return gen


def _section(rng, pool: Pool, lang: str, room: int, chunk_chars: int, used: set[str]) -> tuple[str, int]:
    """One '## heading' section; stops adding sentences before its chunk count would exceed ``room``."""
    heading = rng.choice(pool.headings[lang])
    used.update({heading, f"## {heading}", clean_heading(heading)})
    greedy = _Greedy(chunk_chars, len(f"## {heading}") + 1)
    paras: list[list[str]] = []
    for _ in range(rng.randint(1, 3)):
        paras.append([])
        greedy.pos += 1  # paragraph break: "\n\n" where sentences are joined by one space
        for _ in range(rng.randint(2, 6)):
            sent = rng.choice(pool.sentences[lang])
            if greedy.count_with(len(sent)) > room:
                return _join(heading, paras), greedy.count
            greedy.add(len(sent))
            paras[-1].append(sent)
            used.add(sent)
    return _join(heading, paras), greedy.count


def _join(heading: str, paras: list[list[str]]) -> str:
    return "\n\n".join([f"## {heading}"] + [" ".join(p) for p in paras if p])


class _Greedy:
    """``chunk_document``'s grouping, done on sentence lengths (the section is built a sentence at a time)."""

    def __init__(self, max_chars: int, heading_len: int) -> None:
        self.max, self.start, self.closed = max_chars, 0, 0
        self.pos = heading_len  # where the next sentence would start if joined by a space

    def count_with(self, n: int) -> int:
        return self.closed + 1 + (self.pos + n - self.start > self.max)

    def add(self, n: int) -> None:
        if self.pos + n - self.start > self.max:
            self.closed += 1
            self.start = self.pos
        self.pos += n + 1  # the joining space

    @property
    def count(self) -> int:
        return self.closed + 1


def count_chunks(text: str, chunk_chars: int) -> int:
    """What the real chunker makes of ``text`` (to check the arithmetic above)."""
    doc = Document(doc_id="x", source="x.md", path="x.md", title="", text=text, langs=(), sha="x")
    return len(chunk_document(doc, chunk_chars))

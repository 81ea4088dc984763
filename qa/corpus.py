"""What retrieval derives from the committed chunks, kept per document so a change reads only what changed.

BM25 needs every chunk's tokens; the term translator needs the Persian vocabulary (word and pair counts, the
share of Persian chunks each occurs in) and the most frequent non-Persian words; the fusion needs each chunk's
language and source. One scan of the store computes all of it, grouped by document. After an ingest or delete,
``updated`` diffs the commit records against this view and reads only the chunks of documents added or
changed; the vocabulary counts are updated by adding and subtracting those documents' counts, never recounted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from vectorstore.store import Store
from verbatim.text.lang import detect_lang
from verbatim.text.normalize import tokenize
from verbatim.text.stopwords import EN_STOP, FA_STOP
from verbatim.types import Chunk


@dataclass
class DocPart:
    """One committed document's share of the view."""

    sha: str
    chunk_ids: list[str]
    meta: list[tuple[str, str, float]]  # (lang, source, share of reference-list sentences) per chunk
    bm25_tokens: list[list[str]]  # tokens of the section path and text (what BM25 indexes)
    fa_chunks: int = 0
    fa_words: Counter = field(default_factory=Counter)  # Persian content words
    fa_pairs: Counter = field(default_factory=Counter)  # Persian word pairs
    fa_df: Counter = field(default_factory=Counter)  # Persian chunks each word or pair occurs in
    other_df: Counter = field(default_factory=Counter)  # chunks each non-Persian content word occurs in

    @classmethod
    def of(cls, sha: str, chunks: list[Chunk]) -> DocPart:
        chunks = sorted(chunks, key=lambda c: c.char_start)  # the order LexicalIndex.build uses
        part = cls(sha, [c.chunk_id for c in chunks], [(c.lang, c.source, c.share("reference")) for c in chunks], [])
        for c in chunks:
            tokens = tokenize(c.text)
            part.bm25_tokens.append(section_tokens(c.section) + tokens)
            part.other_df.update({w for w in tokens if w not in EN_STOP and not w.isdigit() and len(w) > 1
                                  and token_lang(w) != "fa"})
            if c.lang != "fa":
                continue
            part.fa_chunks += 1
            toks = [t for t in tokens if token_lang(t) == "fa"]
            ws = [t for t in toks if t not in FA_STOP and len(t) > 1]
            ps = [f"{a} {b}" for a, b in zip(toks, toks[1:]) if a not in FA_STOP and b not in FA_STOP]
            part.fa_words.update(ws)
            part.fa_pairs.update(ps)
            part.fa_df.update(set(ws) | set(ps))
        return part


class CorpusView:
    def __init__(self, parts: dict[str, DocPart]) -> None:
        self.parts = parts
        self.fa_chunks = 0
        self.fa_words: Counter = Counter()
        self.fa_pairs: Counter = Counter()
        self.fa_df: Counter = Counter()
        self.other_df: Counter = Counter()
        for p in parts.values():
            self._add(p, 1)

    @classmethod
    def scan(cls, store: Store, committed: dict[str, str] | None = None) -> CorpusView:
        """Every committed chunk, read once."""
        committed = store.committed() if committed is None else committed
        by_doc: dict[str, list[Chunk]] = {}
        for c in store.all_chunks(committed):
            by_doc.setdefault(c.doc_id, []).append(c)
        return cls({d: DocPart.of(committed[d], cs) for d, cs in by_doc.items()})

    def updated(self, store: Store, committed: dict[str, str]) -> tuple[CorpusView, bool]:
        """The view of ``committed`` (doc id -> sha), reading only the chunks of new or changed documents; the
        second value says whether anything changed. This view is left as it was (readers may still use it)."""
        gone = [d for d, p in self.parts.items() if committed.get(d) != p.sha]
        new = sorted(d for d, sha in committed.items() if d not in self.parts or self.parts[d].sha != sha)
        if not gone and not new:
            return self, False
        view = CorpusView.__new__(CorpusView)
        view.parts = {d: p for d, p in self.parts.items() if d not in gone}
        view.fa_chunks = self.fa_chunks
        view.fa_words, view.fa_pairs = self.fa_words.copy(), self.fa_pairs.copy()
        view.fa_df, view.other_df = self.fa_df.copy(), self.other_df.copy()
        for d in gone:
            view._add(self.parts[d], -1)
        by_doc: dict[str, list[Chunk]] = {d: [] for d in new}
        for c in store.chunks_of({d: committed[d] for d in new}):
            by_doc[c.doc_id].append(c)
        for d, chunks in by_doc.items():
            if chunks:  # a document deleted meanwhile has none: it is simply not there
                view.parts[d] = DocPart.of(committed[d], chunks)
                view._add(view.parts[d], 1)
        return view, True

    def _add(self, part: DocPart, sign: int) -> None:
        self.fa_chunks += sign * part.fa_chunks
        for mine, theirs in ((self.fa_words, part.fa_words), (self.fa_pairs, part.fa_pairs),
                             (self.fa_df, part.fa_df), (self.other_df, part.other_df)):
            if sign > 0:
                mine.update(theirs)
            else:
                mine.subtract(theirs)
                for k in [k for k in theirs if mine[k] <= 0]:
                    del mine[k]

    # ---- what the retriever's parts are built from -------------------------------------------------------
    def chunks(self) -> tuple[list[str], list[list[str]]]:
        """Chunk ids and their BM25 tokens, in a fixed order (by document id, then position)."""
        ids, tokens = [], []
        for d in sorted(self.parts):
            ids += self.parts[d].chunk_ids
            tokens += self.parts[d].bm25_tokens
        return ids, tokens

    def meta(self) -> dict[str, tuple[str, str, float]]:
        return {cid: m for p in self.parts.values() for cid, m in zip(p.chunk_ids, p.meta)}

    def persian_terms(self, min_pair_count: int = 2) -> tuple[list[str], list[float]]:
        """Persian words and repeated pairs, with the share of Persian chunks each occurs in."""
        terms = sorted(self.fa_words) + sorted(p for p, n in self.fa_pairs.items() if n >= min_pair_count)
        n = max(self.fa_chunks, 1)
        return terms, [self.fa_df[t] / n for t in terms]

    def frequent_words(self, limit: int) -> list[str]:
        """The ``limit`` non-Persian content words found in most chunks (ties by word: the same in every process)."""
        df = self.other_df
        return sorted(sorted(df, key=lambda w: (-df[w], w))[:limit])


def section_tokens(section: str | None) -> list[str]:
    return list(_section_tokens(section)) if section else []


@lru_cache(maxsize=65536)
def _section_tokens(section: str) -> tuple[str, ...]:
    return tuple(tokenize(section))  # sections repeat across a document's chunks


@lru_cache(maxsize=500_000)
def token_lang(token: str) -> str:
    """detect_lang per distinct token: vocabulary building calls it for every token of the index."""
    return detect_lang(token)

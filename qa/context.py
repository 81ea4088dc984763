"""What an answerer reads from the index for one question: one value, handed over by ``HybridRetriever.context``.

The answerers never read the store or the retriever's parts (tests/test_layers.py keeps that seam): the
calibration background, the question's words the documents never mention, the bridge of Persian name spellings
and the vectors of the sentences it may quote all arrive here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from verbatim_qa.types import sentence_id

if TYPE_CHECKING:
    import numpy as np

    from .names import NameBridge


@dataclass(frozen=True)
class IndexContext:
    # per document language: the question's mean cosine with a fixed sample of that language's sentences (e5's
    # cosine scale differs by language pair; a score above this is comparable across pairs)
    background: dict[str, float] = field(default_factory=dict)
    # the question's words that no retrieved passage has, no document has and nothing translates: what the
    # documents never mention (``HybridRetriever.unmatched_terms``)
    unmatched: tuple[str, ...] = ()
    bridge: NameBridge | None = None  # the index's Persian words by consonant skeleton (qa/names.py)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # sentence id ("chunk_id:i") -> its e5 vector

    def vector(self, chunk_id: str, index: int) -> np.ndarray | None:
        return self.vectors.get(sentence_id(chunk_id, index))

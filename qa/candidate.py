"""A sentence of a retrieved chunk with its raw evidence and scores: what the extractive answerer ranks and picks
(qa/extractive.py) and the answer is composed from (qa/compose.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verbatim_qa.types import Chunk, Sentence


@dataclass
class Candidate:
    chunk: Chunk
    index: int  # position of the sentence in its chunk
    sentence: Sentence
    vector: np.ndarray
    cosine: float  # with the question's e5 vector
    cross: bool  # the chunk's language is not the question's
    lexical: float  # share of the question's content terms the sentence has
    ordinal: bool  # starts with the ordinal the question asks for
    typed: float  # 1: carries the expected type of answer, 0: does not, 0.5: cannot tell (or none expected)
    focus: float = 0.0  # share of a follow-up's own terms (Query.focus) the sentence has
    background: float = 0.0  # the question's mean cosine with this language's background sentences (calibration)
    relevance: float = 0.0  # the score without the answer-type term: what refusal reads
    score: float = 0.0

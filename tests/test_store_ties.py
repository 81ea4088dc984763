"""The store's nearest-neighbour pools are canonical: rows equally near the question (identical sentences, such as
a book's running heads) are cut by id, whatever order the index returns them in (vectorstore/store.py _query)."""

from __future__ import annotations

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from verbatim_qa.vectorstore.store import SEARCH_HNSW, _query


def collection(path, name: str, ids: list[str], vectors: np.ndarray):
    client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
    col = client.create_collection(name, configuration={"hnsw": {"space": "cosine", **SEARCH_HNSW}})
    col.add(ids=ids, embeddings=vectors.tolist())
    return col


def test_a_tie_at_the_cut_is_broken_by_id_in_any_insertion_order(tmp_path):
    rng = np.random.default_rng(7)
    query = rng.normal(size=16).astype(np.float32)
    query /= np.linalg.norm(query)
    near = query + 0.05 * rng.normal(size=(10, 16)).astype(np.float32)  # ten rows nearer than the tie
    header = query + 0.6 * rng.normal(size=16).astype(np.float32)  # one sentence repeated 40 times
    far = rng.normal(size=(50, 16)).astype(np.float32)
    vectors = np.vstack([near, np.tile(header, (40, 1)), far])
    ids = [f"n{i:02d}" for i in range(10)] + [f"h{i:02d}" for i in range(40)] + [f"f{i:02d}" for i in range(50)]
    forward = collection(tmp_path / "a", "forward", ids, vectors)
    backward = collection(tmp_path / "b", "backward", ids[::-1], vectors[::-1].copy())
    for col in (forward, backward):
        got = _query(col, query, 15, None)
        assert [i for i, _ in got] == [i for i, _ in sorted(got, key=lambda h: (-h[1], h[0]))]
        assert {i for i, _ in got[:10]} == {f"n{i:02d}" for i in range(10)}
        assert [i for i, _ in got[10:]] == ["h00", "h01", "h02", "h03", "h04"]  # the tied rows of smallest id
    assert _query(forward, query, 15, None) == _query(backward, query, 15, None)
    assert len(_query(forward, query, 500, None)) == 100 and _query(forward, query, 0, None) == []

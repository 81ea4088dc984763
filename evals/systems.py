"""The retrieval systems compared in one eval run. Each maps a question to ranked (source, start, end)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # `verbatim --help` reads ALL_SYSTEMS: no retrieval stack at import
    from verbatim_qa.qa.retriever import HybridRetriever
    from verbatim_qa.vectorstore.store import Store

Span = tuple[str, int, int]

# name -> settings switches; all share one Verbatim index (the switches act at query time)
VERBATIM_SYSTEMS = {
    "bm25": dict(use_dense_chunks=False, use_dense_sentences=False, use_bm25=True, use_crosslingual=False),
    "dense-chunks": dict(use_dense_chunks=True, use_dense_sentences=False, use_bm25=False, use_crosslingual=False),
    "verbatim": {},
    "verbatim-rrf": dict(fusion="rrf"),
    "verbatim-no-crosslingual": dict(use_crosslingual=False),
    "verbatim-no-names": dict(use_names=False),
    "verbatim-no-ordinals": dict(use_ordinals=False),
    "verbatim-no-lang-offset": dict(lang_offset=0.0),
    "verbatim-no-sentences": dict(use_dense_sentences=False),
    "verbatim-no-chunks": dict(use_dense_chunks=False),
    "verbatim-no-bm25": dict(use_bm25=False),
}
ALL_SYSTEMS = ["bm25", "langchain", *[s for s in VERBATIM_SYSTEMS if s != "bm25"]]


class System(Protocol):
    name: str

    def search(self, question: str, k: int) -> list[Span]: ...


@dataclass
class VerbatimSystem:
    name: str
    retriever: HybridRetriever

    def search(self, question: str, k: int) -> list[Span]:
        hits = self.retriever.retrieve(self.retriever.analyzer.analyze(question), k)
        return [(r.chunk.source, r.chunk.char_start, r.chunk.char_end) for r in hits]


class LangChainRecipe:
    """The LangChain tutorial recipe: RecursiveCharacterTextSplitter 1000/200, all-MiniLM-L6-v2, Chroma."""

    name = "langchain"

    def __init__(self, texts: dict[str, str], workdir: Path) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from verbatim_qa.vectorstore.embedder import get_embedder

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
        docs = splitter.split_documents(
            [Document(page_content=t, metadata={"source": name}) for name, t in texts.items()]
        )
        client = chromadb.PersistentClient(path=str(workdir), settings=ChromaSettings(anonymized_telemetry=False))
        self.db = Chroma(collection_name="langchain-recipe", embedding_function=get_embedder("st:all-MiniLM-L6-v2"),
                         client=client)
        self.db.add_documents(docs)

    def search(self, question: str, k: int) -> list[Span]:
        out = []
        for d in self.db.similarity_search(question, k=k):
            start = d.metadata["start_index"]
            out.append((d.metadata["source"], start, start + len(d.page_content)))
        return out


def build_systems(names: list[str], store: Store, texts: dict[str, str], workdir: Path | None = None) -> list[System]:
    unknown = [n for n in names if n not in ALL_SYSTEMS]
    if unknown:
        raise ValueError(f"unknown system(s) {unknown}: choose from {ALL_SYSTEMS}")
    from verbatim_qa.qa.retriever import HybridRetriever

    shared = HybridRetriever.from_store(store)  # builds BM25 and the term vocabulary once
    systems: list[System] = []
    for name in names:
        if name == "langchain":
            systems.append(LangChainRecipe(texts, workdir or Path(tempfile.mkdtemp(prefix="verbatim-lc-"))))
            continue
        settings = store.settings.with_(**VERBATIM_SYSTEMS[name])
        retriever = HybridRetriever.from_store(store, settings, lexical=shared.lexical, translator=shared.translator)
        systems.append(VerbatimSystem(name, retriever))
    return systems

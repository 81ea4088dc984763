"""Verbatim's retrieval as a LangChain retriever, so a LangChain chain can use it like any other:
``{"context": LangChainRetriever(retriever=r) | format_docs, "question": RunnablePassthrough()} | prompt | llm``.

Each question is analysed once (qa/analyzer.py) and retrieved; each passage becomes a ``Document`` whose
``page_content`` is the chunk's text and whose metadata say where it is: source, doc_id, char_start/char_end (the
chunk's offsets in its document's text), section, page and the fused score.
"""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from verbatim_qa.types import ScoredChunk

from .retriever import HybridRetriever


class LangChainRetriever(BaseRetriever):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: HybridRetriever
    k: int | None = None  # passages per question (None: the retriever's ``top_k``)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.retriever.retrieve(self.retriever.analyzer.analyze(query), self.k)
        return [as_document(r) for r in hits]


def as_document(r: ScoredChunk) -> Document:
    c = r.chunk
    return Document(page_content=c.text, id=c.chunk_id,
                    metadata={"source": c.source, "doc_id": c.doc_id, "char_start": c.char_start,
                              "char_end": c.char_end, "section": c.section, "page": c.page, "score": r.score})

"""Vector store: embeddings, the Chroma-backed chunk/sentence/document store, and the lexical index."""

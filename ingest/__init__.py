"""Ingestion: files -> Document (exact text) -> Sentences -> Chunks with exact offsets."""

"""Web chat and HTTP API (the last step of the flow: ingest -> vectorstore -> qa -> ui)."""

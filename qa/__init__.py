"""Question answering: hybrid retrieval, cross-language query help, answers with verified quotes."""

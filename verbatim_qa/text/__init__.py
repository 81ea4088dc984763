"""Text utilities shared by indexing and querying: the search form (normalize, tokenize), language, sentence
segmentation and stopwords. Indexing and querying must use the same ones, so they live in the base."""

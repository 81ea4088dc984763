"""The public contract, written once: what the API, the CLI, MCP, the OpenAI endpoint, the evals and the tests
all accept and promise. Change a value here and every door changes with it.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Literal, get_args

# The distribution's version, from its installed metadata (pyproject.toml is where it is written).
VERSION = version("verbatim-qa")

# Passages a request may ask for: `k` of every door and VERBATIM_TOP_K alike.
MAX_K = 50
# Characters of a question (and of an earlier turn's question): longer is a pasted document, not a question.
MAX_QUESTION_CHARS = 4000

# The quotes-only switch of every door (/api/ask, /v1/chat/completions, MCP `ask`); VERBATIM_LLM_QUOTES_ONLY makes
# it always on, a request can only turn it on.
QUOTES_ONLY_DOC = ("Show only verified quotes: none of the language model's own sentences (nor its draft). "
                   "Always on when the server sets VERBATIM_LLM_QUOTES_ONLY.")

# Who writes the answer: "auto" is the LLM when an endpoint is configured, else the extractive answerer.
AnswererName = Literal["auto", "extractive", "llm"]
ANSWERERS: tuple[str, ...] = get_args(AnswererName)

# The answer object (Answer.to_dict: `ask --json`, POST /api/ask, MCP `ask`) and its parts; a field may be added,
# never removed or renamed.
ANSWER_KEYS = frozenset({"question", "search_query", "answer", "refused", "citations", "retrieved", "answer_span",
                         "caveat", "language_note", "model_sentences"})
SPAN_KEYS = frozenset({"text", "source", "char_start", "char_end", "reading"})
CITATION_KEYS = frozenset({"n", "source", "title", "section", "page", "quote", "char_start", "char_end", "doc_id",
                           "extracted_by"})
SENTENCE_KEYS = frozenset({"text", "citations"})  # one of ``model_sentences``: an LLM answer's own words
RETRIEVED_KEYS = frozenset({"source", "section", "char_start", "char_end", "text", "score"})
# A citation and a retrieved passage of an answer from several collections (qa/several.py) also name their own.
SEVERAL_KEYS = frozenset({"collection"})
# Collections one question may name (`collections` of /api/ask and MCP, repeated --collection, `verbatim:a+b`):
# each is searched in turn, so the bound keeps one request's work bounded.
MAX_COLLECTIONS = 8

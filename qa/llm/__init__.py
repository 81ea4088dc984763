"""Optional LLM answerer: a chat model writes the answer, every quote it offers is verified, the rest dropped.

Same interface as ``ExtractiveAnswerer`` (``answer`` / ``answer_from``). The flow:

1. Prompt. A fixed system message (``SYSTEM_PROMPT``, never containing document text) and one human message
   with the retrieved chunks as numbered ``<source n="1">...</source>`` blocks, marked as untrusted data whose
   instructions must be ignored, then the question in a ``<question>`` block.
2. Reply. The model must return one JSON object ``{"answer": "text with [n] markers", "quotes": [{"n": int,
   "quote": str}]}``. With an OpenAI-compatible server the request asks for JSON mode
   (``response_format={"type": "json_object"}``, sent in ``extra_body``: see ``LLMAnswerer``);
   no tool calling is needed. The text is parsed here (code fences and chatter around the object tolerated),
   then validated with pydantic, so tiny models' broken JSON is a specific, handled error.
3. Verification. Each quote goes through ``verify_quote`` against the source it names: a match after
   normalization becomes the exact original span (``citation_for``). A quote that is not in the source it
   names but is verbatim in another source the model was shown is *re-attributed* to that source (the model's
   numbering is bookkeeping, the words are what is promised; the citation points where they really are, and
   a note says so). Anything else - invented, paraphrased beyond normalization, n out of range and found
   nowhere, shorter than ``settings.llm_min_quote_chars`` - is dropped and noted.
4. Markers. A marker ``[n]`` in the answer stands for the quotes the model declared with that ``n``. Markers
   whose quotes all failed become ``[unsupported]`` (noted). Surviving citations are renumbered 1..m in order
   of first mention and the markers rewritten to match; verified quotes the answer never mentions are appended
   as quote lines. Sentences of the answer text that carry no marker at all are uncited claims and are left
   out (noted). If no marker of the answer text is backed by a verified quote, the text is unsupported prose
   and only the verified quotes are shown; ``quotes_only=True`` always does that (the model's own wording
   never reaches the user).
5. Fallback. No verified quote, or an expected failure (server unreachable, timeout, HTTP error status, reply
   cut by the token limit, broken JSON, wrong JSON shape) -> the extractive answer, with a note saying why; if
   it refuses, the result refuses. Other exceptions are bugs and propagate.

Streaming (``stream_from``): the model is read with ``.stream``; the ``answer`` field of its JSON is decoded as the
tokens arrive (``reply.AnswerStream``) and yielded as the draft, then steps 3-5 give the verified answer. The
answer's own sentences are typed parts (``ModelSentence``: words and ``Marker``s), never parsed back from text.

One module a job: ``prompt`` (step 1), ``reply`` (step 2, and the error tuples), ``verify`` (step 3),
``markers`` (step 4), ``answerer`` (``LLMAnswerer``: the flow and step 5) and ``client`` (``make_chat_model``,
the ChatOpenAI client built from the settings).
"""

from .answerer import LLMAnswerer
from .client import make_chat_model
from .markers import UNSUPPORTED
from .prompt import SYSTEM_PROMPT, build_messages
from .reply import CUT_REPLY_ERRORS, MODEL_ERRORS, REPLY_ERRORS, LLMReply, QuoteItem, parse_reply

__all__ = ["CUT_REPLY_ERRORS", "MODEL_ERRORS", "REPLY_ERRORS", "SYSTEM_PROMPT", "UNSUPPORTED", "LLMAnswerer",
           "LLMReply", "QuoteItem", "build_messages", "make_chat_model", "parse_reply"]

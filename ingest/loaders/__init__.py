"""Files -> ``Document``: the exact text we will quote, plus metadata.

Every refusal is a ``LoadError`` with a one-line reason, so a batch ingest can report each failed file
instead of crashing or, worse, indexing mojibake.

One module a job: ``decode`` (bytes -> text, and content that is plainly another format), ``html``, ``pdf``,
``docx`` (text of each format), ``documents`` (one file -> ``Document``: checks, dispatch, title) and
``files`` (which files a list of paths means). ``errors`` holds ``LoadError`` and the pieces of its reasons.
"""

from .decode import decode_text
from .documents import SUPPORTED, document_id, load_document
from .errors import LoadError
from .files import iter_files

__all__ = ["SUPPORTED", "LoadError", "decode_text", "document_id", "iter_files", "load_document"]

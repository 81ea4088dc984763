"""Verbatim: document-grounded QA whose every quote is an exact span of a source."""

from .contract import VERSION as __version__  # noqa: F401  (package metadata)

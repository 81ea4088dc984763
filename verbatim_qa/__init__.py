"""Verbatim: document-grounded QA whose every quote is an exact span of a source."""

__version__ = "0.1.0"

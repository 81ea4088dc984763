"""The chat model: a ChatOpenAI client for any OpenAI-compatible server, built from the settings."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from langchain_core.language_models import BaseChatModel

from verbatim_qa.settings import Settings


def make_chat_model(settings: Settings, timeout: float | None = None, max_tokens: int | None = None,
                    **client_kwargs: Any) -> BaseChatModel | None:
    """A ChatOpenAI client for any OpenAI-compatible server (Ollama, llama.cpp, vLLM, OpenAI), or None when
    ``settings.llm_base_url`` is not set. ``timeout`` and ``max_tokens`` default to ``settings.llm_timeout``
    and ``settings.llm_max_tokens``; ``client_kwargs`` go to ChatOpenAI (e.g. ``http_client``)."""
    if not settings.llm.llm_base_url:
        return None
    if not settings.llm.llm_model:
        raise ValueError("VERBATIM_LLM_BASE_URL is set but VERBATIM_LLM_MODEL is not: name the server's model "
                         "(see GET <base_url>/models)")
    from langchain_openai import ChatOpenAI

    if timeout is None:
        timeout = settings.llm.llm_timeout
    if max_tokens is None:
        max_tokens = settings.llm.llm_max_tokens
    # ChatOpenAI sends ``max_tokens`` as ``max_completion_tokens``, which OpenAI wants but llama.cpp's server
    # ignores (it then generates until its context is full); the other servers all read ``max_tokens``.
    if urlparse(settings.llm.llm_base_url).hostname == "api.openai.com":
        limit: dict[str, Any] = {"max_tokens": max_tokens}
    else:
        limit = {"extra_body": {"max_tokens": max_tokens}}
    return ChatOpenAI(
        base_url=settings.llm.llm_base_url,
        model=settings.llm.llm_model,
        api_key=settings.llm.llm_api_key or "not-needed",  # local servers ignore it; the client requires one
        temperature=0,
        timeout=timeout,
        max_retries=1,
        **limit,
        **client_kwargs,
    )

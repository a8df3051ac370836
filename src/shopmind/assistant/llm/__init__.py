"""LLM backends chosen by URL: `none`, `llama-cpp:PATH.gguf`, `openai://HOST:PORT/v1` (name → class registry)."""

from __future__ import annotations

import importlib

from shopmind.assistant.llm.base import LLM, LLMError

# URL scheme → "module:Class"; imported only when used, so optional packages stay optional
BACKENDS: dict[str, str] = {
    "none": "shopmind.assistant.llm.none:NoLLM",
    "llama-cpp": "shopmind.assistant.llm.llama_cpp:LlamaCppLLM",
    "openai": "shopmind.assistant.llm.openai:OpenAICompatibleLLM",
    "openai+https": "shopmind.assistant.llm.openai:OpenAICompatibleLLM",
}


def scheme_of(url: str) -> str:
    """'openai://h:1/v1' → 'openai'; 'llama-cpp:/m.gguf' → 'llama-cpp'; 'none' → 'none'."""
    return url.split("://", 1)[0] if "://" in url else url.split(":", 1)[0]


def open_llm(url: str | None) -> LLM:
    """The backend for a URL; raises ValueError for an unknown scheme, LLMError when it cannot start."""
    scheme = scheme_of(url or "none")
    if scheme not in BACKENDS:
        raise ValueError(f"unknown LLM backend {scheme!r}; use one of: {', '.join(BACKENDS)}")
    module, cls = BACKENDS[scheme].split(":")
    return getattr(importlib.import_module(module), cls).from_url(url or "none")


__all__ = ["BACKENDS", "LLM", "LLMError", "open_llm", "scheme_of"]

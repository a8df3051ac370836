"""`openai://HOST:PORT/v1`: any OpenAI-compatible chat server (llama.cpp server, vLLM, Ollama, hosted), via httpx.

`openai://` talks plain HTTP (loopback, private network); `openai+https://` uses TLS. The key comes from
SHOPMIND_LLM_API_KEY (or OPENAI_API_KEY); the model name from `?model=NAME` in the URL (default: `default`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx

from shopmind.assistant.llm.base import LLMError


class OpenAICompatibleLLM:
    """Chat completions over HTTP; every failure becomes LLMError so the assistant can fall back."""

    name = "openai"
    enabled = True

    def __init__(self, url: str) -> None:
        self.url = url
        parts = urlsplit(url)
        scheme = "https" if parts.scheme.endswith("+https") else "http"
        self.base = f"{scheme}://{parts.netloc}{parts.path.rstrip('/') or '/v1'}"
        self.model = parse_qs(parts.query).get("model", ["default"])[0]
        key = os.environ.get("SHOPMIND_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY")
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(headers=self.headers)

    @classmethod
    def from_url(cls, url: str) -> OpenAICompatibleLLM:
        return cls(url)

    def _body(self, messages: list[dict[str, str]], max_tokens: int, stream: bool) -> dict:
        return {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": 0.0, "stream": stream}

    def complete(self, messages: list[dict[str, str]], *, max_tokens: int, timeout: float) -> tuple[str, int]:
        """POST /chat/completions and return (text, total tokens)."""
        try:
            r = self._client.post(f"{self.base}/chat/completions", json=self._body(messages, max_tokens, False), timeout=timeout)
            r.raise_for_status()
            data = r.json()
            text = data["choices"][0]["message"]["content"] or ""
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
            raise LLMError(f"{self.url}: {type(exc).__name__}: {exc}") from exc
        usage = data.get("usage") or {}
        return text, int(usage.get("total_tokens") or 0)

    def stream(self, messages: list[dict[str, str]], *, max_tokens: int, timeout: float) -> Iterator[str]:
        """Server-sent events from /chat/completions with stream=true, as text chunks."""
        try:
            with self._client.stream("POST", f"{self.base}/chat/completions", json=self._body(messages, max_tokens, True), timeout=timeout) as r:
                r.raise_for_status()
                for line in r.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    delta = json.loads(payload)["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
            raise LLMError(f"{self.url}: {type(exc).__name__}: {exc}") from exc

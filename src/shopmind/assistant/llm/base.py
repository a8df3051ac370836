"""The LLM contract: chat messages in, text out; the assistant only ever asks it to rephrase given facts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class LLMError(RuntimeError):
    """The backend failed (unreachable, timed out, bad reply); callers fall back to templates."""


class LLM(Protocol):
    """A text generator. `name` is reported in responses; `url` is what opened it."""

    name: str
    url: str

    @classmethod
    def from_url(cls, url: str) -> LLM: ...

    def complete(self, messages: list[dict[str, str]], *, max_tokens: int, timeout: float) -> tuple[str, int]:
        """The reply text and the tokens it cost (prompt + completion)."""
        ...

    def stream(self, messages: list[dict[str, str]], *, max_tokens: int, timeout: float) -> Iterator[str]:
        """The reply as text chunks."""
        ...

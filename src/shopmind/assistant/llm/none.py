"""`none`: no model at all; the assistant's grounded templates are the answer (fast, offline, default)."""

from __future__ import annotations

from collections.abc import Iterator


class NoLLM:
    """The null backend: the assistant sees `enabled = False` and keeps its template text."""

    name = "none"
    enabled = False

    def __init__(self, url: str = "none") -> None:
        self.url = url

    @classmethod
    def from_url(cls, url: str) -> NoLLM:
        return cls(url)

    def complete(self, messages: list[dict[str, str]], *, max_tokens: int, timeout: float) -> tuple[str, int]:
        """Echo nothing: there is no model to phrase with."""
        return "", 0

    def stream(self, messages: list[dict[str, str]], *, max_tokens: int, timeout: float) -> Iterator[str]:
        return iter(())

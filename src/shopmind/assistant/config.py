"""AssistantConfig: LLM backend URL, limits and session expiry (nested under [assistant] in shopmind.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AssistantConfig(BaseModel):
    """Settings of the shopping assistant."""

    model_config = ConfigDict(extra="forbid")

    llm: str = Field(default="none", description="none | llama-cpp:PATH.gguf (llama-cpp:smollm2) | openai://HOST:PORT/v1[?model=NAME]")
    timeout_s: float = Field(default=20.0, gt=0, description="per LLM call; on timeout the answer falls back to templates")
    max_tokens: int = Field(default=160, ge=16, description="per LLM reply")
    session_token_budget: int = Field(default=6000, ge=0, description="LLM tokens one session may spend; then templates only")
    session_ttl_s: float = Field(default=1800.0, gt=0)
    sessions: Literal["store", "memory"] = Field(default="store", description="where conversations live: the shop's database or this process")
    max_sessions: int = Field(default=100_000, ge=1, description="cap of the in-process store (least recently used go first)")
    results: int = Field(default=5, ge=1, le=20, description="product cards per answer")
    turn_budget_ms: int = Field(default=800, ge=50, le=60_000, description="CPU ms for understanding + catalog tools per turn; past it, optional "
                                "searches are skipped and the LLM is not asked (its own limit is timeout_s)")
    max_message_chars: int = Field(default=1000, ge=1, le=20_000, description="longest message a turn accepts (the API answers 422 beyond)")
    faq_path: Path | None = Field(default=None, description="default: <home>/faq.md, else the shipped template")

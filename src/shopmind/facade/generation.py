"""Generation verbs of the facade: a product's description and ad line (assistant.generate) written from its catalog
fields, confident extracted values and review aspect summaries, every fact checked; and the search query rewriter
port: with an LLM configured, zero- and low-result searches may ask the assistant's `rewrite_query` (bounded)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopmind.assistant.assistant import Assistant
    from shopmind.assistant.models import GeneratedText
    from shopmind.config import Settings
    from shopmind.shopdata import Catalog

__all__ = ["GENERATED_KINDS", "GenerateVerbs", "ProductNotFound"]
log = logging.getLogger(__name__)
GENERATED_KINDS = ("description", "ad")
REWRITE_TIMEOUT_S = 1.5  # the most a search waits for the LLM's rewrite before it goes on without it


class ProductNotFound(KeyError):
    """No product with that id (the API answers 404)."""


class GenerateVerbs:
    """describe_product / ad_copy (mixed into `ShopMind`), and `llm_query_rewriter` for the search part."""

    catalog: Catalog
    settings: Settings

    if TYPE_CHECKING:  # provided by ShopMind and ServingVerbs / ReviewVerbs
        @property
        def assistant(self) -> Assistant: ...
        def new_assistant(self, **overrides: Any) -> Assistant: ...
        def review_summary(self, product_id: str) -> dict[str, Any]: ...

    def generate_text(self, kind: str, product_id: str, *, llm: str | None = None) -> GeneratedText:
        """A fact-checked `kind` ('description' | 'ad') for a product; `llm` overrides the assistant's backend."""
        from shopmind.assistant.generate import generator_for

        if kind not in GENERATED_KINDS:
            raise ValueError(f"kind: must be one of {', '.join(GENERATED_KINDS)}, got {kind!r}")
        p = self.catalog.get(product_id)
        if p is None:
            raise ProductNotFound(f"no product {product_id!r}")
        gen = generator_for(self.new_assistant(llm=llm) if llm else self.assistant)
        reviews = self.review_summary(product_id)
        return gen.description(p, reviews) if kind == "description" else gen.ad_copy(p, reviews)

    def describe_product(self, product_id: str, *, llm: str | None = None) -> GeneratedText:
        """A short description from catalog fields, confident extracted values and review aspects (ProductNotFound)."""
        return self.generate_text("description", product_id, llm=llm)

    def ad_copy(self, product_id: str, *, llm: str | None = None) -> GeneratedText:
        """One ad line from the same facts (ProductNotFound)."""
        return self.generate_text("ad", product_id, llm=llm)

    def llm_query_rewriter(self, timeout_s: float = REWRITE_TIMEOUT_S) -> Callable[[str], str | None] | None:
        """A callable query → rewritten query (None when it fails, times out or says nothing new) over the assistant's
        LLM, made on first call; None when no LLM is configured (search then uses its catalog rewrite only)."""
        if str(self.settings.assistant.get("llm", "none") or "none") == "none":
            return None
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="query-rewrite")

        def ask(query: str) -> str | None:
            bot = self.assistant  # made on first use, in the worker: the search's wait stays bounded
            if not getattr(bot.llm, "enabled", False):
                return None
            g = bot.rewrite_query(query)
            return None if g.llm.backend == "none" or g.text.strip().casefold() == query.strip().casefold() else g.text

        def rewrite(query: str) -> str | None:
            try:
                return pool.submit(ask, query).result(timeout=timeout_s)
            except FutureTimeout:
                log.info("query rewrite: the LLM took over %.1f s; search went on without it", timeout_s)
                return None

        return rewrite

    def _install(self, part: str, version: str, service: Any) -> None:
        """The search part gets the LLM query rewriter (when configured) before it serves (ArtifactVerbs installs)."""
        if part == "search" and hasattr(service, "query_rewriter"):
            service.query_rewriter = self.llm_query_rewriter()
        super()._install(part, version, service)  # type: ignore[misc]

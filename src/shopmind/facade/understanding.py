"""Product-understanding verbs of the facade: enrich the stored catalog with extracted attribute values."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopmind.config import Settings
    from shopmind.domain import Product
    from shopmind.store import SqlStore

__all__ = ["EnrichVerbs"]


class EnrichVerbs:
    """`enrich` and the import hook (mixed into `ShopMind`); models load lazily on first use."""

    store: SqlStore
    settings: Settings

    def import_enricher(self) -> Callable[[list[Product]], list[Product]] | None:
        """The importer's per-batch enrichment of products, or None when `imports.enrich` is off."""
        if not self.settings.imports.enrich:
            return None
        from shopmind.understand.enrich import enricher

        return enricher()

    def enrich(self, *, min_confidence: float | None = None, batch_size: int = 2000) -> dict[str, Any]:
        """Re-extract attribute values for every stored product and write them back; a build then serves them in facets."""
        from shopmind.understand.enrich import enrich_all

        def write(batch: list[Product]) -> int:
            with self.store.transaction() as conn:
                return self.store.upsert_products(batch, conn=conn)

        return enrich_all(self.store.iter_products(), write, batch_size=batch_size, min_confidence=min_confidence).to_json()

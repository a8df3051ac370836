"""Enrichment: attribute values extracted from a product's title and description, kept apart from the shop's own.

Extracted values go to `Product.attributes_extracted[name] = {value, confidence, span: [start, end], source:
"title"|"description", model}` — never into `attributes`, so a shop-supplied value is never overridden: a name the
shop already gives (either field; case and '(s)' ignored; `brand` when the product has one) is not extracted at all.
`facet_attributes` is the view that facets and filters read: the shop's attributes over the extracted values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shopmind.domain import Product
from shopmind.understand.extractor import Extractor, model_for
from shopmind.understand.train import canonical

log = logging.getLogger(__name__)
MAX_DESCRIPTION_CHARS = 2000  # the description is read up to here: bounded work per product


@dataclass(slots=True)
class EnrichStats:
    """What one enrichment pass did."""

    products: int = 0
    enriched: int = 0
    values: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Counts and throughput for the CLI/API."""
        rate = self.products / self.seconds if self.seconds else 0.0
        return {"products": self.products, "enriched": self.enriched, "values": self.values, "seconds": round(self.seconds, 3),
                "products_per_second": round(rate, 1)}


def _shop_keys(p: Product) -> set[str]:
    keys = {canonical(k) for k in p.attributes}
    if p.brand:
        keys.add("brand")
    return keys


def extracted_for(p: Product, model: Extractor | None = None, min_confidence: float | None = None) -> dict[str, dict[str, Any]]:
    """The `attributes_extracted` a product gets: the model's values for names the shop does not supply."""
    model = model or model_for(p.title, p.language)
    found = model.extract(p.title, p.description[:MAX_DESCRIPTION_CHARS], "" if not model.use_category else " > ".join(p.category),
                          min_confidence)
    taken = _shop_keys(p)
    return {name: {**ex.to_json(), "model": model.name} for name, ex in found.items() if canonical(name) not in taken}


def enrich(products: Sequence[Product], model: Extractor | None = None, min_confidence: float | None = None,
           stats: EnrichStats | None = None) -> list[Product]:
    """Set `attributes_extracted` on each product in place (replacing an earlier extraction); returns the list."""
    started = time.perf_counter()
    for p in products:
        p.attributes_extracted = extracted_for(p, model, min_confidence)
        if stats is not None:
            stats.products += 1
            stats.enriched += bool(p.attributes_extracted)
            stats.values += len(p.attributes_extracted)
    if stats is not None:
        stats.seconds += time.perf_counter() - started
    return list(products)


def enricher(min_confidence: float | None = None) -> Callable[[list[Product]], list[Product]]:
    """A batch hook for the importer: enriches each validated batch of products before it is written."""
    missing: list[str] = []

    def run(batch: list[Product]) -> list[Product]:
        if missing:
            return batch
        try:
            return enrich(batch, min_confidence=min_confidence)
        except FileNotFoundError as exc:  # a build without shipped models imports unenriched rather than failing
            missing.append(str(exc))
            log.warning("import without enrichment: %s", exc)
            return batch
    return run


def facet_attributes(p: Product) -> dict[str, Any]:
    """Attributes for facets and filters: extracted values under their names, the shop's own on top."""
    if not p.attributes_extracted:
        return p.attributes
    return {**{k: v.get("value") for k, v in p.attributes_extracted.items()}, **p.attributes}


def enrich_all(products: Iterable[Product], write: Callable[[list[Product]], int], batch_size: int = 2000,
               min_confidence: float | None = None) -> EnrichStats:
    """Enrich a stream of products batch by batch, handing each batch to `write`."""
    stats = EnrichStats()
    batch: list[Product] = []
    for p in products:
        batch.append(p)
        if len(batch) >= batch_size:
            write(enrich(batch, min_confidence=min_confidence, stats=stats))
            batch = []
    if batch:
        write(enrich(batch, min_confidence=min_confidence, stats=stats))
    log.info("enriched %d products (%d with values, %d values) in %.1fs", stats.products, stats.enriched, stats.values, stats.seconds)
    return stats

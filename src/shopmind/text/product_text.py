"""THE text a product is embedded as: one builder for search, recommendations and ads.

Every part embeds the same string for a product, so the embedding store (keyed by text hash) computes each
product's vector once, and the vectors of every part agree. The format is search's historical passage text,
so embedding caches written before this module existed stay valid.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from shopmind.domain import Product


def passage_text(title: str, brand: str | None = None, category: Sequence[str] = ()) -> str:
    """The passage for a title, brand and category path: title, then brand and leaf category when they add anything."""
    title = html.unescape(title)
    parts = [title]
    if brand and brand.lower() not in title.lower():
        parts.append(brand)
    if category:
        parts.append(category[-1])
    return " | ".join(parts)


def described_values(p: Product) -> str:
    """Values enrichment read from the description (`attributes_extracted`, source "description") that the title does not
    already say, as "name: value; …": what the embedded text gains from enrichment ('' for title-only catalogs, whose
    vectors and caches are therefore unchanged)."""
    if not p.attributes_extracted:
        return ""
    title = p.title.lower()
    return "; ".join(f"{k.replace('_', ' ')}: {v['value']}" for k, v in p.attributes_extracted.items()
                     if v.get("source") == "description" and str(v.get("value", "")).strip() and str(v["value"]).lower() not in title)


def product_text(p: Product) -> str:
    """The passage text of a product for embedding (title | brand | leaf category [| values extracted from its description])."""
    extra = described_values(p)
    base = passage_text(p.title, p.brand, p.category)
    return f"{base} | {extra}" if extra else base


def product_texts(products: Sequence[Product]) -> list[str]:
    """`product_text` of every product, in order."""
    return [product_text(p) for p in products]

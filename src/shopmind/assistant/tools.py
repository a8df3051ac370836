"""What the assistant may call: search, recommend, product lookup — through `ShopQueries` (the facade fits it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from shopmind.assistant.budget import clip
from shopmind.domain import Product
from shopmind.errors import NotBuilt
from shopmind.ports import ShopQueries

MAX_QUERY_CHARS = 200  # what a search box takes (the API's own limit): a chat message is cut to it before searching


VALUE_LIST = 200  # an attribute with more distinct values than this is free-form text, not a list to pick from


class Tools(Protocol):
    """The catalog-facing calls; tests and other front ends may supply their own."""

    def search(self, query: str, filters: dict[str, Any], k: int, exclude_brands: Sequence[str] = ()) -> list[Product]: ...

    def recommend(self, product_id: str, user_id: str | None, k: int) -> tuple[list[Product], str]: ...

    def get(self, ids: Iterable[str]) -> list[Product]: ...

    def understander(self) -> Any | None: ...

    def brands(self) -> list[str]: ...

    def values(self, key: str) -> list[str]: ...


class ShopTools:
    """Tools over the shop's queries: `search`, `recommend` when built (else similar items by search), catalog."""

    def __init__(self, shop: ShopQueries) -> None:
        self.shop = shop

    def _search_service(self) -> Any | None:
        return self.shop.built_part("search")

    def understander(self) -> Any | None:
        """The search service (its `understand(query)` fills price/brand/attribute/category slots)."""
        return self._search_service()

    def brands(self) -> list[str]:
        svc = self._search_service()
        return list(svc.table.brands.values) if svc is not None else []

    def values(self, key: str) -> list[str]:
        """Every value the catalog holds for an attribute, when it holds at most VALUE_LIST of them (a list a shopper
        can pick from, such as genres; empty for free-form keys or before the search part is built)."""
        svc = self._search_service()
        vocab = svc.table.attr_vocab.get(key) if svc is not None else None
        return list(vocab.values) if vocab is not None and len(vocab.values) <= VALUE_LIST else []

    def get(self, ids: Iterable[str]) -> list[Product]:
        ids = list(ids)
        found = self.shop.get_products(ids)
        return [found[i] for i in ids if i in found]

    def search(self, query: str, filters: dict[str, Any], k: int, exclude_brands: Sequence[str] = ()) -> list[Product]:
        """Top products for a query under filters, minus excluded brands."""
        if self._search_service() is None:
            return []
        extra = 4 if exclude_brands else 1
        resp = self.shop.search(clip(query or "", MAX_QUERY_CHARS), filters=filters or None, per_page=k * extra, explain=True)
        # a short list in chat leads with the matches, as the web UI shows them, and related products after them
        hits = sorted(resp.hits, key=lambda h: bool(h.why and h.why.related))
        products = self.get(h.id for h in hits)
        banned = {b.casefold() for b in exclude_brands}
        return [p for p in products if not (p.brand and p.brand.casefold() in banned)][:k]

    def recommend(self, product_id: str, user_id: str | None, k: int) -> tuple[list[Product], str]:
        """The facade's recommend (placement 'product') when it exists and is built; else similar titles."""
        rec = getattr(self.shop, "recommend", None)
        if rec is not None:
            try:
                resp = rec(user_id=user_id, placement="product", item_id=product_id, k=k)
                items = getattr(resp, "items", resp)
                ids = [getattr(i, "id", None) or getattr(i, "item_id", None) or i for i in items]
                products = [p for p in self.get(str(i) for i in ids) if p.id != product_id]
                if products:
                    return products[:k], "recommend"
            except (NotBuilt, KeyError, ValueError, TypeError, AttributeError):
                pass
        base = self.get([product_id])
        if not base:
            return [], "none"
        similar = [p for p in self.search(base[0].title, {}, k + 1) if p.id != product_id]
        return similar[:k], "similar-by-search"

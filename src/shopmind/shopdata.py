"""The facade's record collections: `shop.catalog`, `shop.users`, `shop.events` over the store.

Writes go to the store first; the facade is then told (`ShopHooks`) so online state and loaded indexes
see the change at once, without a rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from shopmind.domain import Event, Product, User
from shopmind.store import SqlStore

__all__ = ["Catalog", "Events", "ShopHooks", "Users"]


class ShopHooks(Protocol):
    """What the collections tell the facade after a write (the engine implements it)."""

    store: SqlStore

    def products_changed(self, items: list[Product]) -> None: ...

    def products_deleted(self, ids: list[str]) -> None: ...

    def events_added(self, items: list[Event]) -> None: ...

    def import_enricher(self) -> Any: ...


class Catalog:
    """Products: upsert, read, delete. Changes reach loaded indexes at once."""

    def __init__(self, shop: ShopHooks) -> None:
        self._shop = shop

    def upsert(self, products: Iterable[Product | dict[str, Any]]) -> int:
        """Store products (validated) and pass them to online state and loaded parts; how many were written."""
        items = [p if isinstance(p, Product) else Product.model_validate(p) for p in products]
        if (enrich := self._shop.import_enricher()) is not None:  # extracted attribute values, as at import (understand.enrich)
            items = enrich(items)
        n = self._shop.store.upsert_products(items)
        self._shop.products_changed(items)
        return n

    def get(self, product_id: str) -> Product | None:
        """One product, or None."""
        return self._shop.store.get_product(product_id)

    def get_many(self, ids: Iterable[str]) -> dict[str, Product]:
        """Products by id (missing ids left out)."""
        return self._shop.store.get_products(ids)

    def delete(self, ids: Iterable[str]) -> int:
        """Remove products from the store and from loaded indexes."""
        ids = list(ids)
        n = self._shop.store.delete_products(ids)
        self._shop.products_deleted(ids)
        return n

    def __iter__(self) -> Iterator[Product]:
        return self._shop.store.iter_products()


class Users:
    """User records (attributes used for cold start and segments)."""

    def __init__(self, shop: ShopHooks) -> None:
        self._shop = shop

    def upsert(self, users: Iterable[User | dict[str, Any]]) -> int:
        """Store user records (validated)."""
        return self._shop.store.upsert_users([u if isinstance(u, User) else User.model_validate(u) for u in users])

    def get(self, user_id: str) -> User | None:
        """One user record, or None."""
        return self._shop.store.get_user(user_id)


class Events:
    """The event stream: every accepted event is stored before it is acknowledged."""

    def __init__(self, shop: ShopHooks) -> None:
        self._shop = shop

    def track(self, event: Event | dict[str, Any]) -> bool:
        """Store one event; False if its id was already stored (a replay)."""
        return self.track_many([event]) == 1

    def track_many(self, events: Sequence[Event | dict[str, Any]]) -> int:
        """Store events in one transaction; return how many were new."""
        items = [e if isinstance(e, Event) else Event.model_validate(e) for e in events]
        new = self._shop.store.add_events(items)
        if new:
            self._shop.events_added(items)
        return new

"""The store: the one source of truth (catalog, users, events), chosen by URL scheme."""

from __future__ import annotations

from shopmind.store.sql import EVENT_SCHEMA, SqlStore, StoreError

# scheme → backend class; every entry passes tests/store (the shared store suite)
BACKENDS: dict[str, type[SqlStore]] = {
    "sqlite": SqlStore,
    "postgresql": SqlStore,
    "postgresql+psycopg": SqlStore,
    "postgres": SqlStore,
}


def open_store(url: str, **options: object) -> SqlStore:
    """Open the store a URL names (`sqlite:///path/shop.db`, `postgresql://user@host/db`)."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    try:
        backend = BACKENDS[scheme]
    except KeyError:
        raise StoreError(f"no store backend for {url!r}; known schemes: {', '.join(sorted(BACKENDS))}") from None
    return backend.open(url, **options)  # type: ignore[arg-type]


Store = SqlStore
__all__ = ["BACKENDS", "EVENT_SCHEMA", "SqlStore", "Store", "StoreError", "open_store"]

"""The small contracts parts receive their collaborators through (the engine wires real objects into them).

A part below the engine never imports the engine: it names what it needs here — a product lookup, the slice
of the store it reads, a view of online state, the search/recommend calls — and the engine, the only wiring
point, passes objects that fit. Tests pass fakes. A low-level module: it imports only domain and typing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shopmind.domain import Product

if TYPE_CHECKING:  # annotations only: sqlalchemy and pyarrow stay unloaded by `import shopmind.ports`
    import pyarrow as pa
    from sqlalchemy import Engine

    from shopmind.sharedstate import SharedState

__all__ = ["CatalogEvents", "DeletionStore", "EventLog", "ModelSource", "OnlineStateView", "ProductLookup", "ProductReader",
           "ShopQueries", "UserHolders"]


class ProductLookup(Protocol):
    """Products by id (missing ids are left out): `SqlStore.get_products`."""

    def get_products(self, ids: Iterable[str]) -> dict[str, Product]: ...


class ProductReader(ProductLookup, Protocol):
    """Products by id and the whole catalog in batches (the store)."""

    def iter_products(self) -> Iterator[Product]: ...


class EventLog(Protocol):
    """The slice of the store that reads the event log (ads accounting, forecasts)."""

    @property
    def engine(self) -> Engine: ...

    def last_event_seq(self) -> int: ...

    def scan_events(self, *, since_seq: int = 0, user_id: str | None = None, batch_size: int = 200_000,
                    by_time: bool = True) -> pa.Table: ...

    def event_type_counts(self) -> dict[str, int]: ...


class CatalogEvents(EventLog, ProductLookup, Protocol):
    """The event log and products by id (forecasts: demand from events, stock from products)."""


class DeletionStore(EventLog, Protocol):
    """What deleting a user needs of the store: its rows, then a WAL truncation."""

    def delete_user(self, user_id: str) -> dict[str, int]: ...

    def purge_freed(self, attempts: int = 20) -> bool: ...


class OnlineStateView(Protocol):
    """Read access to online state: a user's latest items (newest last)."""

    def history(self, user_id: str, n: int = 50) -> list[str]: ...


class ModelSource(Protocol):
    """The currently published artifact of a part, or None when none is built."""

    def __call__(self) -> Any | None: ...


class ShopQueries(Protocol):
    """The facade calls the assistant's tools make: search, recommend, the built search part, products by id."""

    def search(self, query: str, *, filters: dict[str, Any] | None = None, per_page: int = 20, explain: bool = True) -> Any: ...

    def recommend(self, *, user_id: str | None = None, placement: str = "home", item_id: str | None = None, k: int = 20) -> Any: ...

    def built_part(self, name: str) -> Any | None: ...

    def get_products(self, ids: Iterable[str]) -> dict[str, Product]: ...


class UserHolders(Protocol):
    """Everything in one process that may hold a user's data: what deletion and its follower reach."""

    home: Path

    @property
    def store(self) -> DeletionStore: ...

    def loaded_parts(self) -> dict[str, Any]:
        """Parts loaded in memory by name (built services, `ads_service`, `assistant`), only those that exist."""
        ...

    def state_user_ids(self) -> set[str]:
        """Users online state holds (empty while state is not loaded)."""
        ...

    def forget_state_user(self, user_id: str, events: Sequence[list[Any]] | None = None) -> dict[str, int] | None:
        """Drop a user from online state (None while state is not loaded)."""
        ...

    def rebuild_state(self) -> dict[str, Any]: ...

    @property
    def state_loaded(self) -> bool: ...

    @property
    def shared(self) -> SharedState:
        """State shared with other workers (rate limits, frequency caps, sessions), keys owned by user ids."""
        ...

    @property
    def shop_secret(self) -> bytes:
        """The key user hashes in deletion receipts are made with (one per cluster)."""
        ...

"""The SharedState contract: the little state every API worker and host must agree on, fast.

Three users: rate limits (token buckets: `take`), ads frequency caps (per-user counters with a TTL: `counts`,
`add_counts`) and assistant conversations (a KV with a TTL: `get`, `put`, `delete`). Keys that name a user are
written with `owner=user_id`, so a privacy deletion reaches them all with `forget_owner`. Backends are chosen by
URL scheme in `shopmind.sharedstate.BACKENDS`: `memory://` (this process) and `redis://` / `rediss://` (shared).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

__all__ = ["Bucket", "SharedState", "SharedStateUnavailable"]


class Bucket(NamedTuple):
    """A token bucket: refills `rate` tokens a second up to `burst`; a bucket never seen (or expired) is full."""

    key: str
    rate: float
    burst: float


class SharedStateUnavailable(RuntimeError):
    """The shared state backend did not answer (connection refused, timeout); the message names the URL."""


@runtime_checkable
class SharedState(Protocol):
    """What workers share. `shared` is True when other processes and hosts see the same state (redis), False when
    it lives in this process (memory): then a deletion elsewhere must reach it through `held_owners`."""

    url: str
    shared: bool

    def take(self, buckets: Sequence[Bucket]) -> list[float]:
        """Spend one token from every bucket atomically, or none: per bucket, the seconds until it has a token (all
        0.0 when they were spent; any above 0: none was spent)."""
        ...

    def counts(self, key: str) -> dict[str, int]:
        """The counters under `key` (empty when none or expired)."""
        ...

    def add_counts(self, key: str, fields: Sequence[str], ttl_s: float, owner: str | None = None) -> None:
        """Add 1 to each field's counter under `key` (a field listed twice adds 2); the key lives `ttl_s` from now.
        A remote backend may send this in the background (in order); `flush` waits for it."""
        ...

    def get(self, key: str) -> bytes | None:
        """The value under `key`, or None when absent or expired."""
        ...

    def put(self, key: str, value: bytes, ttl_s: float, owner: str | None = None) -> None:
        """Store `value` under `key` for `ttl_s` seconds (replacing any value)."""
        ...

    def delete(self, key: str) -> bool:
        """Remove `key`; whether it existed."""
        ...

    def forget_owner(self, owner: str, prefix: str = "") -> int:
        """Remove every key written with this owner (and starting with `prefix`); how many went."""
        ...

    def held_owners(self) -> set[str]:
        """Owners whose keys live in this process's memory (empty for a shared backend)."""
        ...

    def flush(self, timeout_s: float = 5.0) -> None:
        """Wait until writes sent in the background are applied."""
        ...

    def close(self) -> None:
        """Flush and release connections."""
        ...

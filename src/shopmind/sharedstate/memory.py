"""`memory://`: shared state inside this process (one worker: today's single-process behaviour), bounded by cachetools.

Each map (buckets, counters, values) is a TLRU cache: an entry goes when its own TTL passes or, past `max_keys`,
least recently used first, so memory stays flat under any number of callers. `memory://?max_keys=N` sets the cap.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cachetools import TLRUCache

from shopmind.sharedstate.base import Bucket

__all__ = ["MemoryShared"]



def _expiry(_key: Any, value: tuple[Any, ...], _now: float) -> float:
    return float(value[-1])  # every entry is a tuple whose last item is when it expires (clock time)


class MemoryShared:
    """Buckets, counters and values in this process (thread-safe); `clock` is injectable for tests."""

    shared = False

    def __init__(self, url: str = "memory://", *, max_keys: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        query = parse_qs(urlsplit(url).query)
        if max_keys is None:
            raw = query.get("max_keys", ["1000000"])[0]
            if not raw.isdigit() or int(raw) < 1:
                raise ValueError(f"shared_url: max_keys must be a positive integer, got {raw!r}")
            max_keys = int(raw)
        self.url, self.max_keys, self.clock = url, max_keys, clock
        self._buckets: TLRUCache[str, tuple[float, float, float]] = TLRUCache(maxsize=max_keys, ttu=_expiry, timer=clock)
        self._counts: TLRUCache[str, tuple[Counter[str], float]] = TLRUCache(maxsize=max_keys, ttu=_expiry, timer=clock)
        self._values: TLRUCache[str, tuple[bytes, float]] = TLRUCache(maxsize=max_keys, ttu=_expiry, timer=clock)
        self._owners: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    # -- token buckets ------------------------------------------------------------------------------------
    def take(self, buckets: Sequence[Bucket]) -> list[float]:
        """Spend one token from every bucket, or none (see `SharedState.take`)."""
        with self._lock:
            now = self.clock()
            tokens = []
            for b in buckets:
                held = self._buckets.get(b.key)
                tokens.append(float(b.burst) if held is None else min(float(b.burst), held[0] + (now - held[1]) * b.rate))
            waits = [max(0.0, (1.0 - t) / b.rate) for t, b in zip(tokens, buckets, strict=True)]
            if any(w > 0 for w in waits):
                return waits
            for t, b in zip(tokens, buckets, strict=True):
                # idle longer than a refill takes, a bucket is full again: forgetting it then changes nothing
                self._buckets[b.key] = (t - 1.0, now, now + b.burst / b.rate)
            return waits

    # -- counters -------------------------------------------------------------------------------------------
    def counts(self, key: str) -> dict[str, int]:
        with self._lock:
            held = self._counts.get(key)
            return dict(held[0]) if held is not None else {}

    def add_counts(self, key: str, fields: Sequence[str], ttl_s: float, owner: str | None = None) -> None:
        if not fields:
            return
        with self._lock:
            held = self._counts.get(key)
            counter = held[0] if held is not None else Counter()
            counter.update(fields)
            self._counts[key] = (counter, self.clock() + ttl_s)
            self._own(owner, key)

    # -- values ---------------------------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        with self._lock:
            held = self._values.get(key)
            return held[0] if held is not None else None

    def put(self, key: str, value: bytes, ttl_s: float, owner: str | None = None) -> None:
        with self._lock:
            self._values[key] = (bytes(value), self.clock() + ttl_s)
            self._own(owner, key)

    def delete(self, key: str) -> bool:
        with self._lock:
            found = [m.pop(key, None) is not None for m in (self._values, self._counts, self._buckets)]
            return any(found)

    # -- owners (privacy deletion) ----------------------------------------------------------------------------
    def _own(self, owner: str | None, key: str) -> None:
        """Index `key` under its owner (the caller holds the lock). Live keys are at most 2 × max_keys, so are their
        owners: past that (plus slack, so a sweep is amortised over many writes) owners whose keys all went are dropped."""
        if owner:
            self._owners.setdefault(owner, set()).add(key)
            if len(self._owners) > 2 * self.max_keys + 1024:
                self._prune_owners()

    def _prune_owners(self) -> None:
        for owner in list(self._owners):
            keys = {k for k in self._owners[owner] if k in self._values or k in self._counts}
            if keys:
                self._owners[owner] = keys
            else:
                del self._owners[owner]

    def forget_owner(self, owner: str, prefix: str = "") -> int:
        with self._lock:
            keys = self._owners.get(owner, set())
            gone = {k for k in keys if k.startswith(prefix)}
            n = 0
            for k in gone:
                n += (self._values.pop(k, None) is not None) + (self._counts.pop(k, None) is not None)
            keys -= gone
            if not keys:
                self._owners.pop(owner, None)
            return n

    def held_owners(self) -> set[str]:
        with self._lock:
            self._prune_owners()
            return set(self._owners)

    def flush(self, timeout_s: float = 5.0) -> None:
        """Nothing is ever pending in memory."""

    def close(self) -> None:
        """Nothing to release."""

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets) + len(self._counts) + len(self._values)

"""Shared state for many workers and hosts: rate-limit buckets, frequency caps, conversations (see `base`).

`open_shared(url)` picks the backend by URL scheme from `BACKENDS`: `memory://` (this process; the default) or
`redis://` / `rediss://` (one Redis every worker shares; redis-py is imported only then).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from shopmind.sharedstate.base import Bucket, SharedState, SharedStateUnavailable

__all__ = ["BACKENDS", "Bucket", "SharedState", "SharedStateUnavailable", "open_shared"]


def _memory(url: str) -> SharedState:
    from shopmind.sharedstate.memory import MemoryShared

    return MemoryShared(url)


def _redis(url: str) -> SharedState:
    from shopmind.sharedstate.redis_shared import RedisShared

    return RedisShared(url)


BACKENDS: dict[str, Callable[[str], SharedState]] = {"memory": _memory, "redis": _redis, "rediss": _redis}


def open_shared(url: str) -> SharedState:
    """The shared state named by `url` (`cluster.shared_url`); ValueError naming the setting for an unknown scheme."""
    scheme = urlsplit(url).scheme
    if scheme not in BACKENDS:
        raise ValueError(f"cluster.shared_url: unknown scheme {scheme!r} in {url!r}; use one of "
                         f"{', '.join(s + '://' for s in BACKENDS)}")
    return BACKENDS[scheme](url)

"""Rate limits: token buckets per route group, by API key and by client IP (429 + Retry-After), in shared state.

Each group (events, search, suggest, recommend, chat, ads) has two buckets per caller: one keyed by the key's
id (a storefront key is shared by every visitor, so its bucket bounds the whole shop's traffic through it)
and one keyed by the client IP (one visitor, or one NAT). A request spends one token from both, atomically; the
bucket that is empty answers 429 with `Retry-After`. Keys whose role is in `exempt_roles` (admin by default) are
never limited. Buckets live in the shop's SharedState: with `cluster.shared_url = "redis://…"` every worker and
host spends from the same buckets, so a caller gets ONE rate however many workers serve it; with the default
`memory://` they live in a bounded cache of this process (`max_buckets`). If Redis does not answer, requests are
let through (logged): a rate limit must not take the shop down with it.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sized
from functools import lru_cache
from typing import Any

from fastapi import Depends, HTTPException, Request, status

from shopmind.config import RateLimitSettings
from shopmind.security.roles import ANONYMOUS
from shopmind.sharedstate import Bucket, SharedState, SharedStateUnavailable
from shopmind.sharedstate.memory import MemoryShared

log = logging.getLogger(__name__)

GROUPS = ("events", "search", "suggest", "recommend", "chat", "ads")


class Limited(Exception):
    """A bucket is empty: `retry_after` seconds until one token is back; `scope` is 'key' or 'ip'."""

    def __init__(self, group: str, scope: str, retry_after: int) -> None:
        super().__init__(f"{group}: too many requests by {scope}")
        self.group, self.scope, self.retry_after = group, scope, retry_after


class RateLimiter:
    """Token buckets keyed by (group, 'key'|'ip', id) in shared state (thread- and process-safe).

    `shared`: the shop's SharedState when other processes share it; None (or a process-local one) gives the limiter
    its own bounded in-memory buckets (`max_buckets`, on `clock`)."""

    def __init__(self, settings: RateLimitSettings, clock: Callable[[], float] = time.monotonic, shared: SharedState | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.shared: SharedState = shared if shared is not None and shared.shared else MemoryShared(max_keys=settings.max_buckets, clock=clock)
        self._warned = 0.0

    def check(self, group: str, key_id: str | None, ip: str | None) -> None:
        """Spend a token of the key's and the IP's bucket for `group`, or raise Limited (then neither is spent)."""
        scopes = [(scope, ident, rate) for scope, ident, rate in
                  (("key", key_id, getattr(self.settings.per_key, group)), ("ip", ip, getattr(self.settings.per_ip, group)))
                  if ident and rate is not None]
        if not scopes:
            return
        buckets = [Bucket(f"rl:{group}:{scope}:{ident}", rate.rate, rate.burst) for scope, ident, rate in scopes]
        try:
            waits = self.shared.take(buckets)
        except SharedStateUnavailable:
            if time.monotonic() - self._warned > 10:  # once per 10 s, not once per request
                self._warned = time.monotonic()
                log.warning("rate limits off: shared state unavailable", exc_info=True)
            return
        wait, scope = max(zip(waits, (scope for scope, _, _ in scopes), strict=True))
        if wait > 0:
            raise Limited(group, scope, max(1, math.ceil(wait)))

    def __len__(self) -> int:
        return len(self.shared) if isinstance(self.shared, Sized) else 0


@lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Parsed once per distinct list (the settings validated each entry when they loaded)."""
    return [ipaddress.ip_network(e, strict=False) for e in entries]


def _in(host: str, nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(addr in n for n in nets)


def client_ip(request: Request, trusted_proxies: Iterable[str] = ()) -> str | None:
    """The caller's address: the peer's, or — only when the peer is a trusted proxy — the right-most
    X-Forwarded-For entry that is not itself a trusted proxy (left-most entries are the client's claims)."""
    peer = request.client.host if request.client else None
    nets = _networks(tuple(trusted_proxies))
    if peer is None or not nets or not _in(peer, nets):
        return peer
    hops = [h.strip() for v in request.headers.getlist("x-forwarded-for") for h in v.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, nets):
            return hop[:64]
    return peer


_make_lock = threading.Lock()


def limiter_of(request: Request) -> RateLimiter | None:
    """The app's limiter, made on first use from `api.rate_limits` (None when limits are off)."""
    state = request.app.state
    limiter = getattr(state, "rate_limiter", None)
    if limiter is None:
        settings = request.app.state.shop.settings.api.rate_limits
        if not settings.enabled:
            return None
        with _make_lock:
            limiter = getattr(state, "rate_limiter", None)
            if limiter is None:
                limiter = state.rate_limiter = RateLimiter(settings, shared=request.app.state.shop.shared)
    return limiter


def rate_limit(group: str) -> Any:
    """A route dependency charging one request to `group`; list it after the auth dependency, which sets
    `request.state.principal`, so the key and its role are known."""
    if group not in GROUPS:
        raise ValueError(f"group: one of {', '.join(GROUPS)}, got {group!r}")

    async def check(request: Request) -> None:
        limiter = limiter_of(request)
        if limiter is None:
            return
        principal = getattr(request.state, "principal", None)
        role = getattr(principal, "role", None)
        if role is not None and str(role) in limiter.settings.exempt_roles:
            return
        key_id = getattr(principal, "key_id", None)
        if key_id == ANONYMOUS.key_id:
            key_id = None  # no key: the IP bucket alone applies
        ip = client_ip(request, request.app.state.shop.settings.api.trusted_proxies)
        try:
            limiter.check(group, key_id, ip)
        except Limited as exc:
            log.debug("rate limited: group=%s scope=%s retry_after=%s", exc.group, exc.scope, exc.retry_after)
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"too many {group} requests for this {'API key' if exc.scope == 'key' else 'client address'}; retry in {exc.retry_after} s",
                headers={"Retry-After": str(exc.retry_after)},
            ) from None

    return Depends(check)

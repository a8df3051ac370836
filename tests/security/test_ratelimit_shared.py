"""Rate limits in shared state: two limiters over one Redis (two workers) enforce one rate; Redis down lets requests
through instead of failing them."""

from __future__ import annotations

from shopmind.config import IpRates, KeyRates, Rate, RateLimitSettings
from shopmind.security.ratelimit import GROUPS, Limited, RateLimiter
from shopmind.sharedstate import open_shared

NONE = dict.fromkeys(GROUPS)
SETTINGS = RateLimitSettings(per_ip=IpRates(**{**NONE, "search": Rate(rate=0.001, burst=4)}),
                             per_key=KeyRates(**{**NONE, "search": Rate(rate=0.001, burst=10)}))


def test_two_workers_spend_from_one_bucket(redis_url):
    a, b = open_shared(redis_url), open_shared(redis_url)  # two processes' connections
    try:
        workers = [RateLimiter(SETTINGS, shared=a), RateLimiter(SETTINGS, shared=b)]
        allowed, scopes = 0, []
        for i in range(10):
            try:
                workers[i % 2].check("search", "key-1", "192.0.2.1")
                allowed += 1
            except Limited as exc:
                scopes.append(exc.scope)
        assert allowed == 4 and set(scopes) == {"ip"}  # the address's burst, once across both
        workers[0].check("search", "key-1", "192.0.2.2")  # another address still passes: the key had 10
    finally:
        a.close()
        b.close()


def test_a_process_local_state_keeps_the_limiters_own_buckets():
    shared = open_shared("memory://")
    limiter = RateLimiter(SETTINGS, shared=shared)
    assert limiter.shared is not shared and not limiter.shared.shared  # bounded by max_buckets, on the limiter's clock


def test_redis_down_lets_requests_through(caplog):
    down = open_shared("redis://127.0.0.1:1/0")
    try:
        limiter = RateLimiter(SETTINGS, shared=down)
        for _ in range(10):
            limiter.check("search", "key-1", "192.0.2.1")
        assert "rate limits off: shared state unavailable" in caplog.text
    finally:
        down.close()

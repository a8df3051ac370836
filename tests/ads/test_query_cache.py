"""The ads query-vector cache under concurrent requests: reads and evictions from many threads never fail."""

from __future__ import annotations

import threading
import time

import numpy as np

from tests.ads.conftest import hash_encode


def _slow_reads(cache):
    """The same cache, but every read yields the CPU right after it: the moment another thread may evict the key."""

    class SlowGet(type(cache)):
        def get(self, key, default=None):
            value = super().get(key, default)
            time.sleep(0.0002)
            return value

    return SlowGet(maxsize=cache.maxsize) if hasattr(cache, "maxsize") else SlowGet()


def test_query_cache_survives_concurrent_reads_and_evictions(shop):
    """A tiny LRU cache hit and evicted from 8 threads at once: the old OrderedDict read (get, then move_to_end
    outside the lock) raised KeyError on the request path when another thread evicted the key in between."""
    svc = shop.new_ads_service(encode=hash_encode, config={"query_cache_size": 4, "query_encoding": "inline"})
    svc._qcache = _slow_reads(svc._qcache)
    queries = [f"toy story {i}" for i in range(6)]
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def hammer(offset: int) -> None:
        start.wait()
        try:
            for n in range(150):
                v = svc._query_vector(queries[(n + offset) % len(queries)])
                assert v is not None and v.shape == (64,)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, repr(errors[0])
    assert len(svc._qcache) <= 4  # bounded: least recently used evicted
    key = queries[0].lower()
    assert np.allclose(svc._query_vector(queries[0]), hash_encode([key])[0], atol=1e-6)  # cached vectors are the encoder's

"""Every SharedState operation against both backends (memory:// and a real redis-server), concurrency included."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time

import pytest

from shopmind.sharedstate import Bucket, SharedStateUnavailable, open_shared
from shopmind.sharedstate.memory import MemoryShared


@pytest.fixture(params=["memory", "redis"])
def shared(request):
    url = "memory://" if request.param == "memory" else request.getfixturevalue("redis_url")
    s = open_shared(url)
    yield s
    s.close()


def test_unknown_scheme_names_the_setting():
    with pytest.raises(ValueError, match=r"cluster\.shared_url: unknown scheme 'memcached'"):
        open_shared("memcached://localhost")
    with pytest.raises(ValueError, match="max_keys"):
        open_shared("memory://?max_keys=zero")


def test_bucket_spends_all_or_none_then_refills(shared):
    a, b = Bucket("rl:a", 10.0, 3), Bucket("rl:b", 10.0, 1)
    assert shared.take([a, b]) == [0.0, 0.0]
    wait_a, wait_b = shared.take([a, b])  # b is empty: a must not be spent either
    assert wait_a == 0.0 and 0 < wait_b <= 0.1
    assert shared.take([a]) == [0.0] and shared.take([a]) == [0.0]  # a still had 2 of its 3
    assert shared.take([a])[0] > 0
    time.sleep(0.12)  # one token back at 10/s
    assert shared.take([a, b]) == [0.0, 0.0]


def test_counters_add_read_expire(shared):
    shared.add_counts("freq:d1:u1", ["c1", "c2", "c1"], ttl_s=0.3, owner="u1")
    shared.add_counts("freq:d1:u1", ["c2"], ttl_s=0.3, owner="u1")
    shared.flush()
    assert shared.counts("freq:d1:u1") == {"c1": 2, "c2": 2}
    assert shared.counts("freq:d1:nobody") == {}
    time.sleep(0.35)
    assert shared.counts("freq:d1:u1") == {}


def test_values_put_get_delete_expire(shared):
    shared.put("chat:s1", b"\x00state", ttl_s=0.3, owner="u1")
    assert shared.get("chat:s1") == b"\x00state"
    shared.put("chat:s1", b"newer", ttl_s=0.3)
    assert shared.get("chat:s1") == b"newer"
    assert shared.delete("chat:s1") is True and shared.get("chat:s1") is None and shared.delete("chat:s1") is False
    shared.put("chat:s2", b"x", ttl_s=0.2)
    time.sleep(0.25)
    assert shared.get("chat:s2") is None


def test_forget_owner_reaches_values_and_counters(shared):
    shared.put("chat:a", b"1", 60, owner="victim")
    shared.put("chat:b", b"2", 60, owner="victim")
    shared.put("chat:c", b"3", 60, owner="other")
    shared.add_counts("freq:d:victim", ["c1"], 60, owner="victim")
    shared.flush()
    assert shared.forget_owner("victim", prefix="chat:") == 2  # only the conversations
    assert shared.get("chat:a") is None and shared.counts("freq:d:victim") == {"c1": 1}
    assert shared.forget_owner("victim") == 1
    assert shared.counts("freq:d:victim") == {} and shared.get("chat:c") == b"3"
    assert shared.forget_owner("victim") == 0
    assert ("other" in shared.held_owners()) is (not shared.shared)  # a memory backend says whom it holds


def test_threads_never_overspend_a_bucket(shared):
    bucket = Bucket("rl:threads", 0.001, 50)  # 50 now, then practically nothing
    allowed = []

    def hammer() -> None:
        allowed.extend(1 for _ in range(20) if shared.take([bucket]) == [0.0])

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 50


def test_threads_count_every_increment(shared):
    def add() -> None:
        for _ in range(50):
            shared.add_counts("freq:d:u", ["c"], 60, owner="u")

    threads = [threading.Thread(target=add) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shared.flush()
    assert shared.counts("freq:d:u") == {"c": 200}


def _take_many(url: str, n: int, out: mp.Queue) -> None:
    s = open_shared(url)
    got = sum(1 for _ in range(n) if s.take([Bucket("rl:procs", 0.001, 30)]) == [0.0])
    s.add_counts("freq:procs", ["c"] * n, 60)
    s.close()  # sends what is queued
    out.put(got)


@pytest.mark.integration
def test_two_processes_share_one_bucket_and_counters(redis_url):
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_take_many, args=(redis_url, 25, out)) for _ in range(2)]
    for p in procs:
        p.start()
    got = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert sum(got) == 30 and min(got) >= 5  # one budget of 30 across both, each got some
    s = open_shared(redis_url)
    try:
        assert s.counts("freq:procs") == {"c": 50}
    finally:
        s.close()


def test_memory_is_bounded_and_follows_its_clock():
    now = [0.0]
    s = MemoryShared("memory://?max_keys=100", clock=lambda: now[0])
    for i in range(1000):
        s.take([Bucket(f"rl:{i}", 1.0, 1)])
        s.put(f"v:{i}", b"x", 10, owner=f"u{i}")
    assert len(s) <= 200 and len(s.held_owners()) <= 100  # owners are swept with their keys
    s.put("v:last", b"x", 10)
    now[0] += 11
    assert s.get("v:last") is None


def test_redis_down_is_a_clear_error():
    s = open_shared("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        with pytest.raises(SharedStateUnavailable, match=r"take failed at redis://127\.0\.0\.1:1/0"):
            s.take([Bucket("rl:x", 1.0, 1)])
    finally:
        s.close()

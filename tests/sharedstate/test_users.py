"""The users of shared state on a shop whose `cluster.shared_url` is Redis: chat sessions live there, frequency caps
are counted there, and deleting a user reaches both (whether this process loaded the assistant or not)."""

from __future__ import annotations

import time

import pytest

from shopmind.assistant.state import SessionState, SharedSessionStore
from shopmind.engine import ShopMind
from tests.ads.conftest import _campaign, hash_encode


@pytest.fixture
def shop(tmp_path, demo_data, redis_url):
    s = ShopMind.open(tmp_path / "shop", cluster={"shared_url": redis_url}, assistant={"llm": "none"})
    s.import_file("products", demo_data / "products.jsonl")
    yield s
    s.close()


def test_engine_opens_shared_state_once_and_closes_it(tmp_path, redis_url):
    s = ShopMind.open(tmp_path / "s", cluster={"shared_url": redis_url})
    first = s.shared
    assert first is s.shared and first.shared
    s.close()
    with ShopMind.open(tmp_path / "m") as default:
        assert default.shared.url == "memory://" and not default.shared.shared


def test_chat_sessions_live_in_shared_state(shop):
    assert isinstance(shop.assistant.store, SharedSessionStore)
    shop.chat("s1", "hello", user_id="u1")
    assert shop.chat("s1", "thanks", user_id="u1").session.turns == 2
    other = SharedSessionStore(shop.shared)  # what another worker reads
    state = other.get("s1")
    assert state is not None and state.user_id == "u1" and len(state.history) == 4


def test_session_ttl_and_incompatible_state(redis_url):
    from shopmind.sharedstate import open_shared

    shared = open_shared(redis_url)
    try:
        store = SharedSessionStore(shared, ttl_s=0.2)
        store.put(SessionState(session_id="s", user_id="u"))
        assert store.get("s") is not None
        time.sleep(0.25)
        assert store.get("s") is None
        shared.put("chat:bad", b"{not json", 60)
        assert store.get("bad") is None
    finally:
        shared.close()


def test_frequency_cap_holds_across_workers_and_deletion_reaches_it(shop):
    config = {"min_relevance": -1.0, "pacing": {"enabled": False}}
    w1 = shop.new_ads_service(encode=hash_encode, config=config)
    w2 = shop.new_ads_service(encode=hash_encode, config=config)  # a second worker: its own service, same Redis
    w1.create_campaign(_campaign(products=["m1"], frequency_cap=2), "capped")
    now = time.time()
    served = []
    for svc in (w1, w2, w1, w2):
        served.append(len(svc.select("home", user_id="u7", k=1, now=now).ads))
        shop.shared.flush()
    assert served == [1, 1, 0, 0]  # two serves a day, counted across both workers
    shop.chat("s7", "hello", user_id="u7")
    removed = shop.delete_user("u7")
    assert removed["shared_state"] == 2  # the user's conversation and today's frequency counts
    assert w2.select("home", user_id="u7", k=1, now=now).ads  # counts gone: served again
    assert SharedSessionStore(shop.shared).get("s7") is None

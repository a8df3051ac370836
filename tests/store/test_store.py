"""The store suite: every backend (SQLite, PostgreSQL) must pass it with identical answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shopmind.domain import Event, Product, User
from shopmind.store import StoreError, open_store, schema


@pytest.fixture
def store(store_url):
    s = open_store(store_url)
    yield s
    s.close()


def _events(n: int, user: str = "u1") -> list[Event]:
    return [Event(id=f"e{i}", type="view", user_id=user, item_id=f"p{i % 7}", timestamp=1_700_000_000 + i) for i in range(n)]


def test_migrations_reach_latest_and_are_idempotent(store, store_url):
    assert store.schema_version() == schema.LATEST
    again = open_store(store_url)
    assert again.migrate() == schema.LATEST
    assert again.schema_version() == schema.LATEST
    again.close()


def test_products_upsert_replace_and_delete(store):
    store.upsert_products([Product(id="p1", title="Red shoe", price=10, category="Shoes > Running", stock=3)])
    store.upsert_products([Product(id="p1", title="Red shoe v2", price=12, stock=0), Product(id="p2", title="Cap")])
    p1 = store.get_product("p1")
    assert p1.title == "Red shoe v2" and p1.price == 12 and p1.in_stock is False
    assert store.counts()["products"] == 2
    assert [p.id for p in store.iter_products(batch_size=1)] == ["p1", "p2"]
    assert store.delete_products(["p1", "nope"]) == 1
    assert store.get_product("p1") is None


def test_events_dedupe_by_id(store):
    assert store.add_events(_events(100)) == 100
    assert store.add_events(_events(100)) == 0
    assert store.add_events(_events(120)) == 20
    assert store.counts()["events"] == 120


def test_scan_events_is_the_trainer_contract(store):
    store.add_events(list(reversed(_events(50))))
    store.add_events([Event(type="search", user_id="u2", query="red shoe", timestamp=1_600_000_000, context={"device": "mobile", "position": 3})])
    table = store.scan_events()
    assert table.num_rows == 51
    ts = table.column("ts").to_pylist()
    assert ts == sorted(ts)
    first = table.slice(0, 1).to_pylist()[0]
    assert first["type"] == "search" and first["query"] == "red shoe" and first["item_id"] is None
    assert '"device":"mobile"' in first["context"]
    assert store.scan_events(user_id="u2").num_rows == 1


def test_delete_user_removes_record_and_events(store):
    store.upsert_users([User(id="u1", attributes={"city": "Berlin"}), User(id="u2")])
    store.add_events([*_events(10, "u1"), Event(id="x", type="view", user_id="u2", item_id="p1")])
    assert store.delete_user("u1") == {"users": 1, "events": 10, "reviews": 0}
    assert store.get_user("u1") is None
    assert store.counts() == {"products": 0, "users": 1, "events": 1}


def test_users_roundtrip(store):
    when = datetime(2024, 5, 1, tzinfo=UTC)
    store.upsert_users([User(id="u1", attributes={"device": "ios", "age": 31}, created_at=when)])
    user = store.get_user("u1")
    assert user.attributes == {"device": "ios", "age": 31}
    assert user.created_at == when


def test_transaction_rolls_back_everything(store):
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.add_events(_events(5), conn=conn)
        store.upsert_products([Product(id="p1", title="x")], conn=conn)
        raise RuntimeError("boom")
    assert store.counts() == {"products": 0, "users": 0, "events": 0}


def test_newer_schema_is_refused(store, store_url):
    with store.transaction() as conn:
        conn.execute(schema.schema_version.insert().values(version=schema.LATEST + 1, applied_at=0))
    with pytest.raises(StoreError, match="newer"):
        open_store(store_url)


def test_unknown_scheme_is_a_clear_error():
    with pytest.raises(StoreError, match="no store backend"):
        open_store("mongodb://localhost/x")


def test_tailing_by_seq_never_skips_a_slow_commit(store):
    """A writer that commits late must not be overtaken: seq order is commit order for every backend."""
    import threading

    store.add_events(_events(1, "u0"))
    last = store.last_event_seq()
    slow_inserted, fast_done = threading.Event(), threading.Event()

    def slow() -> None:
        with store.transaction() as conn:
            store.add_events([Event(id="slow", type="view", user_id="u1", item_id="p1", timestamp=1_700_000_100)], conn=conn)
            slow_inserted.set()
            fast_done.wait(0.5)  # a concurrent writer gets its chance before this one commits

    def fast() -> None:
        slow_inserted.wait(5)
        store.add_events([Event(id="fast", type="view", user_id="u2", item_id="p2", timestamp=1_700_000_101)])
        fast_done.set()

    threads = [threading.Thread(target=slow), threading.Thread(target=fast)]
    for t in threads:
        t.start()
    seen: list[str] = []
    while any(t.is_alive() for t in threads):  # a tailer polling as the online state does
        rows = store.events_since(last)
        if rows:
            seen += [r[2] for r in rows]
            last = rows[-1][0]
    for t in threads:
        t.join()
    seen += [r[2] for r in store.events_since(last)]
    assert sorted(seen) == ["u1", "u2"]


def test_hosts_opening_a_new_postgres_store_at_once_migrate_it_once(postgres_url: str) -> None:
    """Replicas starting together all open the empty database: one migrates, the others wait and find it done."""
    from concurrent.futures import ThreadPoolExecutor

    def open_one(_: int) -> int:
        store = open_store(postgres_url)
        try:
            return store.schema_version()
        finally:
            store.close()

    with ThreadPoolExecutor(6) as pool:
        versions = list(pool.map(open_one, range(6)))
    assert versions == [schema.LATEST] * 6
    store = open_store(postgres_url)
    with store.engine.connect() as conn:
        steps = conn.execute(schema.schema_version.select()).all()
    store.close()
    assert sorted(r.version for r in steps) == list(range(1, schema.LATEST + 1))  # each step recorded once

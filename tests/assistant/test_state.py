"""Conversation stores: the database one behaves the same on SQLite and PostgreSQL, and like the in-process one."""

from __future__ import annotations

import time

import pytest

from shopmind.assistant.state import MemorySessionStore, SessionState, SqlSessionStore
from shopmind.store.sql import SqlStore


@pytest.fixture(params=["sqlite", "postgres", "memory"])
def make_sessions(request, tmp_path):
    """A store of each kind with a given time-to-live."""
    if request.param == "memory":
        yield lambda ttl_s: MemorySessionStore(ttl_s=ttl_s)
        return
    url = f"sqlite:///{tmp_path / 'shop.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    db = SqlStore.open(url)
    yield lambda ttl_s: SqlSessionStore(db.engine, ttl_s=ttl_s)
    db.close()


def test_put_get_replace_delete_and_forget(make_sessions):
    sessions = make_sessions(3600.0)
    assert sessions.get("a") is None
    s = SessionState(session_id="a", user_id="u1", focus=["p1", "p2"], filters={"price_max": 300.0}, language="zh")
    s.add("user", "红色跑鞋 300元以内", "find")
    sessions.put(s)
    got = sessions.get("a")
    assert got.focus == ["p1", "p2"] and got.filters == {"price_max": 300.0} and got.history[0].text == "红色跑鞋 300元以内"
    got.add("user", "cheaper", "refine")
    sessions.put(got)
    assert [t.text for t in sessions.get("a").history] == ["红色跑鞋 300元以内", "cheaper"]
    sessions.put(SessionState(session_id="b", user_id="u1"))
    sessions.put(SessionState(session_id="c", user_id="u2"))
    sessions.delete("c")
    assert sessions.get("c") is None
    assert sessions.forget_user("u1") == 2 and sessions.get("a") is None and sessions.get("b") is None


def test_expired_sessions_are_gone(make_sessions):
    sessions = make_sessions(0.3)
    sessions.put(SessionState(session_id="old"))
    time.sleep(0.4)  # at least this long, so past the time-to-live however slow the machine
    assert sessions.get("old") is None


def test_a_stored_state_that_no_longer_parses_starts_a_fresh_conversation(tmp_path):
    from sqlalchemy import update

    from shopmind.store.schema import chat_sessions

    db = SqlStore.open(f"sqlite:///{tmp_path / 'shop.db'}")
    sessions = SqlSessionStore(db.engine)
    sessions.put(SessionState(session_id="old", focus=["p1"]))
    with db.engine.begin() as conn:
        conn.execute(update(chat_sessions).values(state='{"session_id": "old", "focus": "not a list"}'))
    assert sessions.get("old") is None
    sessions.put(SessionState(session_id="old", focus=["p2"]))
    assert sessions.get("old").focus == ["p2"]
    db.close()

"""The one INSERT … ON CONFLICT helper: insert-or-skip and insert-or-replace, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, select

from shopmind.store import SqlStore
from shopmind.store.sql import StoreError
from shopmind.store.upsert import dialect_name, insert_ignore, upsert

META = MetaData()
SALES = Table("t_sales", META, Column("store", String(20), primary_key=True), Column("item", String(20), primary_key=True),
              Column("units", Float), Column("note", String(20)))


@pytest.fixture
def engine(store_url):
    store = SqlStore.open(store_url)  # the URL normalisation (psycopg driver) of the real store
    META.create_all(store.engine)
    yield store.engine
    store.close()


def _rows(engine):
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(SALES)))


def test_insert_ignore_keeps_the_first_row_and_says_which_were_new(engine):
    with engine.begin() as conn:
        new = insert_ignore(conn, SALES, [{"store": "s1", "item": "a", "units": 1.0, "note": "first"},
                                          {"store": "s1", "item": "b", "units": 2.0, "note": "first"}], ["store", "item"], returning="item")
    assert new == {"a", "b"}
    with engine.begin() as conn:  # a replay: one old key, one new, across chunks of one row
        new = insert_ignore(conn, SALES, [{"store": "s1", "item": "a", "units": 9.0, "note": "again"},
                                          {"store": "s2", "item": "a", "units": 3.0, "note": "first"}], ["store", "item"],
                            returning="store", chunk=1)
    assert new == {"s2"}
    assert _rows(engine) == [("s1", "a", 1.0, "first"), ("s1", "b", 2.0, "first"), ("s2", "a", 3.0, "first")]


def test_upsert_replaces_only_the_named_columns(engine):
    with engine.begin() as conn:
        assert upsert(conn, SALES, [{"store": "s1", "item": "a", "units": 1.0, "note": "kept"}], ["store", "item"]) == 1
    with engine.begin() as conn:
        upsert(conn, SALES, [{"store": "s1", "item": "a", "units": 5.0, "note": "not written"}], ["store", "item"], update=["units"])
    assert _rows(engine) == [("s1", "a", 5.0, "kept")]
    with engine.begin() as conn:  # default: every non-key column
        upsert(conn, SALES, [{"store": "s1", "item": "a", "units": 6.0, "note": "new"}, {"store": "s1", "item": "b", "units": 1.0, "note": "b"}],
               ["store", "item"])
        assert upsert(conn, SALES, [], ["store", "item"]) == 0
    assert _rows(engine) == [("s1", "a", 6.0, "new"), ("s1", "b", 1.0, "b")]


def test_unknown_dialects_are_refused():
    assert dialect_name("sqlite") == "sqlite" and dialect_name(create_engine("sqlite://")) == "sqlite"
    with pytest.raises(StoreError, match="mysql"):
        dialect_name("mysql")

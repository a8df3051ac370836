"""The catalog-changes feed: one row per product upsert/delete, so every worker applies what other processes changed.

Rows are written in the writer's own transaction (`record`); followers read them by seq (`since`). On PostgreSQL a
transaction-scoped advisory lock serialises catalog writers until they commit, so seq order is commit order and a
follower never passes a seq whose row commits later (SQLite has one writer at a time anyway).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, delete, func, insert, select

from shopmind.store.schema import catalog_changes

__all__ = ["last_seq", "prune", "record", "since"]

_WRITE_LOCK = {"postgresql": "SELECT pg_advisory_xact_lock(7262340002)"}


def record(conn: Connection, kind: str, ids: Sequence[str], origin: str) -> None:
    """Append `kind` (upsert | delete) rows for product ids inside the caller's transaction."""
    if not ids:
        return
    lock = _WRITE_LOCK.get(conn.dialect.name)
    if lock:
        conn.exec_driver_sql(lock)
    now = time.time()
    conn.execute(insert(catalog_changes), [{"kind": kind, "product_id": pid, "origin": origin, "ts": now} for pid in ids])


def since(engine: Engine, seq: int, limit: int = 50_000) -> list[tuple[int, str, str, str]]:
    """(seq, kind, product_id, origin) of changes after `seq`, oldest first."""
    c = catalog_changes.c
    q = select(c.seq, c.kind, c.product_id, c.origin).where(c.seq > seq).order_by(c.seq).limit(limit)
    with engine.connect() as conn:
        return [(int(s), str(k), str(p), str(o)) for s, k, p, o in conn.execute(q)]


def last_seq(engine: Engine) -> int:
    """The newest change's seq (0 when the catalog never changed since the feed exists)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(catalog_changes.c.seq))).scalar() or 0)


def prune(engine: Engine, upto_seq: int, older_than_s: float = 86_400.0) -> int:
    """Drop changes at or before `upto_seq` (every kept version has them) that are older than `older_than_s` (every live
    worker has applied them); how many rows went."""
    c = catalog_changes.c
    with engine.begin() as conn:
        return conn.execute(delete(catalog_changes).where(c.seq <= upto_seq, c.ts < time.time() - older_than_s)).rowcount or 0

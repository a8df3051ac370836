"""The audit log: who (key id) did what (action) to which target, when — never personal data."""

from __future__ import annotations

import time
from typing import Any

import orjson
from sqlalchemy import Engine, insert, select

from shopmind.store.schema import audit_log


def record(engine: Engine, key_id: str, action: str, target: str = "", detail: dict[str, Any] | None = None) -> None:
    """Append one entry (its own transaction, so a failed action that was attempted is still logged)."""
    with engine.begin() as conn:
        conn.execute(insert(audit_log).values(ts=time.time(), key_id=key_id, action=action, target=target[:200],
                                              detail=orjson.dumps(detail or {}).decode()))


def entries(engine: Engine, limit: int = 100, before: int | None = None, action: str | None = None) -> list[dict[str, Any]]:
    """The newest entries first, paged by `before` (a seq)."""
    q = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    if before is not None:
        q = q.where(audit_log.c.seq < before)
    if action:
        q = q.where(audit_log.c.action == action)
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [{**dict(r), "detail": orjson.loads(r["detail"])} for r in rows]

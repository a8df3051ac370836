"""The model registry in the store: every built version of a part, the one promoted version, and who switched when.

A build registers its version (`register`: where its files are, config hash, data window, metrics); `promote`
makes it the one that serves, in one transaction that first takes a per-part lock (an advisory lock on PostgreSQL,
SQLite's write lock), so two concurrent promotions leave exactly one promoted row (a partial unique index backs it).
Every worker polls `promoted()` (one small query) and switches when a part's version changes.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, and_, select, update

from shopmind.errors import ShopMindError
from shopmind.store.schema import model_promotions, model_versions
from shopmind.store.upsert import insert_ignore_stmt

__all__ = ["STATUSES", "VERSION_FIELDS", "ModelRegistry", "RegistryError", "VersionNotFound"]

STATUSES = ("built", "promoted", "retired")
VERSION_FIELDS = ("uri", "created_at", "config_hash", "first_event_ts", "last_event_ts", "last_event_seq", "last_change_seq",
                  "products", "events", "metrics")


class RegistryError(ShopMindError, ValueError):
    """A promotion or rollback that cannot be done as asked (retired version, nothing to roll back to)."""


class VersionNotFound(RegistryError):
    """No such version of that part in the registry."""


def _lock_key(part: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"shopmind.models:{part}".encode(), digest_size=7).digest(), "big")


def _row(r: Any) -> dict[str, Any]:
    out = {str(k): v for k, v in r._mapping.items()}
    if "metrics" in out:
        out["metrics"] = orjson.loads(out["metrics"] or "{}")
    return out


class ModelRegistry:
    """Versions of each part and the promoted one, in the shop's store (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writing -------------------------------------------------------------------------------------------
    def register(self, part: str, version: str, **info: Any) -> bool:
        """Record a built version (status `built`); False when it was registered already. Keys: VERSION_FIELDS."""
        unknown = set(info) - set(VERSION_FIELDS)
        if unknown:
            raise RegistryError(f"unknown version field(s) {sorted(unknown)}; known: {', '.join(VERSION_FIELDS)}")
        row = {"part": part, "version": version, "status": "built", "created_at": time.time(), "uri": "", **info}
        row["metrics"] = orjson.dumps(info.get("metrics") or {}).decode()
        with self.engine.begin() as conn:
            stmt = insert_ignore_stmt(conn, model_versions, ["part", "version"], returning=["version"])
            return conn.execute(stmt, row).first() is not None

    def promote(self, part: str, version: str, *, who: str, reason: str = "", action: str = "promote") -> dict[str, Any]:
        """Make `version` the one that serves `part` (one transaction); {part, from, to, changed}."""
        c = model_versions.c
        with self.engine.begin() as conn:
            self._lock(conn, part)
            target = conn.execute(select(c.status).where(and_(c.part == part, c.version == version))).scalar()
            if target is None:
                raise VersionNotFound(f"no {part} version {version!r}; see `shopmind models list`")
            if target == "retired":
                raise RegistryError(f"{part} version {version!r} is retired (its files were removed); promote a kept version")
            current = conn.execute(select(c.version).where(and_(c.part == part, c.status == "promoted"))).scalar()
            if current == version:
                return {"part": part, "from": current, "to": version, "changed": False}
            now = time.time()
            conn.execute(update(model_versions).where(and_(c.part == part, c.status == "promoted")).values(status="built"))
            conn.execute(update(model_versions).where(and_(c.part == part, c.version == version)).values(status="promoted", promoted_at=now))
            conn.execute(model_promotions.insert().values(part=part, ts=now, who=who[:64], action=action, from_version=current,
                                                          to_version=version, reason=reason[:2000]))
        return {"part": part, "from": current, "to": version, "changed": True}

    def retire(self, part: str, versions: list[str]) -> int:
        """Mark versions whose files were removed (never the promoted one); how many rows changed."""
        if not versions:
            return 0
        c = model_versions.c
        with self.engine.begin() as conn:
            q = update(model_versions).where(and_(c.part == part, c.version.in_(versions), c.status == "built")).values(status="retired")
            return conn.execute(q).rowcount or 0

    def _lock(self, conn: Connection, part: str) -> None:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_lock_key(part)})")
        else:  # SQLite: a write statement first takes the database's write lock for the whole transaction
            conn.execute(update(model_versions).where(model_versions.c.part == part).where(model_versions.c.status == "promoted")
                         .values(status=model_versions.c.status))

    # -- reading -------------------------------------------------------------------------------------------
    def promoted(self) -> dict[str, str]:
        """part → promoted version (the query every worker polls)."""
        c = model_versions.c
        with self.engine.connect() as conn:
            return {str(p): str(v) for p, v in conn.execute(select(c.part, c.version).where(c.status == "promoted"))}

    def get(self, part: str, version: str) -> dict[str, Any] | None:
        """One version's row, or None."""
        c = model_versions.c
        with self.engine.connect() as conn:
            row = conn.execute(select(model_versions).where(and_(c.part == part, c.version == version))).first()
        return None if row is None else _row(row)

    def versions(self, part: str | None = None) -> list[dict[str, Any]]:
        """Version rows, by part then newest first."""
        c = model_versions.c
        q = select(model_versions).order_by(c.part, c.version.desc())
        if part is not None:
            q = q.where(c.part == part)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]

    def parts(self) -> set[str]:
        """Parts with at least one registered version."""
        with self.engine.connect() as conn:
            return {str(p) for p in conn.execute(select(model_versions.c.part).distinct()).scalars()}

    def history(self, part: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Promotions and rollbacks, newest first."""
        c = model_promotions.c
        q = select(model_promotions).order_by(c.seq.desc()).limit(limit)
        if part is not None:
            q = q.where(c.part == part)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]

    def previous(self, part: str) -> str | None:
        """The version served before the current one (the last switch's `from`), if its files are still kept."""
        last = [h for h in self.history(part, limit=100) if h["action"] in ("promote", "rollback")][:1]  # not the gate's "held" rows
        before = last[0]["from_version"] if last else None
        row = self.get(part, before) if before else None
        return before if row is not None and row["status"] == "built" else None

"""Continuous training: build on a schedule or after N new events, in one process of the cluster, behind a promotion gate.

`Trainer.run_once` takes the leader lock without waiting (a PostgreSQL session advisory lock, released by the server
when the process dies; on SQLite a file lock beside the database), checks under it whether a build is due — against
the newest *registered* version of each part, built by any process, so a version just built elsewhere or held by the
gate is not built again — builds with promotion deferred, and runs the gate (`shopmind.facade.gate`) on each new
version: promoted when no gated metric regresses beyond its tolerance, else kept unpromoted with a "held" row in the
registry's history naming the metric, old, new and tolerance. `shopmind models promote` still overrides. `start`
runs the loop in a background thread (`shopmind serve` with `[training] enabled`); `shopmind train --watch` in the
foreground.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import Counter
from sqlalchemy import Connection, Engine

from shopmind.artifacts import ModelRegistry
from shopmind.config import Settings, TrainingSettings, interval_seconds
from shopmind.facade.gate import Decision, compare
from shopmind.store import SqlStore
from shopmind.store.schema import model_promotions

__all__ = ["LeaderLock", "Trainer", "TrainingShop"]
log = logging.getLogger(__name__)
RUNS = Counter("shopmind_training_runs_total", "trainer checks by outcome (idle, not_leader, built, failed)", ["outcome"])
GATED = Counter("shopmind_training_versions_total", "new versions through the promotion gate", ["part", "decision"])


class TrainingShop(Protocol):
    """What the trainer needs of the facade."""

    home: Path
    settings: Settings
    store: SqlStore
    registry: ModelRegistry

    def build(self, parts: Any = None, *, executor: str | None = None, promote: bool | None = None) -> dict[str, Any]: ...

    def promote(self, part: str, version: str, *, who: str = "api", reason: str = "") -> dict[str, Any]: ...


class LeaderLock:
    """One holder across processes and hosts: `pg_try_advisory_lock` on a dedicated connection (PostgreSQL), else an
    exclusive `flock` on `<database>.training.lock` (SQLite: one host)."""

    def __init__(self, engine: Engine, fallback_dir: Path, name: str = "training") -> None:
        self.engine = engine
        self.key = int.from_bytes(hashlib.blake2b(f"shopmind.leader:{name}".encode(), digest_size=7).digest(), "big")
        db = engine.url.database if engine.dialect.name == "sqlite" else None
        self.path = Path(f"{db}.{name}.lock") if db and db != ":memory:" else fallback_dir / f"{name}.lock"
        self._conn: Connection | None = None
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock if free (never waits); True when this object now holds it."""
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({self.key})").scalar():
                self._conn = conn
                return True
            conn.close()
            return False
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock back (closing the connection or file releases it even where the unlock fails)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a dropped connection released the lock already
                self._conn.exec_driver_sql(f"SELECT pg_advisory_unlock({self.key})")
            self._conn.close()
            self._conn = None
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops its flock
            self._fd = None

    @contextlib.contextmanager
    def held(self) -> Iterator[bool]:
        """`with lock.held() as leader:` — leader is False when another process holds it."""
        got = self.acquire()
        try:
            yield got
        finally:
            if got:
                self.release()


class Trainer:
    """The continuous-training loop of one shop (see the module doc); `clock` is injectable for tests."""

    def __init__(self, shop: TrainingShop, config: TrainingSettings | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.shop = shop
        self.config = config or shop.settings.training
        self.clock = clock
        self.lock = LeaderLock(shop.store.engine, shop.home)
        self.last: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- when -------------------------------------------------------------------------------------------------
    def due(self) -> str | None:
        """Why a build is due now ('schedule 6h', 'after_events 500', 'never built'), or None."""
        cfg = self.config
        newest = {p: self._newest(p) for p in cfg.parts}
        last_seq = self.shop.store.last_event_seq()
        if any(row is None for row in newest.values()):
            missing = sorted(p for p, row in newest.items() if row is None)
            return f"never built: {', '.join(missing)}" if last_seq >= cfg.min_events else None
        rows = [row for row in newest.values() if row is not None]
        new_events = last_seq - min(int(r["last_event_seq"]) for r in rows)
        if cfg.after_events is not None and new_events >= cfg.after_events:
            return f"after_events: {new_events} new events ≥ {cfg.after_events}"
        age = self.clock() - min(float(r["created_at"]) for r in rows)
        if cfg.schedule is not None and age >= interval_seconds(cfg.schedule) and new_events >= cfg.min_events:
            return f"schedule: last build {age / 3600:.1f} h ago ≥ {cfg.schedule}, {new_events} new events"
        return None

    def _newest(self, part: str) -> dict[str, Any] | None:
        rows = self.shop.registry.versions(part)
        return max(rows, key=lambda r: float(r["created_at"])) if rows else None

    # -- one check --------------------------------------------------------------------------------------------
    def run_once(self, *, force: bool = False) -> dict[str, Any]:
        """Build and gate if due (or `force`) and this process wins the leader lock; what happened."""
        with self.lock.held() as leader:
            if not leader:
                out: dict[str, Any] = {"status": "not_leader"}
            elif (why := "forced" if force else self.due()) is None:
                out = {"status": "idle"}
            else:
                out = self._build_and_gate(why)
        RUNS.labels(out["status"]).inc()
        self.last = {**out, "ts": self.clock()}
        return out

    def _build_and_gate(self, why: str) -> dict[str, Any]:
        parts = list(self.config.parts)
        before = {p: {r["version"] for r in self.shop.registry.versions(p)} for p in parts}
        log.info("training: building %s (%s)", ", ".join(parts), why)
        out: dict[str, Any] = {"status": "built", "why": why}
        try:
            out["events"] = self.shop.build(parts, executor="auto" if self.config.executor == "ray" else None, promote=False).get("events")
        except Exception as exc:  # a failed build must not stop the loop; parts that finished are still gated below
            log.exception("training: build failed")
            out.update(status="failed", error=str(exc))
        out["decisions"] = {part: self.gate(part, row["version"]) for part in parts
                            for row in self.shop.registry.versions(part) if row["version"] not in before[part]}
        return out

    def gate(self, part: str, version: str) -> dict[str, Any]:
        """Promote `version` when it does not regress against the promoted one; else record it as held, with the reason."""
        registry = self.shop.registry
        new = registry.get(part, version) or {}
        current = registry.promoted().get(part)
        if current is None:
            decision = Decision(True, "first version of the part", True)
        else:
            old = registry.get(part, current) or {}
            same = (old.get("last_event_seq"), old.get("first_event_ts")) == (new.get("last_event_seq"), new.get("first_event_ts"))
            decision = compare(part, old.get("metrics"), new.get("metrics"), self.config.tolerance, same)
        if decision.promote:
            self.shop.promote(part, version, who="trainer", reason=f"gate passed: {decision.reason}")
        else:
            with self.shop.store.engine.begin() as conn:
                conn.execute(model_promotions.insert().values(part=part, ts=time.time(), who="trainer", action="held", from_version=current,
                                                              to_version=version, reason=f"gate: {decision.reason}"[:2000]))
            log.warning("training: %s %s held, %s serves on: %s", part, version, current, decision.reason)
        GATED.labels(part, "promoted" if decision.promote else "held").inc()
        return {"version": version, "promoted": decision.promote, "against": current, "reason": decision.reason,
                "same_window": decision.same_window}

    # -- the loop ---------------------------------------------------------------------------------------------
    def watch(self, stop: threading.Event | None = None) -> None:
        """Check every `check_interval_s` until `stop` is set (the foreground daemon: `shopmind train --watch`)."""
        stop = stop or self._stop
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # the store was briefly away: try again next time
                log.exception("training: check failed")
            stop.wait(self.config.check_interval_s)

    def start(self) -> None:
        """Run `watch` in a daemon thread (off the request path)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self.watch, name="shopmind-trainer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread after its current check (a build in progress finishes first unless `timeout` passes)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def status(self) -> dict[str, Any]:
        """Settings, whether a build is due now, and the last check's outcome."""
        cfg = self.config
        return {"enabled": cfg.enabled, "schedule": cfg.schedule, "after_events": cfg.after_events, "parts": cfg.parts,
                "executor": cfg.executor, "tolerance": cfg.tolerance, "due": self.due(), "last": self.last,
                "running": self._thread is not None and self._thread.is_alive()}

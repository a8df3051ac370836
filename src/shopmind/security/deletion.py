"""Deleting a user everywhere, built models included, and making every running process forget them within seconds.

A deletion (`delete_user`) removes the user's record and events from the store, anonymises the ads ledger,
drops their conversations, writes a receipt to `user_deletions` (a random id, an HMAC of the user id under
the shop secret, the time and counts of what went where — never the id), then forgets the user in this
process's online state and loaded services and scrubs every kept artifact version on disk in place (atomic
file replacement per file; see `SCRUBBERS`), and finally truncates SQLite's WAL so no freed page keeps the id.

Other processes on the same store (an API server while the CLI deletes) follow `user_deletions` by seq
through `DeletionFollower.maybe_poll` (at most one cheap query a second, from the request path): a receipt
names no id, so each process hashes the ids it holds and forgets those that match. A build that took its
snapshot before a deletion checks the receipts again before it publishes (`scrub_fresh_build`).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, func, insert, select, update

from shopmind.ports import UserHolders
from shopmind.security.secret import user_hash
from shopmind.store.schema import user_deletions

log = logging.getLogger(__name__)

REPLAY_S = 60.0  # a process that opens replays receipts this recent (a deletion may have been scrubbing meanwhile)


def _scrub_recommend(out_dir: Path, remove: set[str]) -> dict[str, int]:
    from shopmind.recommend import users

    return users.scrub(out_dir, remove)


def _scrub_search(out_dir: Path, remove: set[str]) -> dict[str, int]:
    from shopmind.search import user_prefs

    return user_prefs.scrub(out_dir, remove)


def _scrub_reviews(out_dir: Path, remove: set[str]) -> dict[str, int]:
    from shopmind.understand import review_summary

    return review_summary.scrub(out_dir, remove)


# part → scrubber of one artifact version folder. Parts not listed hold no per-user rows: `ads` keeps item
# vectors, item factors and item statistics only (checked by tests/security/test_deletion.py's byte search).
SCRUBBERS: dict[str, Callable[[Path, set[str]], dict[str, int]]] = {"recommend": _scrub_recommend, "search": _scrub_search,
                                                                   "review_aspects": _scrub_reviews}


# -- receipts -------------------------------------------------------------------------------------------------
def last_deletion_seq(engine: Engine, before_ts: float | None = None) -> int:
    """The newest receipt's seq (optionally among receipts older than `before_ts`); 0 when there is none."""
    q = select(func.max(user_deletions.c.seq))
    if before_ts is not None:
        q = q.where(user_deletions.c.ts < before_ts)
    with engine.connect() as conn:
        return int(conn.execute(q).scalar() or 0)


def deletions_since(engine: Engine, seq: int, limit: int = 10_000) -> list[tuple[int, str]]:
    """(seq, user_hash) of receipts after `seq`, oldest first."""
    q = select(user_deletions.c.seq, user_deletions.c.user_hash).where(user_deletions.c.seq > seq).order_by(user_deletions.c.seq).limit(limit)
    with engine.connect() as conn:
        return [(int(s), str(h)) for s, h in conn.execute(q)]


def receipt(engine: Engine, receipt_id: str) -> dict[str, Any] | None:
    """One receipt as stored (seq, receipt_id, user_hash, ts, removed) or None."""
    with engine.connect() as conn:
        row = conn.execute(select(user_deletions).where(user_deletions.c.receipt_id == receipt_id)).mappings().first()
    return None if row is None else {**{str(k): v for k, v in row.items()}, "removed": orjson.loads(row["removed"])}


def _write_receipt(engine: Engine, hashed: str, removed: dict[str, Any]) -> str:
    receipt_id = secrets.token_hex(16)
    with engine.begin() as conn:
        conn.execute(insert(user_deletions).values(receipt_id=receipt_id, user_hash=hashed, ts=time.time(), removed=orjson.dumps(removed).decode()))
    return receipt_id


def _update_receipt(engine: Engine, receipt_id: str, removed: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(update(user_deletions).where(user_deletions.c.receipt_id == receipt_id).values(removed=orjson.dumps(removed).decode()))


# -- artifacts ------------------------------------------------------------------------------------------------
def scrub_artifacts(home: Path, remove: Iterable[str], storage: Any = None) -> dict[str, dict[str, int]]:
    """Remove users' rows from every kept version of every built part; counts per part. `storage` (an
    `shopmind.artifacts.ArtifactStorage`; default `home/artifacts`) may be remote: versions this host lacks are
    downloaded, scrubbed and uploaded again."""
    from shopmind.artifacts import open_storage

    remove = set(remove)
    storage = storage if storage is not None else open_storage(None, Path(home))
    out: dict[str, dict[str, int]] = {}
    for part, scrub in SCRUBBERS.items():
        versions = storage.versions(part)
        if not versions:
            continue
        total: dict[str, int] = {"versions": 0}
        for version in versions:
            got = scrub(storage.fetch(part, version), remove)
            if storage.remote and any(got.values()):
                storage.upload(part, version)
            total["versions"] += 1
            for k, v in got.items():
                total[k] = total.get(k, 0) + v
        out[part] = total
    return out


def scrub_fresh_build(engine: Engine, secret: bytes, part: str, out_dir: Path, service: Any, since: int) -> int:
    """Before publishing a build whose snapshot was taken at receipt `since`: scrub users deleted after it."""
    rows = deletions_since(engine, since)
    ids = getattr(service, "user_ids", None)
    if not rows or ids is None:
        return 0
    hashes = {h for _, h in rows}
    matched = {u for u in ids() if user_hash(secret, u) in hashes}
    if matched:
        if part in SCRUBBERS:
            SCRUBBERS[part](out_dir, matched)
        for u in matched:
            service.forget_user(u)
        log.info("build of %s: %d user(s) deleted during the build scrubbed before publishing", part, len(matched))
    return len(matched)


# -- in memory --------------------------------------------------------------------------------------------------
def held_user_ids(shop: UserHolders) -> set[str]:
    """Every user id this process holds in memory: online state, loaded services, ads and assistant if they say, and
    process-local shared state (a shared backend is reached by the deleting process itself)."""
    held = set(shop.state_user_ids()) | shop.shared.held_owners()
    for obj in shop.loaded_parts().values():
        ids = getattr(obj, "user_ids", None)
        if callable(ids):
            held.update(ids())
    return held


def forget_in_memory(shop: UserHolders, user_id: str, events: tuple[list, list, list, list] | None = None) -> dict[str, Any]:
    """Make this process's state and loaded services forget a user; `events` (types, items, queries, ts) retract counts."""
    from shopmind.assistant.state import SqlSessionStore

    removed: dict[str, Any] = {}
    if not shop.shared.shared:  # this process's buckets of frequency caps and sessions (Redis: see delete_user)
        removed["shared_state"] = shop.shared.forget_owner(user_id)
    in_state = shop.forget_state_user(user_id, events)
    if in_state is not None:
        removed["online_state"] = in_state
    for name, part in shop.loaded_parts().items():
        if name == "ads_service":
            part.forget_user(user_id)  # frequency counts in memory (the ledger was anonymised in the store)
        elif name == "assistant":
            if not isinstance(part.store, SqlSessionStore):
                removed["chat_sessions_in_memory"] = part.forget_user(user_id)
        elif (forget := getattr(part, "forget_user", None)) is not None:
            removed[name] = forget(user_id)
    return removed


# -- the deletion ---------------------------------------------------------------------------------------------
def delete_user(shop: UserHolders, user_id: str) -> dict[str, Any]:
    """Remove a user everywhere (store, state, services, every artifact version); counts per place and the receipt id.

    The caller logs the action to the audit log with the receipt id as its target (API route, CLI command).
    """
    if not isinstance(user_id, str) or not user_id.strip():
        raise ValueError("user_id: must be a non-empty string")
    from shopmind.ads.store import AdsStore
    from shopmind.assistant.state import SqlSessionStore
    from shopmind.experiments.exposures import forget_user as forget_exposures

    started = time.perf_counter()
    engine = shop.store.engine
    mine = shop.store.scan_events(user_id=user_id, by_time=False)
    removed: dict[str, Any] = dict(shop.store.delete_user(user_id))
    # ledger rows and served-ad rows (user id and address cleared)
    ads = shop.loaded_parts().get("ads_service")
    removed["ads_rows_anonymised"] = ads.forget_user(user_id) if ads is not None else AdsStore(engine).forget_user(user_id)
    removed["chat_sessions"] = SqlSessionStore(engine).forget_user(user_id)  # conversations live in the store
    removed["experiment_exposures"] = forget_exposures(engine, user_id, mine.column("session_id").to_pylist())
    if shop.shared.shared:  # conversations and frequency caps every worker shares (Redis), whether loaded here or not
        removed["shared_state"] = shop.shared.forget_owner(user_id)
    # committed before any artifact is touched: a build publishing from here on, or a server polling, sees it
    receipt_id = _write_receipt(engine, user_hash(shop.shop_secret, user_id), {"pending": True})
    cols = tuple(mine.column(n).to_pylist() for n in ("type", "item_id", "query", "ts"))
    memory = forget_in_memory(shop, user_id, cols)
    removed["chat_sessions"] += memory.pop("chat_sessions_in_memory", 0)
    removed.update(memory)
    removed["artifacts"] = scrub_artifacts(shop.home, {user_id}, getattr(shop, "artifact_storage", None))
    removed["seconds"] = round(time.perf_counter() - started, 4)
    _update_receipt(engine, receipt_id, removed)
    removed["wal_truncated"] = shop.store.purge_freed()
    if not removed["wal_truncated"]:
        log.warning("deletion %s: the SQLite WAL could not be truncated (a reader held it); the next deletion retries", receipt_id)
    removed["receipt_id"] = receipt_id
    return removed


class DeletionFollower:
    """Follows `user_deletions` so this process forgets users deleted by another one (at most one query a second)."""

    def __init__(self, shop: UserHolders, interval_s: float = 1.0) -> None:
        self._shop = shop
        self.interval_s = interval_s
        self.last_seq: int | None = None  # set on the first poll
        self._next = 0.0
        self._lock = threading.Lock()
        self._rebuild: threading.Thread | None = None
        self._again = False
        self._rebuild_lock = threading.Lock()

    def maybe_poll(self) -> int:
        """Poll if a second has passed since the last poll (cheap otherwise); how many held users were forgotten."""
        now = time.monotonic()
        if now < self._next or not self._lock.acquire(blocking=False):
            return 0
        try:
            self._next = now + self.interval_s
            return self.poll()
        except Exception:  # never fail the request that happened to poll; the next poll retries
            log.exception("following user deletions failed")
            return 0
        finally:
            self._lock.release()

    def poll(self) -> int:
        """Forget every held user whose HMAC matches a receipt newer than the last one seen."""
        engine = self._shop.store.engine
        if self.last_seq is None:
            self.last_seq = last_deletion_seq(engine, before_ts=time.time() - REPLAY_S)
        rows = deletions_since(engine, self.last_seq)
        if not rows:
            return 0
        self.last_seq = rows[-1][0]
        hashes = {h for _, h in rows}
        secret = self._shop.shop_secret
        matched = [u for u in held_user_ids(self._shop) if user_hash(secret, u) in hashes]
        for u in matched:
            forget_in_memory(self._shop, u)
        if matched:
            log.info("forgot %d user(s) deleted by another process", len(matched))
            if self._shop.state_loaded:  # their events' share of counters: recount from the (cleaned) log
                self._rebuild_state_soon()
        return len(matched)

    def _rebuild_state_soon(self) -> None:
        with self._rebuild_lock:
            if self._rebuild is not None and self._rebuild.is_alive():
                self._again = True
                return
            self._rebuild = threading.Thread(target=self._rebuild_loop, name="shopmind-forget-rebuild", daemon=True)
            self._rebuild.start()

    def _rebuild_loop(self) -> None:
        while True:
            try:
                self._shop.rebuild_state()
            except Exception:
                log.exception("recounting online state after a deletion failed")
            with self._rebuild_lock:
                if not self._again:
                    return
                self._again = False

    def close(self, timeout_s: float = 60.0) -> None:
        """Wait for a recount in progress (the store is about to close)."""
        thread = self._rebuild
        if thread is not None and thread.is_alive():
            thread.join(timeout_s)

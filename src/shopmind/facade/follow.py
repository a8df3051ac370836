"""Every worker follows the model registry and the catalog-changes feed, so all workers on all hosts serve the same thing.

`Follower.poll` asks the registry which version of each part is promoted (one small query); where that differs from
the version this process has loaded it loads the new one (downloading it first from S3 where needed) and swaps it in
(`ShopMind._install`: requests see the old part or the new one, never a half-loaded one). It then tails
`catalog_changes` by seq and applies upserts and deletes made by other processes (rows this process wrote were applied
when it wrote them) to online state, stock filters and loaded indexes, reading the products from the store.

The API server runs the poll in a background thread (`start`, from the app's lifespan); an embedded process without
the server polls from the request path at most once per `cluster.follow_interval_s` (`maybe_poll`), as
`DeletionFollower` does for deletions.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import func, select

from shopmind.artifacts import ArtifactStorage, ModelRegistry, StorageError
from shopmind.domain import Product
from shopmind.security.deletion import SCRUBBERS
from shopmind.store import SqlStore, changes
from shopmind.store.schema import user_deletions

__all__ = ["FollowedShop", "Follower", "replay_into"]
log = logging.getLogger(__name__)


class FollowedShop(Protocol):
    """What the follower needs of the facade."""

    store: SqlStore
    registry: ModelRegistry
    artifact_storage: ArtifactStorage
    _loaded: dict[str, str]

    def _ensure_registered(self) -> None: ...

    def _load_version(self, part: str, version: str) -> Any: ...

    def _install(self, part: str, version: str, service: Any) -> None: ...

    def products_changed(self, items: list[Product]) -> None: ...

    def products_deleted(self, ids: list[str]) -> None: ...


def replay_into(part: str, service: Any, products: Sequence[Product], deleted: Sequence[str]) -> None:
    """Apply catalog changes to one loaded part (what `ShopMind.products_changed` / `products_deleted` do per part)."""
    if products:
        if part == "recommend" and hasattr(service, "set_stock"):
            for p in products:
                service.set_stock(p.id, p.available)
        if (upsert := getattr(service, "upsert", None)) is not None:
            upsert(list(products))
    if deleted and (delete := getattr(service, "delete", None)) is not None:
        delete(list(deleted))


class Follower:
    """Polls the registry and the catalog-changes feed for one `ShopMind`; `lock` orders its catalog applies and swaps."""

    def __init__(self, shop: FollowedShop, interval_s: float = 1.0) -> None:
        self._shop = shop
        self.interval_s = interval_s
        self.lock = threading.RLock()  # held while applying changes and while installing a part (never both half-done)
        self.last_change_seq: int | None = None  # set on the first poll: changes before it are in what loads afterwards
        self.last_deletion_seq: int | None = None  # remote artifacts: deletions whose scrub this host's cache has
        self._next = 0.0
        self._poll_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def background(self) -> bool:
        """Whether a background thread polls (then the request path does not)."""
        return self._thread is not None and self._thread.is_alive()

    def maybe_poll(self) -> None:
        """Poll if `interval_s` has passed since the last poll and no thread polls; never raises."""
        now = time.monotonic()
        if self.background or now < self._next or not self._poll_lock.acquire(blocking=False):
            return
        try:
            self._next = now + self.interval_s
            self.poll()
        except Exception:  # never fail the request that happened to poll; the next poll retries
            log.exception("following the model registry and catalog changes failed")
        finally:
            self._poll_lock.release()

    def poll(self) -> dict[str, Any]:
        """Swap in newly promoted versions of loaded parts, then apply other processes' catalog changes."""
        shop = self._shop
        shop._ensure_registered()
        self.mark()
        swapped = {}
        for part, version in shop.registry.promoted().items():
            loaded = shop._loaded.get(part)
            if loaded is not None and loaded != version:
                try:
                    shop._install(part, version, shop._load_version(part, version))
                except Exception:  # keep serving the loaded version; catalog changes still apply; the next poll retries
                    log.exception("could not load %s %s (promoted elsewhere); still serving %s", part, version, loaded)
                    continue
                log.info("now serving %s %s (was %s), promoted elsewhere", part, version, loaded)
                swapped[part] = version
        return {"swapped": swapped, "catalog_changes": self._apply_changes(), "refreshed": self._refresh_after_deletions()}

    def mark(self) -> None:
        """Start following the feed from its current end (before the first part loads: loads replay what came before)."""
        if self.last_change_seq is None:
            with self.lock:
                if self.last_change_seq is None:
                    self.last_change_seq = changes.last_seq(self._shop.store.engine)

    def _apply_changes(self) -> int:
        shop = self._shop
        with self.lock:
            rows = changes.since(shop.store.engine, self.last_change_seq or 0)
            if not rows:
                return 0
            self.last_change_seq = rows[-1][0]
            ids = list(dict.fromkeys(pid for _, _, pid, origin in rows if origin != shop.store.origin))
            if not ids:
                return 0
            found = shop.store.get_products(ids)  # the store's latest state: order within the batch does not matter
            if found:
                shop.products_changed(list(found.values()))
            gone = [i for i in ids if i not in found]
            if gone:
                shop.products_deleted(gone)
        log.debug("applied %d catalog change(s) from other processes", len(ids))
        return len(ids)

    def _refresh_after_deletions(self) -> int:
        """Remote artifacts (S3): once a deletion's scrub is uploaded (its receipt no longer pending), replace this host's
        cached copies of the scrubbed parts so no file here keeps the user; how many versions were refreshed."""
        shop = self._shop
        storage = shop.artifact_storage
        if not storage.remote:
            return 0
        c = user_deletions.c
        with shop.store.engine.connect() as conn:
            if self.last_deletion_seq is None:
                self.last_deletion_seq = int(conn.execute(select(func.max(c.seq))).scalar() or 0)
                return 0
            rows = conn.execute(select(c.seq, c.removed).where(c.seq > self.last_deletion_seq).order_by(c.seq)).all()
        done = 0
        for seq, removed in rows:
            if '"pending"' in removed:  # the deleting host is still scrubbing: wait for its upload
                break
            done = int(seq)
        if not done:
            return 0
        self.last_deletion_seq = done
        n = 0
        for part in SCRUBBERS:
            base = storage.root / part
            for version in sorted(d.name for d in base.iterdir() if d.is_dir() and not d.name.startswith(".")) if base.is_dir() else []:
                try:
                    storage.refresh(part, version)
                    n += 1
                except StorageError:  # removed from the bucket (retired): drop this host's copy unless it serves
                    if shop._loaded.get(part) != version:
                        shutil.rmtree(base / version, ignore_errors=True)
        if n:
            log.info("refreshed %d cached artifact version(s) after a deletion elsewhere", n)
        return n

    # -- the server's background thread --------------------------------------------------------------------
    def start(self) -> None:
        """Poll every `interval_s` in a daemon thread until `stop` (the API app's lifespan calls both)."""
        if self.background:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="shopmind-follower", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            with self._poll_lock:
                try:
                    self.poll()
                except Exception:
                    log.exception("following the model registry and catalog changes failed; retrying")

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the background thread (waits for a load in progress up to `timeout_s`)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            thread.join(timeout_s)

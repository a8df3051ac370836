"""Artifact and model verbs of the facade: build versions, register them, promote and roll back, and load the promoted one.

Every built version is registered in the store (`shopmind.artifacts.ModelRegistry`) with where its files are
(`cluster.artifacts_url`: `<home>/artifacts`, a shared path or S3), its config hash, data window and metrics. The
promoted version is the one every worker serves: `promote` / `rollback` switch it in one transaction and each
worker's follower (`shopmind.facade.follow`) loads the new version off the request path and swaps it in.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from shopmind.artifacts import Artifacts, ArtifactStorage, ModelRegistry, RegistryError, open_storage
from shopmind.facade.follow import Follower, replay_into
from shopmind.store import changes

if TYPE_CHECKING:
    from shopmind.config import Settings
    from shopmind.store import SqlStore

__all__ = ["ArtifactVerbs"]
log = logging.getLogger(__name__)


def _free_outside(folder: Path) -> None:
    """Best effort, before a version's files go: drop what it holds outside them (a Milvus collection of its vectors)."""
    saved = [p.parent for p in folder.glob("**/vectors.json")] if folder.is_dir() else []
    if saved:
        from shopmind.index.backends import drop_vector_index

        for path in saved:
            drop_vector_index(path)


def _read_json(path: Path) -> dict[str, Any]:
    return orjson.loads(path.read_bytes()) if path.is_file() else {}


class ArtifactVerbs:
    """Versions, the registry and the loaded version of each part (mixed into `ShopMind`)."""

    home: Path
    settings: Settings
    store: SqlStore
    artifact_store: Artifacts
    artifact_storage: ArtifactStorage
    registry: ModelRegistry
    _follower: Follower
    _lock: threading.RLock
    _services: dict[str, Any]
    _loaded: dict[str, str]
    auto_promote: bool

    def part_config(self, name: str) -> Any: ...  # the engine's
    def _load_part(self, name: str, out_dir: Path) -> Any: ...  # the engine's: read one version folder

    def _init_artifacts(self) -> None:
        """Open the artifact storage, the registry and the follower (called once by the engine)."""
        self.artifact_storage = open_storage(self.settings.cluster.artifacts_url, self.home)
        self.artifact_store = Artifacts(self.home, self.artifact_storage.root)
        self.registry = ModelRegistry(self.store.engine)
        self._loaded = {}  # part → version held in `_services`
        self._marks: dict[tuple[str, str], int] = {}  # (part, version) → catalog change seq when its build began
        self._snapshot_seqs: dict[tuple[str, str], int] = {}
        self._registered = False
        self.auto_promote = self.settings.cluster.auto_promote  # a build promotes its versions at once (CLI: --no-promote)
        self._follower = Follower(self, self.settings.cluster.follow_interval_s)  # type: ignore[arg-type]

    # -- versions on disk ----------------------------------------------------------------------------------
    def snapshot_seq(self, part: str) -> int:
        """The last event log position the part's serving version was built from (0 when unknown)."""
        version = self._loaded.get(part) or self.artifact_version(part)
        if version is None:
            return 0
        key = (part, version)
        if key not in self._snapshot_seqs:
            self._snapshot_seqs[key] = int(_read_json(self.artifacts_dir(part) / version / "snapshot.json").get("last_seq", 0))
        return self._snapshot_seqs[key]

    def artifacts_dir(self, part: str) -> Path:
        """The local folder holding a part's artifact versions (the shared path, or this host's cache of S3)."""
        return self.artifact_store.dir(part)

    def artifact_version(self, part: str) -> str | None:
        """The part's promoted version, or None when none was promoted (never built)."""
        self._ensure_registered()
        return self.registry.promoted().get(part)

    def artifacts(self) -> dict[str, Any]:
        """Every part's versions on this host with their meta.json (config, counts, offline metrics)."""
        return self.artifact_store.describe()

    def new_artifact_dir(self, part: str) -> tuple[str, Path]:
        """A fresh version folder for a build of `part`."""
        version, path = self.artifact_store.new_dir(part)
        self._marks[(part, version)] = changes.last_seq(self.store.engine)
        return version, path

    def catalog_change_seq(self) -> int:
        """The catalog-changes feed's position: a build takes it with its snapshot (later changes are replayed on load)."""
        return changes.last_seq(self.store.engine)

    def write_snapshot(self, out_dir: Path, last_seq: int, products: int, events: Any, change_seq: int | None = None) -> None:
        """Record the store snapshot a version was built from: event seq, counts, the events' time window and the
        catalog-change seq (changes after it are replayed into the version when a worker loads it)."""
        first_ts = last_ts = None
        n_events = events if isinstance(events, int) else events.num_rows
        if not isinstance(events, int) and n_events:
            import pyarrow.compute as pc

            bounds = pc.min_max(events["ts"]).as_py()
            first_ts, last_ts = bounds["min"], bounds["max"]
        if change_seq is None:
            change_seq = self._marks.pop((out_dir.parent.name, out_dir.name), 0)
        snap = {"last_seq": last_seq, "products": products, "events": n_events, "first_event_ts": first_ts, "last_event_ts": last_ts,
                "last_change_seq": change_seq}
        (out_dir / "snapshot.json").write_bytes(orjson.dumps(snap))

    def _version_info(self, part: str, version: str, out_dir: Path) -> dict[str, Any]:
        snap = _read_json(out_dir / "snapshot.json")
        try:
            config = orjson.dumps(self.part_config(part).model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
            config_hash = hashlib.sha256(config).hexdigest()[:16]
        except (KeyError, ValueError):  # not one of the engine's parts
            config_hash = ""
        return {"uri": self.artifact_storage.uri(part, version), "config_hash": config_hash, "metrics": _read_json(out_dir / "meta.json"),
                "first_event_ts": snap.get("first_event_ts"), "last_event_ts": snap.get("last_event_ts"),
                "last_event_seq": int(snap.get("last_seq") or 0), "last_change_seq": int(snap.get("last_change_seq") or 0),
                "products": int(snap.get("products") or 0), "events": int(snap.get("events") or 0)}

    def publish_artifact(self, part: str, version: str, keep: int = 3, *, service: Any = None, promote: bool | None = None) -> bool:
        """Upload (S3) and register a finished version; promote it when `auto_promote` (or `promote`) says so,
        installing `service` (the built part) here. Keeps the newest `keep` versions and the promoted one; True if promoted."""
        out_dir = self.artifact_store.dir(part) / version
        self.artifact_storage.upload(part, version)
        self._ensure_registered()
        self.registry.register(part, version, **self._version_info(part, version, out_dir))
        promote = self.auto_promote if promote is None else promote
        if promote:
            self.registry.promote(part, version, who="build", reason="cluster.auto_promote")
            self._switched(part, version, service)
        else:
            log.info("registered %s %s; it serves after `shopmind models promote %s %s`", part, version, part, version)
        self._prune(part, keep)
        return promote

    def _prune(self, part: str, keep: int) -> None:
        rows = [r for r in self.registry.versions(part) if r["status"] != "retired"]  # newest first
        keep_set = {r["version"] for r in rows[:keep]} | {r["version"] for r in rows if r["status"] == "promoted"}
        keep_set |= {self._loaded[part]} if part in self._loaded else set()
        old = [r["version"] for r in rows if r["version"] not in keep_set]
        for version in old:
            _free_outside(self.artifacts_dir(part) / version)
            self.artifact_storage.remove(part, version)
        self.registry.retire(part, old)
        kept = [r for r in self.registry.versions() if r["status"] != "retired"]  # every part's: replay needs their changes
        if kept:
            changes.prune(self.store.engine, min(int(r["last_change_seq"]) for r in kept))

    def _ensure_registered(self) -> None:
        """A home made before the registry: register the versions on disk, and promote each part's `current` one."""
        if self._registered:
            return
        known = self.registry.parts()
        for part in self.artifact_store.parts():
            current = self.artifact_store.version(part)
            if part in known or current is None:
                continue
            for version in self.artifact_storage.versions(part) if not self.artifact_storage.remote else [current]:
                if self.artifact_storage.remote:
                    self.artifact_storage.upload(part, version)
                self.registry.register(part, version, **self._version_info(part, version, self.artifact_store.dir(part) / version))
            self.registry.promote(part, current, who="register", reason="registered from the home's `current` file")
            log.info("registered the existing %s versions of %s (promoted: %s)", part, self.home, current)
        self._registered = True

    def start_following(self) -> None:
        """Follow promotions and catalog changes from a background thread (the API server does; see facade/follow.py)."""
        self._follower.start()

    def stop_following(self) -> None:
        """Stop the background follower (the request path polls again, throttled)."""
        self._follower.stop()

    # -- the model registry's verbs --------------------------------------------------------------------------
    def models(self, part: str | None = None, history: int = 20) -> dict[str, Any]:
        """Per part: the promoted (`current`) and loaded version, every version newest first (status, where, data window,
        counts, `meta`: its meta.json with config and offline metrics) and the latest promotions and rollbacks."""
        self._ensure_registered()
        out: dict[str, Any] = {}
        for row in self.registry.versions(part):
            name = row["part"]
            entry = out.get(name)
            if entry is None:
                entry = out[name] = {"current": None, "loaded": self._loaded.get(name), "versions": [],
                                     "history": self.registry.history(name, limit=history)}
            if row["status"] == "promoted":
                entry["current"] = row["version"]
            row["meta"] = row.pop("metrics")
            entry["versions"].append(row)
        return out

    def promote(self, part: str, version: str, *, who: str = "api", reason: str = "") -> dict[str, Any]:
        """Serve `version` of `part` on every worker (this one at once, others within `cluster.follow_interval_s`)."""
        self._ensure_registered()
        out = self.registry.promote(part, version, who=who, reason=reason)
        if out["changed"]:
            self._switched(part, version)
        return out

    def rollback(self, part: str, version: str | None = None, *, who: str = "api", reason: str = "") -> dict[str, Any]:
        """Serve an earlier kept version again: `version`, or the one served before the current one."""
        self._ensure_registered()
        target = version or self.registry.previous(part)
        if target is None:
            raise RegistryError(f"{part}: no earlier kept version to roll back to; name one (see `shopmind models list`)")
        out = self.registry.promote(part, target, who=who, reason=reason, action="rollback")
        if out["changed"]:
            self._switched(part, target)
        return out

    def _switched(self, part: str, version: str, service: Any = None) -> None:
        """This process promoted `version`: install the built service, or reload the part if it is loaded here."""
        self.artifact_store.point(part, version)
        if service is not None:
            self._install(part, version, service)
        elif part in self._services:
            self._install(part, version, self._load_version(part, version))

    # -- loading and swapping ---------------------------------------------------------------------------------
    def _load_version(self, part: str, version: str) -> Any:
        """Read a version (downloading it first where this host lacks it); nothing is swapped yet."""
        started = time.perf_counter()
        service = self._load_part(part, self.artifact_storage.fetch(part, version))
        log.info("loaded %s %s in %.2f s", part, version, time.perf_counter() - started)
        return service

    def _install(self, part: str, version: str, service: Any) -> None:
        """Replay catalog changes made since the version's snapshot into it, then swap it in (atomically for requests)."""
        row = self.registry.get(part, version)
        with self._lock, self._follower.lock:
            self._follower.mark()
            rows = changes.since(self.store.engine, int(row["last_change_seq"]) if row else 0)
            ids = list(dict.fromkeys(pid for _, _, pid, _ in rows))
            if ids:
                found = self.store.get_products(ids)
                replay_into(part, service, list(found.values()), [i for i in ids if i not in found])
            self._services[part] = service
            self._loaded[part] = version
        self.artifact_store.point(part, version)

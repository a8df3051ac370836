"""Versioned artifacts in folders: `<root>/<part>/<version>/` plus a `current` pointer swapped atomically.

The root is `<home>/artifacts` by default, a path every host mounts, or the local cache of an S3 store
(`shopmind.artifacts.storage`); which version serves is the registry's promoted one (`shopmind.artifacts.registry`),
mirrored into `current` for tools that read folders.

A build writes a new version folder, then `publish` points `current` at it (older versions beyond `keep` are
removed); `rollback` points it back. Each version may hold `meta.json` (config, counts, offline metrics) and
`snapshot.json` (the event-log position it was built from).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)
__all__ = ["Artifacts"]


class Artifacts:
    """The artifact folders of one shop home (or of the shared path / cache given as `root`)."""

    def __init__(self, home: Path, root: Path | None = None) -> None:
        self.root = root if root is not None else home / "artifacts"

    def dir(self, part: str) -> Path:
        """The folder holding a part's versions."""
        return self.root / part

    def parts(self) -> list[str]:
        """Parts with at least a folder on disk, sorted."""
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []

    def version(self, part: str) -> str | None:
        """The current version of a part, or None when it was never published."""
        pointer = self.dir(part) / "current"
        return pointer.read_text().strip() if pointer.is_file() else None

    def describe(self) -> dict[str, Any]:
        """Every part's versions (newest first) with their meta.json, and the current one."""
        out: dict[str, Any] = {}
        for part in self.parts():
            versions = []
            for d in sorted((p for p in self.dir(part).iterdir() if p.is_dir()), reverse=True):
                meta_file = d / "meta.json"
                meta = orjson.loads(meta_file.read_bytes()) if meta_file.is_file() else {}
                versions.append({"version": d.name, "meta": meta})
            out[part] = {"current": self.version(part), "versions": versions}
        return out

    def new_dir(self, part: str) -> tuple[str, Path]:
        """A fresh, empty version folder (named by UTC time and process) for a build to write into."""
        base = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{os.getpid() % 1000:03d}"
        for n in range(1000):  # two builds of a part in one second: "<base>.001" sorts after "<base>"
            version = base if n == 0 else f"{base}.{n:03d}"
            path = self.dir(part) / version
            try:
                path.mkdir(parents=True, exist_ok=False)
            except FileExistsError:
                continue
            return version, path
        raise RuntimeError(f"more than 1000 {part} builds in one second")

    def point(self, part: str, version: str) -> None:
        """Point `current` at a version atomically (nothing removed)."""
        base = self.dir(part)
        base.mkdir(parents=True, exist_ok=True)
        tmp = base / f"current.{os.getpid()}.{uuid.uuid4().hex}.tmp"  # two shops in one process publish at once
        tmp.write_text(version)
        tmp.replace(base / "current")

    def publish(self, part: str, version: str, keep: int = 3) -> None:
        """Point `current` at a finished version atomically; keep the last few for rollback."""
        base = self.dir(part)
        self.point(part, version)
        versions = sorted(p for p in base.iterdir() if p.is_dir())
        for old in versions[:-keep]:
            if old.name != version:
                shutil.rmtree(old, ignore_errors=True)
        log.info("published %s artifact %s", part, version)

    def rollback(self, part: str, version: str) -> None:
        """Serve an earlier kept version again."""
        if not (self.dir(part) / version).is_dir():
            raise ValueError(f"no {part} artifact version {version!r}")
        self.publish(part, version, keep=1_000_000)

    def write_snapshot(self, out_dir: Path, last_seq: int, products: int, events: int) -> None:
        """Record the store snapshot a version was built from."""
        (out_dir / "snapshot.json").write_bytes(orjson.dumps({"last_seq": last_seq, "products": products, "events": events}))

    def snapshot_seq(self, part: str) -> int:
        """The last event-log position the part's current version was built from (0 when unknown)."""
        version = self.version(part)
        file = self.dir(part) / version / "snapshot.json" if version else None
        return int(orjson.loads(file.read_bytes())["last_seq"]) if file is not None and file.is_file() else 0

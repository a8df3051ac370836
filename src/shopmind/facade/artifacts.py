"""Artifact verbs of the facade: versions of each built part, publish (atomic swap) and rollback."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from shopmind.artifacts import Artifacts

__all__ = ["ArtifactVerbs"]


class ArtifactVerbs:
    """Delegates to `shopmind.artifacts.Artifacts`; a publish drops the loaded part so the next call loads it."""

    artifact_store: Artifacts
    _lock: threading.RLock
    _services: dict[str, Any]

    def snapshot_seq(self, part: str) -> int:
        """The last event log position the part's current artifact was built from."""
        return self.artifact_store.snapshot_seq(part)

    def artifacts_dir(self, part: str) -> Path:
        """The folder holding a part's artifact versions."""
        return self.artifact_store.dir(part)

    def artifact_version(self, part: str) -> str | None:
        """The part's current version, or None when it was never built."""
        return self.artifact_store.version(part)

    def artifacts(self) -> dict[str, Any]:
        """Every part's versions with their meta.json (config, counts, offline metrics)."""
        return self.artifact_store.describe()

    def new_artifact_dir(self, part: str) -> tuple[str, Path]:
        """A fresh version folder for a build of `part`."""
        return self.artifact_store.new_dir(part)

    def publish_artifact(self, part: str, version: str, keep: int = 3) -> None:
        """Point `current` at a finished version atomically (keeping the last few); the next call loads it."""
        self.artifact_store.publish(part, version, keep)
        with self._lock:
            self._services.pop(part, None)

    def rollback(self, part: str, version: str) -> None:
        """Serve an earlier kept version of a part."""
        self.artifact_store.rollback(part, version)
        with self._lock:
            self._services.pop(part, None)

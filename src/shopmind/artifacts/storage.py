"""Where built versions live, chosen by `cluster.artifacts_url`: a folder (default `<home>/artifacts`, or a path every
host mounts) or an S3-compatible bucket (`s3://bucket/prefix`, `shopmind.artifacts.s3`).

A build always writes into a local folder under `root`; `upload` makes the version reachable by every host (a no-op
for a folder); `fetch` gives a local folder holding a version's files, downloading it into `root` (the host's
cache) first where needed. One class per scheme in `STORAGES`.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Protocol

__all__ = ["STORAGES", "ArtifactStorage", "LocalStorage", "StorageError", "open_storage"]
log = logging.getLogger(__name__)


class StorageError(RuntimeError):
    """The artifact storage cannot be opened or does not hold what was asked."""


class ArtifactStorage(Protocol):
    """The contract of an artifact storage backend."""

    url: str
    root: Path  # local folders `<root>/<part>/<version>/`: builds write here, loads read from here
    remote: bool  # files also live elsewhere (upload/fetch move them)

    def uri(self, part: str, version: str) -> str:
        """Where the version's files are, as recorded in the registry."""
        ...

    def upload(self, part: str, version: str) -> None:
        """Make a finished local version reachable from every host."""
        ...

    def fetch(self, part: str, version: str) -> Path:
        """A local folder with the version's files (downloaded first if this host lacks it)."""
        ...

    def refresh(self, part: str, version: str) -> None:
        """Replace this host's copy of a version with the stored one (it was rewritten elsewhere: a deletion's scrub)."""
        ...

    def remove(self, part: str, version: str) -> None:
        """Delete a version's files everywhere they are kept."""
        ...

    def versions(self, part: str) -> list[str]:
        """Versions the storage holds for a part, oldest first."""
        ...


class LocalStorage:
    """Version folders under one path: `<home>/artifacts` or a path every host mounts (NFS, a shared volume)."""

    remote = False

    def __init__(self, url: str, home: Path) -> None:
        path = url.removeprefix("file://") if url else ""
        self.url = url
        self.root = Path(path).expanduser().resolve() if path else home / "artifacts"

    def uri(self, part: str, version: str) -> str:
        return str(self.root / part / version)

    def upload(self, part: str, version: str) -> None:
        return None

    def fetch(self, part: str, version: str) -> Path:
        path = self.root / part / version
        if not path.is_dir():
            raise StorageError(f"{part} version {version!r} has no folder at {path}")
        return path

    def refresh(self, part: str, version: str) -> None:
        return None  # every host reads the same folder

    def remove(self, part: str, version: str) -> None:
        shutil.rmtree(self.root / part / version, ignore_errors=True)

    def versions(self, part: str) -> list[str]:
        base = self.root / part
        return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")) if base.is_dir() else []


def _s3(url: str, home: Path) -> ArtifactStorage:
    from shopmind.artifacts.s3 import S3Storage

    return S3Storage(url, home)


# scheme → factory (url, home); "" is a plain path or the default
STORAGES = {"": LocalStorage, "file": LocalStorage, "s3": _s3}


def open_storage(url: str | None, home: Path) -> ArtifactStorage:
    """The storage `cluster.artifacts_url` names (None: `<home>/artifacts`)."""
    url = url or ""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    try:
        factory = STORAGES[scheme]
    except KeyError:
        raise StorageError(f"cluster.artifacts_url: no artifact storage for {url!r}; known schemes: file://, s3:// or a path") from None
    return factory(url, home)

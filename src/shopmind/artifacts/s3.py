"""Artifacts in an S3-compatible bucket (`s3://bucket/prefix`): uploaded after a build, downloaded into the host's
cache (`<home>/artifacts`) before a load. boto3 is imported here only; the endpoint comes from AWS_ENDPOINT_URL
(MinIO, Ceph, moto) and credentials from the standard AWS environment or files.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from shopmind.artifacts.storage import StorageError

__all__ = ["S3Storage"]
log = logging.getLogger(__name__)


class S3Storage:
    """Versions as objects `<prefix>/<part>/<version>/<file>`; `root` is this host's cache of them."""

    remote = True

    def __init__(self, url: str, home: Path, client: Any = None) -> None:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise StorageError(f"cluster.artifacts_url: {url!r} names no bucket (s3://bucket/prefix)")
        self.url, self.bucket, self.prefix = url, bucket, prefix.strip("/")
        self.root = home / "artifacts"
        self._client = client

    @property
    def client(self) -> Any:
        """The boto3 client, made on first use, with timeouts (no call waits for ever)."""
        if self._client is None:
            try:
                import boto3  # type: ignore[import-untyped]
                from botocore.config import Config  # type: ignore[import-untyped]
            except ModuleNotFoundError as exc:  # pragma: no cover - the cluster extra installs it
                raise StorageError("s3:// artifacts need boto3: pip install 'shopmind[cluster]'") from exc
            config = Config(connect_timeout=10, read_timeout=120, retries={"max_attempts": 3, "mode": "standard"})
            self._client = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None, config=config)
        return self._client

    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def uri(self, part: str, version: str) -> str:
        return f"s3://{self.bucket}/{self._key(part, version)}"

    def _objects(self, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        return keys

    def upload(self, part: str, version: str) -> None:
        local = self.root / part / version
        files = [p for p in local.rglob("*") if p.is_file()]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda p: self.client.upload_file(str(p), self.bucket, self._key(part, version, p.relative_to(local).as_posix())), files))
        log.info("uploaded %s %s (%d files) to %s", part, version, len(files), self.uri(part, version))

    def fetch(self, part: str, version: str) -> Path:
        local = self.root / part / version
        if local.is_dir():
            return local
        tmp = self._download(part, version)
        try:
            tmp.replace(local)  # atomic: a reader sees the whole version or none of it
        except OSError:  # another worker of this host finished first
            shutil.rmtree(tmp, ignore_errors=True)
        return local

    def refresh(self, part: str, version: str) -> None:
        if not (self.root / part / version).is_dir():
            return
        tmp, local = self._download(part, version), self.root / part / version
        old = local.with_name(f".{version}.{os.getpid()}.old")
        local.replace(old)  # files a loaded part has open stay readable until it lets go
        tmp.replace(local)
        shutil.rmtree(old, ignore_errors=True)

    def _download(self, part: str, version: str) -> Path:
        prefix = self._key(part, version) + "/"
        keys = self._objects(prefix)
        if not keys:
            raise StorageError(f"{part} version {version!r}: nothing at {self.uri(part, version)}")
        tmp = self.root / part / f".{version}.{os.getpid()}.{threading.get_ident()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)

        def get(key: str) -> None:
            dest = tmp / key[len(prefix):]
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(self.bucket, key, str(dest))

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(get, keys))
        log.info("downloaded %s %s (%d files) from %s", part, version, len(keys), self.uri(part, version))
        return tmp

    def remove(self, part: str, version: str) -> None:
        keys = self._objects(self._key(part, version) + "/")
        for start in range(0, len(keys), 1000):
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]})
        shutil.rmtree(self.root / part / version, ignore_errors=True)

    def versions(self, part: str) -> list[str]:
        prefix = self._key(part) + "/"
        return sorted({k[len(prefix):].split("/", 1)[0] for k in self._objects(prefix)})

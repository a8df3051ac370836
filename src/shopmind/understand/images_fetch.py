"""Reading a product's image: a file under the shop's image folder, or an http(s) URL on one of the shop's own hosts.

Remote fetches have a timeout and a size cap; hosts not listed are refused (nothing is fetched from the open internet).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from shopmind.understand.images import ImageError

__all__ = ["FetchPolicy", "read_image"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchPolicy:
    """Where images may come from: `base_dir` for relative paths, `allowed_hosts` for URLs (none by default)."""

    base_dir: Path | None = None
    allowed_hosts: tuple[str, ...] = ()
    timeout_s: float = 5.0
    max_bytes: int = 10_000_000
    allow_absolute_paths: bool = field(default=True)


def read_image(ref: str, policy: FetchPolicy) -> bytes:
    """The bytes of one image reference; ImageError naming the reference when it is refused, missing or too large."""
    parsed = urlparse(ref)
    if parsed.scheme in ("http", "https"):
        host = (parsed.hostname or "").lower()
        if host not in {h.lower() for h in policy.allowed_hosts}:
            raise ImageError(f"{ref}: host {host!r} is not one of the shop's image hosts (allowed_hosts)")
        return _fetch(ref, policy)
    path = Path(parsed.path if parsed.scheme == "file" else ref)
    if not path.is_absolute():
        if policy.base_dir is None:
            raise ImageError(f"{ref}: a relative image path needs the shop's image folder (base_dir)")
        path = policy.base_dir / path
    elif not policy.allow_absolute_paths:
        raise ImageError(f"{ref}: absolute paths are not allowed")
    try:
        size = path.stat().st_size
        if size > policy.max_bytes:
            raise ImageError(f"{ref}: {size} bytes is over the limit of {policy.max_bytes}")
        return path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{ref}: cannot read ({exc.strerror or exc})") from exc


def _fetch(url: str, policy: FetchPolicy) -> bytes:
    import httpx

    chunks: list[bytes] = []
    total = 0
    try:
        with httpx.stream("GET", url, timeout=policy.timeout_s, follow_redirects=False) as resp:
            if resp.status_code != 200:
                raise ImageError(f"{url}: HTTP {resp.status_code}")
            for chunk in resp.iter_bytes():
                total += len(chunk)
                if total > policy.max_bytes:
                    raise ImageError(f"{url}: over the limit of {policy.max_bytes} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise ImageError(f"{url}: {type(exc).__name__}: {exc}") from exc
    return b"".join(chunks)

"""The shop's secrets: one per cluster when `cluster.secret` is set, else random bytes kept in the home (0600).

Ad tokens and deletion receipts are keyed by a secret: hosts with different secrets would mint ad tokens the other
cannot verify and receipts whose user hashes do not match. A cluster sets `cluster.secret` (64 hex characters,
the same on every host); each use gets its own key derived from it (HMAC-SHA256 with the use's name), so a
leaked ad key reveals nothing of the receipts' key. Without it, each home makes its own once (one host, any
number of processes).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import string
from pathlib import Path

from shopmind.config import ConfigError

SECRET_FILE = "shop_secret"
PURPOSES = ("shop", "ads")  # what a derived key is for: receipts and user hashes; ad token signatures


def shop_secret(home: Path) -> bytes:
    """The shop's 32-byte secret, created atomically on first use so two processes agree on one key."""
    path = Path(home) / SECRET_FILE
    if not path.is_file():
        tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(32))
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # create-if-absent: the first process to link wins, the others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes()


def cluster_secret(value: str | None) -> bytes | None:
    """The configured `cluster.secret` as bytes (None when unset); ConfigError naming the key when malformed."""
    if value is None:
        return None
    text = value.strip()
    if len(text) != 64 or any(c not in string.hexdigits for c in text):
        raise ConfigError(f"cluster.secret: must be 64 hex characters (32 random bytes, e.g. `openssl rand -hex 32`), "
                          f"got {len(text)} characters{'' if all(c in string.hexdigits for c in text) else ' with non-hex ones'}")
    return bytes.fromhex(text)


def derived_secret(master: bytes, purpose: str) -> bytes:
    """The key for one use (`PURPOSES`) derived from the cluster secret: HMAC-SHA256(master, 'shopmind/<purpose>')."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose: one of {', '.join(PURPOSES)}, got {purpose!r}")
    return hmac.new(master, f"shopmind/{purpose}".encode(), hashlib.sha256).digest()


def user_hash(secret: bytes, user_id: str) -> str:
    """HMAC-SHA256 of a user id under the shop secret (hex): matches ids a process holds without naming them."""
    return hmac.new(secret, user_id.encode("utf-8"), hashlib.sha256).hexdigest()

"""The shop's general secret: random bytes kept in the home (0600), made once, shared by every process there."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_FILE = "shop_secret"


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


def user_hash(secret: bytes, user_id: str) -> str:
    """HMAC-SHA256 of a user id under the shop secret (hex): matches ids a process holds without naming them."""
    return hmac.new(secret, user_id.encode("utf-8"), hashlib.sha256).hexdigest()

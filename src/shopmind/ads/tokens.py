"""Ad tokens: what a served ad carries and impression/click events send back in `context.ad`.

A token is bound to one served impression: a random 128-bit impression id (the `ad_impressions` row that
makes it chargeable), the campaign, product, bid type, price, placement, slot, a keyed tag of the user or
session it was served to, and when it was served and expires. The fields are signed with HMAC-SHA256 under
the shop's secret and checked with `hmac.compare_digest`; a token whose signature does not verify is never
decoded for money. The body is readable (base64), so it names no user: only an HMAC tag of the id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

VERSION = "2"
SIG_BYTES = 16  # HMAC-SHA256 truncated to 128 bits
TOKEN_FIELDS = ("campaign_id", "item_id", "bid_type", "price", "placement", "position", "ts", "nonce")
"""Fields of the first token format (no impression binding): still readable in old logs for pCTR training."""
BOUND_FIELDS = ("version", "token_id", "campaign_id", "item_id", "bid_type", "price", "placement", "position",
                "user_tag", "ts", "expires_at")
"""Fields of an impression-bound token (`ts` is when it was served)."""
MAX_TOKEN_CHARS = 2048
SECRET_FILE = "ads_secret"


def ads_secret(home: Path) -> bytes:
    """The shop's token-signing key, made once and kept beside the store (0600)."""
    path = home / SECRET_FILE
    if not path.is_file():
        tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
        tmp.write_bytes(secrets.token_bytes(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic create-if-absent: two processes agree on one key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes()


def new_token_id(now: float) -> str:
    """An impression id: 128 random bits (unique and unpredictable per served ad), after the serving time in
    milliseconds (so ids arrive in key order and each insert touches the index's last page)."""
    return f"{max(int(now * 1000), 0):012x}{secrets.token_hex(16)}"


def user_tag(identity: str | None, secret: bytes) -> str:
    """A keyed tag of the user or session an ad is served to ('' when none): binds without naming them."""
    if not identity:
        return ""
    return hmac.new(secret, b"ads-user\x00" + identity.encode(), hashlib.sha256).hexdigest()[:32]


def _sign(body: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, body, hashlib.sha256).digest()[:SIG_BYTES]


def encode_token(fields: Sequence[str], secret: bytes) -> str:
    """Pack fields into a signed, URL-safe token (HMAC-SHA256 over the joined fields)."""
    body = "\x1f".join(fields).encode()
    return base64.urlsafe_b64encode(body + _sign(body, secret)).decode().rstrip("=")


def bound_token(token_id: str, campaign_id: str, item_id: str, bid_type: str, price: float, placement: str, position: int,
                tag: str, served_at: float, expires_at: float, secret: bytes) -> str:
    """The token of one served impression (see BOUND_FIELDS; a separator inside a field is dropped)."""
    fields = [VERSION, token_id, campaign_id, item_id, bid_type, f"{price:.6f}", placement, str(position), tag, f"{served_at:.3f}", f"{expires_at:.3f}"]
    return encode_token([f.replace("\x1f", "") for f in fields], secret)


def decode_token(token: str, secret: bytes | None) -> list[str] | None:
    """Unpack a token; None when malformed or (given a secret) when its HMAC does not verify."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    if secret is not None:
        if len(raw) <= SIG_BYTES:
            return None
        body, sig = raw[:-SIG_BYTES], raw[-SIG_BYTES:]
        if not hmac.compare_digest(_sign(body, secret), sig):
            return None
    else:  # unverified read (training on the shop's own log): either format's signature length
        body = raw[:-SIG_BYTES] if raw.startswith(VERSION.encode() + b"\x1f") else raw[:-8]
    try:
        return body.decode().split("\x1f")
    except UnicodeDecodeError:
        return None


def token_dict(token: str, secret: bytes | None) -> dict[str, Any] | None:
    """A decoded token as a dict, or None. With a secret only verified, impression-bound tokens decode (the
    charging path); without one (pCTR training) old unbound tokens read too, as TOKEN_FIELDS."""
    parts = decode_token(token, secret)
    if parts is None:
        return None
    if len(parts) == len(BOUND_FIELDS) and parts[0] == VERSION:
        out: dict[str, Any] = dict(zip(BOUND_FIELDS, parts, strict=True))
        try:
            out["price_value"] = float(out["price"])
            out["served_at"] = float(out["ts"])
            out["expires_value"] = float(out["expires_at"])
        except ValueError:
            return None
        return out
    if secret is None and len(parts) == len(TOKEN_FIELDS):
        return dict(zip(TOKEN_FIELDS, parts, strict=True))
    return None


def carries_ad(context: Any) -> Any:
    """Which events of an events table's `context` column carry a served ad's token (a pyarrow bool array, no
    nulls): the pCTR labels and the spend ledger's input, kept out of the pCTR features."""
    import pyarrow.compute as pc

    return pc.fill_null(pc.match_substring(context, '"ad"'), False)

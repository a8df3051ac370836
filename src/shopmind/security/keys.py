"""API keys: made with a role, shown once, stored only as a sha256 hash, resolved through a short cache.

A key's secret reads `sm_<role>_<43 url-safe characters>`; the store keeps `sha256(secret)` and a public id
(`key_…`) that lists and the audit log show. A running server resolves secrets through `KeyRing`: keys from
settings (plaintext or `sha256:<hex>`) first, then the store through a TTL cache of at most two seconds, so a
key created or revoked by the CLI in another process is honoured within seconds, without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
from cachetools import TTLCache
from sqlalchemy import Engine, func, insert, select, update

from shopmind.security.roles import USERS_READ, Principal, Role
from shopmind.store.schema import api_keys

log = logging.getLogger(__name__)

HASH_PREFIX = "sha256:"
KNOWN_SCOPES = frozenset({USERS_READ})
CACHE_TTL_S = 2.0  # how long a running server may keep honouring a key revoked elsewhere
KEYS_FILE = "api_keys.json"  # the demo's generated keys, plaintext, written once with mode 0600


class UnknownKey(LookupError):
    """No key has this id."""


def hash_secret(secret: str) -> str:
    """The sha256 hex digest of a secret: the only form a key is stored in."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def parse_role(value: str | Role) -> Role:
    """A Role from its name; ValueError naming the `role` field otherwise."""
    try:
        return Role(value)
    except ValueError:
        raise ValueError(f"role: {value!r} is not one of {', '.join(r.value for r in Role)}") from None


def _check_scopes(role: Role, scopes: Iterable[str]) -> list[str]:
    out = sorted(set(scopes))
    unknown = [s for s in out if s not in KNOWN_SCOPES]
    if unknown:
        raise ValueError(f"scope: unknown {unknown[0]!r}; known scopes: {', '.join(sorted(KNOWN_SCOPES))}")
    if role is Role.STOREFRONT and USERS_READ in out:  # a storefront key is public by nature
        raise ValueError(f"scope: {USERS_READ!r} cannot be given to a storefront key (browsers hold it)")
    return out


def _insert(engine: Engine, role: Role, secret: str, scopes: Sequence[str], label: str) -> str:
    if len(label) > 200:
        raise ValueError("label: longer than 200 characters")
    key_id = "key_" + secrets.token_hex(8)
    with engine.begin() as conn:
        conn.execute(insert(api_keys).values(id=key_id, hash=hash_secret(secret), role=role.value, scopes=orjson.dumps(list(scopes)).decode(),
                                             label=label, created_at=time.time(), revoked_at=None))
    return key_id


def create(engine: Engine, role: str | Role, scopes: Iterable[str] = (), label: str = "") -> tuple[str, str]:
    """Make a key; return (key_id, secret). The secret is shown here once and never stored."""
    role = parse_role(role)
    checked = _check_scopes(role, scopes)
    secret = f"sm_{role.value}_{secrets.token_urlsafe(32)}"
    return _insert(engine, role, secret, checked, label), secret


def revoke(engine: Engine, key_id: str) -> bool:
    """Revoke a key by id: True if it was active, False if already revoked; UnknownKey if no such key."""
    with engine.begin() as conn:
        done = conn.execute(update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=time.time())).rowcount
        if done:
            return True
        if conn.execute(select(api_keys.c.id).where(api_keys.c.id == key_id)).first() is None:
            raise UnknownKey(f"key_id: no key {key_id!r}")
    return False


def list_keys(engine: Engine, include_revoked: bool = True) -> list[dict[str, Any]]:
    """Every key's id, role, scopes, label and dates, oldest first; never a secret or a hash."""
    cols = [api_keys.c.id, api_keys.c.role, api_keys.c.scopes, api_keys.c.label, api_keys.c.created_at, api_keys.c.revoked_at]
    q = select(*cols).order_by(api_keys.c.created_at, api_keys.c.id)
    if not include_revoked:
        q = q.where(api_keys.c.revoked_at.is_(None))
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [{**{str(k): v for k, v in r.items()}, "scopes": orjson.loads(r["scopes"] or "[]"), "active": r["revoked_at"] is None} for r in rows]


def count(engine: Engine) -> int:
    """How many keys the store holds, revoked ones included (zero: a shop that never had keys)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(api_keys)).scalar_one())


def lookup_hash(engine: Engine, digest: str) -> Principal | None:
    """The active key with this sha256 digest as a Principal, or None (unknown or revoked)."""
    with engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.hash == digest, api_keys.c.revoked_at.is_(None))).mappings().first()
    if row is None or not hmac.compare_digest(row["hash"], digest):
        return None
    return Principal(key_id=row["id"], role=Role(row["role"]), scopes=frozenset(orjson.loads(row["scopes"] or "[]")))


def lookup(engine: Engine, secret: str) -> Principal | None:
    """The active key this secret opens, or None."""
    return lookup_hash(engine, hash_secret(secret))


def _configured_digest(entry: str, where: str) -> str:
    if entry.startswith(HASH_PREFIX):
        digest = entry[len(HASH_PREFIX):].strip().lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"{where}: a '{HASH_PREFIX}' key needs 64 hex digits after the prefix")
        return digest
    if not entry:
        raise ValueError(f"{where}: an empty key")
    return hash_secret(entry)


class KeyRing:
    """What a running server accepts: keys from settings, then the store's (looked up, cached ≤ 2 s)."""

    def __init__(self, engine: Engine, configured: Mapping[Role, Sequence[str]] | None = None, *, home: Path | None = None,
                 browser_keys: Sequence[str] = (), ttl: float = CACHE_TTL_S, maxsize: int = 4096) -> None:
        self.engine = engine
        self.home = home
        self._configured: list[tuple[str, Principal]] = []
        for role, entries in (configured or {}).items():
            for n, entry in enumerate(entries):
                digest = _configured_digest(entry, f"api.{_SETTING[role]}[{n}]")
                self._configured.append((digest, Principal(key_id=f"config:{role.value}:{digest[:8]}", role=role)))
        self._browser_keys = list(browser_keys)
        self._cache: TTLCache[str, Principal | None] = TTLCache(maxsize=maxsize, ttl=ttl)
        self._lock = threading.Lock()
        self.generated: dict[str, str] | None = None  # set when this start generated the demo keys

    @property
    def has_configured(self) -> bool:
        """Whether settings name any key (deployments); then no demo keys are generated."""
        return bool(self._configured)

    def resolve(self, secret: str) -> Principal | None:
        """The principal a secret opens, or None for an unknown or revoked key."""
        digest = hash_secret(secret)
        found = None
        for known, principal in self._configured:  # no early exit: the time taken does not say which matched
            if hmac.compare_digest(known, digest):
                found = principal
        if found is not None:
            return found
        with self._lock:
            if digest in self._cache:
                return self._cache[digest]
        looked = lookup_hash(self.engine, digest)
        with self._lock:
            self._cache[digest] = looked
        return looked

    def browser_key(self) -> str | None:
        """The storefront key /web/config.js hands to browsers (public by definition), if one is known in plaintext."""
        candidates = list(self._browser_keys)
        if self.home is not None:
            candidates += read_keys_file(self.home).get("storefront", [])
        for secret in candidates:
            principal = self.resolve(secret)
            if principal is not None and principal.role is Role.STOREFRONT:
                return secret
        return None

    def bootstrap(self) -> dict[str, str] | None:
        """A shop with no keys at all gets an admin and a storefront key, written once to <home>/api_keys.json."""
        if self.has_configured or self.home is None or count(self.engine):
            return None
        path = self.home / KEYS_FILE
        old = read_keys_file(self.home)
        if old:  # a file an earlier version wrote in plaintext: adopt its keys (hashed), keep the file
            for role, secrets_ in old.items():
                for secret in secrets_:
                    _insert(self.engine, Role(role), secret, [], label="adopted from api_keys.json")
            log.info("adopted %d keys from %s into the key store", sum(map(len, old.values())), path)
            return None
        admin_id, admin = create(self.engine, Role.ADMIN, label="generated on first start")
        front_id, front = create(self.engine, Role.STOREFRONT, label="generated on first start (browsers)")
        data = {"admin": [admin], "storefront": [front], "ids": {"admin": admin_id, "storefront": front_id}}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
        path.chmod(0o600)
        self.generated = {"admin": admin, "storefront": front, "file": str(path)}
        log.warning("no API keys configured: generated an admin and a storefront key into %s (mode 0600)", path)
        return self.generated


_SETTING = {Role.ADMIN: "admin_keys", Role.STOREFRONT: "public_keys", Role.INGEST: "ingest_keys", Role.ANALYST: "analyst_keys"}


def read_keys_file(home: Path) -> dict[str, list[str]]:
    """Plaintext keys in <home>/api_keys.json by role ("public" read as "storefront"); {} if there is none."""
    path = home / KEYS_FILE
    if not path.is_file():
        return {}
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        log.warning("%s is not valid JSON; ignored", path)
        return {}
    out: dict[str, list[str]] = {}
    for name, role in (("admin", "admin"), ("storefront", "storefront"), ("public", "storefront")):
        values = data.get(name, [])
        if isinstance(values, list):
            out.setdefault(role, []).extend(str(v) for v in values if v)
    return {k: v for k, v in out.items() if v}


def keyring_for(engine: Engine, api: Any, home: Path | None) -> KeyRing:
    """The KeyRing a server uses: settings' keys by role (api.admin_keys, public_keys, ingest_keys, analyst_keys)."""
    configured = {role: list(getattr(api, name, []) or []) for role, name in _SETTING.items()}
    browser = [k for k in configured[Role.STOREFRONT] if not k.startswith(HASH_PREFIX)]
    return KeyRing(engine, configured, home=home, browser_keys=browser)

"""Settings: defaults, then `<home>/shopmind.toml`, then `SHOPMIND_*` environment variables.

Env vars address nested keys with double underscores: `SHOPMIND_STORE__URL=postgresql://…`,
`SHOPMIND_API__ADMIN_KEYS='["k1"]'` (JSON values are parsed, anything else is a string).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from shopmind.profiles.state import StateConfig

ENV_PREFIX = "SHOPMIND_"
CONFIG_FILE = "shopmind.toml"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreSettings(Section):
    url: str | None = Field(default=None, description="SQLAlchemy URL; default sqlite:///<home>/shop.db")
    sqlite_synchronous: str = Field(default="FULL", pattern="^(OFF|NORMAL|FULL|EXTRA)$")
    pool_size: int = Field(default=5, ge=1, le=100)


class ImportSettings(Section):
    batch_size: int = Field(default=10_000, ge=1, le=1_000_000)
    workers: int = Field(default=2, ge=1, le=64, description="processes validating large JSONL event files (1: in-process)")
    pool_min_bytes: int = Field(default=8 * 1024 * 1024, ge=0, description="files smaller than this are not worth starting workers")


class Rate(Section):
    """A token bucket: refills `rate` requests per second, holds at most `burst` (the most sent at once)."""

    rate: float = Field(gt=0, le=1_000_000)
    burst: int = Field(ge=1, le=1_000_000)


def _network(value: str) -> str:
    """An IP address or CIDR block ('10.0.0.0/8'), checked when settings load rather than per request."""
    import ipaddress

    ipaddress.ip_network(value, strict=False)
    return value


ProxyNetwork = Annotated[str, AfterValidator(_network)]


def _rate(rate: float, burst: int) -> Any:
    return Field(default_factory=lambda: Rate(rate=rate, burst=burst))


class KeyRates(Section):
    """Per API key and route group (null: no limit). A storefront key is shared by every visitor: these bound the shop's total."""

    events: Rate | None = _rate(2000, 4000)
    search: Rate | None = _rate(300, 600)
    suggest: Rate | None = _rate(600, 1200)
    recommend: Rate | None = _rate(500, 1000)
    chat: Rate | None = _rate(30, 60)
    ads: Rate | None = _rate(500, 1000)


class IpRates(Section):
    """Per client IP and route group (null: no limit): what one visitor (or one NAT) may send."""

    events: Rate | None = _rate(20, 100)
    search: Rate | None = _rate(5, 20)
    suggest: Rate | None = _rate(15, 50)
    recommend: Rate | None = _rate(10, 40)
    chat: Rate | None = _rate(1, 5)
    ads: Rate | None = _rate(10, 40)


class RateLimitSettings(Section):
    """`[api.rate_limits]`: 429 + Retry-After once a key's or an IP's bucket is empty (in-process, per worker)."""

    enabled: bool = True
    exempt_roles: list[str] = Field(default_factory=lambda: ["admin"], description="roles never limited")
    max_buckets: int = Field(default=100_000, ge=100, description="buckets kept (least recently used go first): bounds memory")
    per_key: KeyRates = Field(default_factory=KeyRates)
    per_ip: IpRates = Field(default_factory=IpRates)


class ApiSettings(Section):
    admin_keys: list[str] = Field(default_factory=list, description="admin keys (may do anything); plaintext or 'sha256:<hex>'")
    public_keys: list[str] = Field(default_factory=list, description="storefront keys (search, recommend, ads, chat, send events); public by nature")
    ingest_keys: list[str] = Field(default_factory=list, description="ingest keys (write events, products, users in bulk)")
    analyst_keys: list[str] = Field(default_factory=list, description="analyst keys (stats, reports, ads reports; read-only)")
    open_reads: bool = Field(default=True, description="catalog reads (products, search, suggest, trending, recommend, ads, chat) need no key; personal data always does")
    demo_shoppers: int = Field(default=0, ge=0, le=200, description="the storefront's shopper picker offers this many user ids (a demo aid; 0 in production)")
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_batch: int = Field(default=10_000, ge=1)
    cors_origins: list[str] = Field(default_factory=list)
    trusted_proxies: list[ProxyNetwork] = Field(default_factory=list, description="proxy IPs/CIDRs whose X-Forwarded-For names the client (rate limits)")
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1)


class Settings(Section):
    """All settings. Sections owned by later capabilities are free-form until they validate them."""

    model_config = ConfigDict(extra="allow")

    store: StoreSettings = Field(default_factory=StoreSettings)
    imports: ImportSettings = Field(default_factory=ImportSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    state: StateConfig = Field(default_factory=StateConfig)
    search: dict[str, Any] = Field(default_factory=dict)
    recommend: dict[str, Any] = Field(default_factory=dict)
    ads: dict[str, Any] = Field(default_factory=dict)
    assistant: dict[str, Any] = Field(default_factory=dict)


class ConfigError(ValueError):
    """Settings that do not validate; the message names the source and the key."""


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "HOME":
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        if len(path) < 2:  # top-level SHOPMIND_X vars (HOME, SHARED_DATA…) are not settings
            continue
        try:
            value: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = raw
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def load_settings(home: Path, overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read settings for a home folder; raise ConfigError naming the bad key."""
    data: dict[str, Any] = {}
    file = home / CONFIG_FILE
    if file.is_file():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: {exc}") from exc
    data = _merge(data, _env_overrides(dict(os.environ if environ is None else environ)))
    data = _merge(data, overrides or {})
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings ({file} / {ENV_PREFIX}* env): {problems}") from exc


def default_home() -> Path:
    """`SHOPMIND_HOME`, else ./shop."""
    return Path(os.environ.get(ENV_PREFIX + "HOME", "shop"))

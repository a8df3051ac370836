"""Settings: defaults < `<home>/shopmind.toml` < `SHOPMIND_*` environment variables < overrides from code.

Strict: an unknown section or key — in the file, in an env var, in a part's section (`[search]`, `[recommend]`,
`[ads]`, `[assistant]`, checked against that part's config class) — is a ConfigError naming the key and where it
came from. Env vars address nested keys with double underscores: `SHOPMIND_STORE__URL=postgresql://…`,
`SHOPMIND_API__ADMIN_KEYS='["k1"]'` (lists and tables as JSON). Loading is pydantic-settings.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from shopmind.profiles.config import StateConfig

ENV_PREFIX = "SHOPMIND_"
CONFIG_FILE = "shopmind.toml"

# a part's section → the config class that validates it (imported only when the section is present)
PART_SECTIONS: dict[str, str] = {
    "search": "shopmind.search.config:SearchConfig",
    "recommend": "shopmind.recommend.config:RecommendConfig",
    "ads": "shopmind.ads.model:AdsConfig",
    "assistant": "shopmind.assistant.config:AssistantConfig",
}


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
    # Off by default: the models learned retail product titles (Amazon, AliExpress, JD) and label other catalogs
    # (the demo's films) poorly, so a shop opts in.
    enrich: bool = Field(default=False, description="extract attribute values from titles at import (attributes_extracted)")


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
    """`[api.rate_limits]`: 429 + Retry-After once a key's or an IP's bucket is empty (buckets in `cluster.shared_url`)."""

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


class ClusterSettings(Section):
    """`[cluster]`: what API workers and hosts share beyond the store (docs/scaling.md). The defaults are one process:
    in-process shared state, artifacts under the home, builds in this process."""

    shared_url: str = Field(default="memory://", description="rate limits, frequency caps and chat sessions shared by every "
                            "worker: memory:// (this process only) or redis://host:6379/0")
    artifacts_url: str | None = Field(default=None, description="where built versions live: default <home>/artifacts; a path "
                                      "every host mounts, or s3://bucket/prefix (S3-compatible; endpoint from AWS_ENDPOINT_URL)")
    follow_interval_s: float = Field(default=1.0, gt=0, le=60, description="how often a worker looks for versions promoted "
                                     "and catalog changes made by other workers or hosts")
    auto_promote: bool = Field(default=True, description="a finished build is promoted at once (false: it waits for "
                               "`shopmind models promote`)")
    secret: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$", description="the shop secret shared by every host (ad tokens, deletion receipts): "
                               "64 hex characters; default: made once in <home>/shop_secret")


def _interval(value: str | None) -> str | None:
    """An interval such as '90s', '30m', '6h' or '1d' (checked when settings load)."""
    if value is not None:
        interval_seconds(value)
    return value


def interval_seconds(value: str) -> float:
    """'90s' / '30m' / '6h' / '1d' → seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if len(value) < 2 or value[-1] not in units or not value[:-1].replace(".", "", 1).isdigit() or float(value[:-1]) <= 0:
        raise ValueError(f"an interval like '30m', '6h' or '1d', not {value!r}")
    return float(value[:-1]) * units[value[-1]]


class TrainingSettings(Section):
    """`[training]`: continuous training (shopmind.facade.training). Builds on a schedule or after N new events, in one
    process of the cluster at a time, and promotes a version only when no gated offline metric regresses."""

    enabled: bool = Field(default=False, description="`shopmind serve` runs the trainer loop in a background thread")
    schedule: Annotated[str | None, AfterValidator(_interval)] = Field(
        default=None, description="build every interval ('6h', '1d'); calendars belong to the k8s CronJob (`shopmind train`)")
    after_events: int | None = Field(default=None, ge=1, description="build once this many events arrived since the last build")
    min_events: int = Field(default=1, ge=0, description="new events a scheduled build needs (an idle shop is not rebuilt)")
    parts: list[str] = Field(default_factory=lambda: ["search", "recommend", "ads"])
    executor: Literal["local", "ray"] = Field(default="local", description="ray: the build runs as Ray tasks (cluster extra)")
    check_interval_s: float = Field(default=60.0, gt=0, le=86400, description="how often the loop checks whether a build is due")
    drift_interval_s: float = Field(default=60.0, gt=0, le=86400, description="how often each API worker refreshes the drift figures")
    tolerance: dict[str, float] = Field(
        default_factory=lambda: {"search:valid_ndcg": 0.02, "recommend:best.ndcg@10": 0.05, "recommend:placement.*.ndcg@10": 0.05,
                                 "ads:ctr.oof_auc": 0.02, "ads:ctr.oof_calibration_error": 0.5},
        description="'part:metric' (fnmatch over meta.json's metrics) → allowed relative regression; unlisted metrics are not gated")


class LoggingSettings(Section):
    """`[logging]`: the root level and the line format (`json`: one object a line, for log collectors)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["text", "json"] = "text"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class ConfigError(ValueError):
    """Settings that do not validate; the message names the key and where it came from."""


# where load_settings reads from: (toml file or None, environment); Settings() alone reads os.environ only
_SOURCES: ContextVar[tuple[Path | None, Mapping[str, str]] | None] = ContextVar("shopmind_settings_sources", default=None)


class _Env(EnvSettingsSource):
    """The env source over a given mapping (tests pass one) instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._environ.items()}


def _json_values(section: dict[str, Any]) -> dict[str, Any]:
    """Env values arrive as strings: a part section's JSON lists/tables become values (the file gives them typed)."""
    out: dict[str, Any] = {}
    for key, value in section.items():
        if isinstance(value, dict):
            value = _json_values(value)
        elif isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(orjson.JSONDecodeError):
                value = orjson.loads(value)
        out[key] = value
    return out


class Settings(BaseSettings):
    """All settings; part sections are kept as tables and validated by their part's config class at load."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", case_sensitive=False)

    store: StoreSettings = Field(default_factory=StoreSettings)
    imports: ImportSettings = Field(default_factory=ImportSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    state: StateConfig = Field(default_factory=StateConfig)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    search: dict[str, Any] = Field(default_factory=dict)
    recommend: dict[str, Any] = Field(default_factory=dict)
    ads: dict[str, Any] = Field(default_factory=dict)
    assistant: dict[str, Any] = Field(default_factory=dict)

    @field_validator(*PART_SECTIONS, mode="after")
    @classmethod
    def _part_section(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _json_values(value)

    def check_parts(self) -> list[dict[str, Any]]:
        """Validate each part section present against its part's config class; the errors, located from the root."""
        errors: list[dict[str, Any]] = []
        for section, path in PART_SECTIONS.items():
            value = getattr(self, section)
            if not value:
                continue
            module, _, name = path.partition(":")
            try:
                getattr(importlib.import_module(module), name).model_validate(value)
            except ValidationError as exc:
                errors += [{**e, "loc": (section, *e["loc"])} for e in exc.errors()]
        return errors

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource, env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource, file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Highest priority first: overrides from code, env vars, the TOML file (defaults last)."""
        file, environ = _SOURCES.get() or (None, os.environ)
        sources: list[PydanticBaseSettingsSource] = [init_settings, _Env(settings_cls, environ)]
        if file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=file))
        return tuple(sources)


@contextmanager
def _reading(file: Path | None, environ: Mapping[str, str]) -> Iterator[None]:
    token = _SOURCES.set((file, environ))
    try:
        yield
    finally:
        _SOURCES.reset(token)


def _has(data: Any, path: tuple[Any, ...]) -> bool:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def _origin(loc: tuple[Any, ...], file: Path, file_data: dict[str, Any], env: dict[str, str], overrides: dict[str, Any]) -> str:
    """Where the value at `loc` came from, highest priority first (the source that won)."""
    key = tuple(str(p) for p in loc)
    if _has(overrides, key):
        return "overrides from code"
    for name in env:
        path = tuple(name[len(ENV_PREFIX) :].lower().split("__"))
        if key[: len(path)] == path:
            return f"env {name}"
    if _has(file_data, key):
        return str(file)
    for n in range(len(key) - 1, 0, -1):  # a table given whole (a JSON env value, an override dict)
        if _has(overrides, key[:n]):
            return "overrides from code"
        if any(name[len(ENV_PREFIX) :].lower() == "__".join(key[:n]) for name in env):
            return f"env {ENV_PREFIX}{'__'.join(key[:n]).upper()}"
        if _has(file_data, key[:n]):
            return str(file)
    return "defaults"


def load_settings(home: Path, overrides: dict[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings for a home folder; raise ConfigError naming the bad key and its file or env var."""
    file = home / CONFIG_FILE
    environ = dict(os.environ if environ is None else environ)
    file_data: dict[str, Any] = {}
    if file.is_file():
        try:
            file_data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: {exc}") from exc
    env = {k: v for k, v in environ.items() if k.upper().startswith(ENV_PREFIX) and k != ENV_PREFIX + "HOME"}
    known = set(Settings.model_fields)
    for name in env:  # pydantic-settings skips env vars naming no field: a typo there would go unnoticed
        section = name[len(ENV_PREFIX) :].split("__", 1)[0].lower()
        if "__" in name and section not in known:  # SHOPMIND_HOME, SHOPMIND_CACHE … (no "__") are not settings
            raise ConfigError(f"unknown settings section {section!r} (env {name}); known: {', '.join(sorted(known))}")
    errors: Sequence[Mapping[str, Any]]  # pydantic's ErrorDetails, or check_parts' dicts of the same keys
    try:
        with _reading(file if file.is_file() else None, environ):
            settings = Settings(**(overrides or {}))
        errors = settings.check_parts()
    except ValidationError as exc:
        errors = list(exc.errors())
    if errors:
        problems = [f"{'.'.join(map(str, e['loc']))}: {'unknown key' if e['type'] == 'extra_forbidden' else e['msg']} ({_origin(tuple(e['loc']), file, file_data, env, overrides or {})})" for e in errors]
        raise ConfigError("invalid settings: " + "; ".join(problems))
    return settings


def default_home() -> Path:
    """`SHOPMIND_HOME`, else ./shop."""
    return Path(os.environ.get(ENV_PREFIX + "HOME", "shop"))

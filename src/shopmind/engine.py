"""The facade: `ShopMind.open(home)` wires config, store, indexes and models; CLI and API call only this.

A home folder holds everything a shop needs: `shopmind.toml`, the embedded store (`shop.db`) unless the
config names a server, and built artifacts under `artifacts/<part>/<version>/` with a `current` pointer.
"""

from __future__ import annotations

import importlib
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import orjson

from shopmind.config import Settings, default_home, load_settings
from shopmind.domain import Event, Product, User
from shopmind.errors import NotBuilt
from shopmind.importer import ImportReport, OnError, import_file
from shopmind.profiles.profile import UserProfile, build_profile
from shopmind.profiles.state import ItemMeta, OnlineState
from shopmind.security.deletion import DeletionFollower, last_deletion_seq, scrub_fresh_build
from shopmind.security.deletion import delete_user as _delete_user
from shopmind.store import SqlStore, open_store


class Part(Protocol):
    """A built capability (search index, recommenders…): made from a store snapshot, loaded read-only."""

    @classmethod
    def build(cls, products: Sequence[Product], events: Any, out_dir: Path, config: Any) -> Part: ...

    @classmethod
    def load(cls, out_dir: Path, config: Any) -> Part: ...


# part name → (module, service class, config class); imported only when used
PARTS: dict[str, tuple[str, str, str]] = {
    "search": ("shopmind.search.service", "SearchService", "SearchConfig"),
    "recommend": ("shopmind.recommend.service", "RecommendService", "RecommendConfig"),
    "ads": ("shopmind.ads.model", "AdsModel", "AdsConfig"),
}


def _part_classes(name: str) -> tuple[type, type]:
    module_name, service, config = PARTS[name]
    module = importlib.import_module(module_name)
    return getattr(module, service), getattr(module, config)


def _item_meta(p: Product) -> ItemMeta:
    path = " > ".join(p.category)
    return ItemMeta(category=path, top=p.category[0] if p.category else "", brand=p.brand, price=p.price)


class Catalog:
    """Products: upsert, read, delete. Changes reach loaded indexes at once."""

    def __init__(self, shop: ShopMind) -> None:
        self._shop = shop

    def upsert(self, products: Iterable[Product | dict[str, Any]]) -> int:
        items = [p if isinstance(p, Product) else Product.model_validate(p) for p in products]
        n = self._shop.store.upsert_products(items)
        self._shop._notify_products(items)
        return n

    def get(self, product_id: str) -> Product | None:
        return self._shop.store.get_product(product_id)

    def get_many(self, ids: Iterable[str]) -> dict[str, Product]:
        return self._shop.store.get_products(ids)

    def delete(self, ids: Iterable[str]) -> int:
        ids = list(ids)
        n = self._shop.store.delete_products(ids)
        self._shop._notify_deleted(ids)
        return n

    def __iter__(self) -> Iterator[Product]:
        return self._shop.store.iter_products()


class Users:
    """User records (attributes used for cold start and segments)."""

    def __init__(self, shop: ShopMind) -> None:
        self._shop = shop

    def upsert(self, users: Iterable[User | dict[str, Any]]) -> int:
        return self._shop.store.upsert_users([u if isinstance(u, User) else User.model_validate(u) for u in users])

    def get(self, user_id: str) -> User | None:
        return self._shop.store.get_user(user_id)


class Events:
    """The event stream: every accepted event is stored before it is acknowledged."""

    def __init__(self, shop: ShopMind) -> None:
        self._shop = shop

    def track(self, event: Event | dict[str, Any]) -> bool:
        """Store one event; False if its id was already stored (a replay)."""
        return self.track_many([event]) == 1

    def track_many(self, events: Sequence[Event | dict[str, Any]]) -> int:
        """Store events in one transaction; return how many were new."""
        items = [e if isinstance(e, Event) else Event.model_validate(e) for e in events]
        new = self._shop.store.add_events(items)
        if new and self._shop._state is not None:
            self._shop.catch_up()
        if new and self._shop._ads is not None:  # ad impressions and clicks are charged at once (ledger: exactly once)
            self._shop._ads.ingest(items)
        return new


class ShopMind:
    """One shop: its store, settings and built artifacts."""

    def __init__(self, home: Path, settings: Settings, store: SqlStore) -> None:
        self.home = home
        self.settings = settings
        self.store = store
        self.catalog = Catalog(self)
        self.users = Users(self)
        self.events = Events(self)
        self._lock = threading.RLock()
        self._services: dict[str, Any] = {}
        self._state: OnlineState | None = None
        self._state_lock = threading.Lock()
        self._assistant: Any = None
        self._ads: Any = None
        self._forecast: Any = None
        self._deletions = DeletionFollower(self)  # forgets users another process deleted (polled from the request path)

    # -- opening -----------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path_or_url: str | os.PathLike[str] | None = None, **overrides: Any) -> ShopMind:
        """Open a shop from a home folder (created if missing) or a store URL (home from SHOPMIND_HOME)."""
        target = str(path_or_url) if path_or_url is not None else None
        if target and "://" in target:
            home = default_home()
            overrides = {**overrides, "store": {**overrides.get("store", {}), "url": target}}
        else:
            home = Path(target) if target else default_home()
        home = home.expanduser().resolve()
        home.mkdir(parents=True, exist_ok=True)
        settings = load_settings(home, overrides)
        url = settings.store.url or f"sqlite:///{home / 'shop.db'}"
        store = open_store(url, sqlite_synchronous=settings.store.sqlite_synchronous, pool_size=settings.store.pool_size)
        return cls(home, settings, store)

    def close(self) -> None:
        self._deletions.close()
        self.store.close()

    def __enter__(self) -> ShopMind:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- data --------------------------------------------------------------------------------------------
    def import_file(
        self,
        kind: str,
        path: str | os.PathLike[str],
        *,
        fmt: str | None = None,
        on_error: OnError | str = OnError.FAIL,
        batch_size: int | None = None,
        report_path: str | os.PathLike[str] | None = None,
        workers: int | None = None,
    ) -> ImportReport:
        """Bulk-import a JSONL/CSV/Parquet file of products, users or events (see importer)."""
        cfg = self.settings.imports
        if workers is None:
            workers = cfg.workers if Path(path).stat().st_size >= cfg.pool_min_bytes else 1
        return import_file(
            self.store,
            kind,
            Path(path),
            fmt=fmt,
            on_error=OnError(on_error),
            batch_size=batch_size or self.settings.imports.batch_size,
            report_path=Path(report_path) if report_path else None,
            on_batch=self._on_import_batch,
            workers=workers,
        )

    def stats(self) -> dict[str, Any]:
        """Counts of what the shop holds, plus what is built."""
        out: dict[str, Any] = dict(self.store.counts())
        out["event_types"] = self.store.event_type_counts()
        out["schema_version"] = self.store.schema_version()
        out["home"] = str(self.home)
        out["store"] = self.store.dialect
        out["artifacts"] = {part: self.artifact_version(part) for part in self._artifact_parts() if self.artifact_version(part)}
        return out

    # -- online state --------------------------------------------------------------------------------------
    @property
    def state(self) -> OnlineState:
        """Online state (profiles, counters, trending), built from the event log on first use."""
        self._deletions.maybe_poll()
        if self._state is None:
            with self._state_lock:
                if self._state is None:
                    state = self._new_state()
                    self._catch_up(state)
                    self._state = state
        else:
            self.catch_up()
        return self._state

    def _new_state(self) -> OnlineState:
        return OnlineState(self.settings.state, {p.id: _item_meta(p) for p in self.store.iter_products()})

    def catch_up(self) -> int:
        """Apply events stored since the state last looked (by anyone: API, importer, another process)."""
        if self._state is None:
            return 0
        with self._state_lock:
            return self._catch_up(self._state)

    def _catch_up(self, state: OnlineState) -> int:
        applied = 0
        while True:
            rows = self.store.events_since(state.last_seq)
            if not rows:
                return applied
            seq, types, users, sessions, items, queries, ts, qty, price, ctx = zip(*rows)
            ips = [orjson.loads(c).get("ip") if '"ip"' in c else None for c in ctx]
            applied += state.apply_rows(seq, types, users, sessions, items, queries, ts, qty, price, ips)

    def rebuild_state(self) -> dict[str, Any]:
        """Recompute online state from the whole event log and swap it in."""
        started = time.perf_counter()
        state = self._new_state()
        n = self._catch_up(state)
        with self._state_lock:
            self._state = state
            n += self._catch_up(state)
        return {"events": n, "users": len(state.users), "items": len(state.counters.ids), "flagged_users": len(state.flagged_users()), "seconds": round(time.perf_counter() - started, 2)}

    def profile(self, user_id: str) -> UserProfile:
        """The user's profile: interests, segment, activity, heat, value, churn risk — explained."""
        state = self.state
        titles = self.store.get_products([r[0] for r in state.users[user_id].recent] if user_id in state.users else [])
        return build_profile(state, user_id, lambda i: titles[i].title if i in titles else None)

    def user_vector(self, user_id: str, n: int = 20, half_life: float = 5.0) -> np.ndarray | None:
        """The user's taste as one unit vector: recency-weighted mean embedding of their latest items."""
        items = self.state.history(user_id, n)
        search = self.service("search")
        rows = [search.table.row_of[i] for i in items if i in search.table.row_of]
        if not rows or search.vectors is None:
            return None
        index = search.vectors
        matrix = np.concatenate([index.vectors, index.delta]) if len(index.delta) else index.vectors  # delta: upserts since build
        weights = 0.5 ** (np.arange(len(rows))[::-1] / half_life)  # the newest item weighs 1
        vec = (matrix[np.array(rows)] * weights[:, None]).sum(axis=0)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else None

    def report(self, name: str, **options: Any) -> Any:
        """A behaviour report over the event log (bots excluded): funnel, rfm, cohorts, queries, items."""
        from shopmind.profiles import analytics

        if name not in analytics.REPORTS:
            raise ValueError(f"unknown report {name!r}; use one of {', '.join(analytics.REPORTS)}")
        events = analytics._exclude(self.store.scan_events(), set(self.state.flagged_users()))
        if name == "funnel":
            return analytics.funnel(events, {i: m.top for i, m in self.state.items.items()}, **options)
        if name == "items":
            return analytics.items(events, {p.id: p.title for p in self.store.iter_products()}, **options)
        return getattr(analytics, name)(events, **options)

    def delete_user(self, user_id: str) -> dict[str, Any]:
        """Remove a user everywhere — record, events, state, loaded services, every built artifact version — and
        write a receipt (no ids) that other processes follow; returns counts per place and `receipt_id`."""
        return _delete_user(self, user_id)

    # -- build and serve parts ---------------------------------------------------------------------------
    def part_config(self, name: str) -> Any:
        _, config_cls = _part_classes(name)
        return config_cls.model_validate(getattr(self.settings, name, None) or {})

    def build(self, parts: Iterable[str] | None = None) -> dict[str, Any]:
        """Build parts (default: all) from a snapshot of the store as new artifact versions, then swap."""
        names = list(parts) if parts is not None else list(PARTS)
        unknown = [n for n in names if n not in PARTS]
        if unknown:
            raise ValueError(f"unknown part(s) {unknown}; known: {', '.join(PARTS)}")
        deleted_seq = last_deletion_seq(self.store.engine)  # deletions after this are scrubbed before publishing
        last_seq = self.store.last_event_seq()
        products = list(self.store.iter_products())
        events = self.store.scan_events()
        flagged = self.state.flagged_users()
        if flagged and events.num_rows:  # bots' events stay in the store but never train a model
            import pyarrow as pa
            import pyarrow.compute as pc

            events = events.filter(pc.invert(pc.is_in(events["user_id"], pa.array(sorted(flagged)))))
        summary: dict[str, Any] = {"products": len(products), "events": events.num_rows, "excluded_bot_users": len(flagged)}
        for name in names:
            service_cls, _ = _part_classes(name)
            started = time.perf_counter()
            version, out_dir = self.new_artifact_dir(name)
            try:
                service = service_cls.build(products, events, out_dir, self.part_config(name))
                (out_dir / "snapshot.json").write_bytes(orjson.dumps({"last_seq": last_seq, "products": len(products), "events": events.num_rows}))
                scrub_fresh_build(self, name, out_dir, service, deleted_seq)
            except BaseException:
                shutil.rmtree(out_dir, ignore_errors=True)
                raise
            self.publish_artifact(name, version)
            with self._lock:
                self._services[name] = service
            summary[name] = {"version": version, "seconds": round(time.perf_counter() - started, 2)}
        return summary

    def service(self, name: str) -> Any:
        """The loaded part, read from its current artifact on first use."""
        self._deletions.maybe_poll()
        with self._lock:
            if name not in self._services:
                version = self.artifact_version(name)
                if version is None:
                    raise NotBuilt(f"{name} is not built yet: run `shopmind build` (or ShopMind.build())")
                service_cls, _ = _part_classes(name)
                self._services[name] = service_cls.load(self.artifacts_dir(name) / version, self.part_config(name))
            return self._services[name]

    # -- the four questions ------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        filters: dict[str, Any] | None = None,
        facets: list[str] | None = None,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 20,
        explain: bool = True,
        track: bool = False,
        session_id: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> Any:
        """Search the catalog (see search.service); `track` logs the search event with its result count."""
        response = self.service("search").search(
            query, user_id=user_id, filters=filters, facets=facets, sort=sort, page=page, per_page=per_page, explain=explain
        )
        if track and user_id:
            self.events.track({"type": "search", "user_id": user_id, "session_id": session_id, "query": query, "context": {**(context or {}), "results": response.total}})
        return response

    def recommend(
        self,
        *,
        user_id: str | None = None,
        placement: str = "home",
        item_id: str | None = None,
        cart: list[str] | None = None,
        k: int = 20,
        context: dict[str, Any] | None = None,
    ) -> Any:
        """Recommendations for a placement; events the models have not seen yet are passed in fresh."""
        service = self.service("recommend")
        history = self.state.history_since(user_id, self.snapshot_seq("recommend")) if user_id else None
        purchased = self.state.purchased(user_id) if user_id else None
        return service.recommend(user_id=user_id, placement=placement, item_id=item_id, cart=cart, k=k, context=context,
                                 history=history, purchased=purchased)

    @property
    def assistant(self) -> Any:
        """The shopping assistant over this shop's search, recommendations, catalog and FAQ (made on first use)."""
        with self._lock:
            if self._assistant is None:
                from shopmind.assistant.assistant import Assistant

                self._assistant = Assistant.from_shop(self)
            return self._assistant

    def chat(self, session_id: str, message: str, user_id: str | None = None, product_id: str | None = None) -> Any:
        """One turn of the grounded, multi-turn shopping assistant."""
        return self.assistant.chat(session_id, message, user_id=user_id, product_id=product_id)

    @property
    def ads_service(self) -> Any:
        """Campaigns, auctions, pacing and spend for this shop (made on first use; holds pacing state)."""
        with self._lock:
            if self._ads is None:
                from shopmind.ads.service import AdsService

                self._ads = AdsService.from_shop(self)
            return self._ads

    @property
    def forecast_service(self) -> Any:
        """Demand forecasts, rising lists, stock-out alerts and price what-ifs (made on first use; caches fits)."""
        with self._lock:
            if self._forecast is None:
                from shopmind.forecast.service import ForecastService

                self._forecast = ForecastService(self)
            return self._forecast

    def ads(self, placement: str, *, user_id: str | None = None, query: str | None = None, item_id: str | None = None,
            k: int = 2, context: dict[str, Any] | None = None) -> Any:
        """Sponsored products for a slot: pCTR × bid auction with GSP prices, pacing and a relevance floor."""
        return self.ads_service.select(placement, user_id=user_id, query=query, item_id=item_id, k=k, context=context)

    def snapshot_seq(self, part: str) -> int:
        """The last event log position the part's current artifact was built from."""
        version = self.artifact_version(part)
        file = self.artifacts_dir(part) / version / "snapshot.json" if version else None
        return int(orjson.loads(file.read_bytes())["last_seq"]) if file is not None and file.is_file() else 0

    def suggest(self, prefix: str, k: int = 10) -> list[str]:
        """Completions for a prefix, from titles and popular queries."""
        return self.service("search").suggest(prefix, k)

    # -- artifacts ---------------------------------------------------------------------------------------
    def artifacts_dir(self, part: str) -> Path:
        return self.home / "artifacts" / part

    def _artifact_parts(self) -> list[str]:
        root = self.home / "artifacts"
        return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []

    def artifact_version(self, part: str) -> str | None:
        pointer = self.artifacts_dir(part) / "current"
        return pointer.read_text().strip() if pointer.is_file() else None

    def artifacts(self) -> dict[str, Any]:
        """Every part's versions with their meta.json (config, counts, offline metrics)."""
        out: dict[str, Any] = {}
        for part in self._artifact_parts():
            versions = []
            for d in sorted((p for p in self.artifacts_dir(part).iterdir() if p.is_dir()), reverse=True):
                meta_file = d / "meta.json"
                meta = orjson.loads(meta_file.read_bytes()) if meta_file.is_file() else {}
                versions.append({"version": d.name, "meta": meta})
            out[part] = {"current": self.artifact_version(part), "versions": versions}
        return out

    def new_artifact_dir(self, part: str) -> tuple[str, Path]:
        version = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{os.getpid() % 1000:03d}"
        path = self.artifacts_dir(part) / version
        path.mkdir(parents=True, exist_ok=False)
        return version, path

    def publish_artifact(self, part: str, version: str, keep: int = 3) -> None:
        """Point `current` at a finished version atomically; keep the last few for rollback."""
        base = self.artifacts_dir(part)
        tmp = base / "current.tmp"
        tmp.write_text(version)
        tmp.replace(base / "current")
        versions = sorted(p for p in base.iterdir() if p.is_dir())
        for old in versions[:-keep]:
            if old.name != version:
                shutil.rmtree(old, ignore_errors=True)
        with self._lock:
            self._services.pop(part, None)

    def rollback(self, part: str, version: str) -> None:
        if not (self.artifacts_dir(part) / version).is_dir():
            raise ValueError(f"no {part} artifact version {version!r}")
        self.publish_artifact(part, version, keep=1_000_000)

    # -- hooks for derived state -------------------------------------------------------------------------
    def _notify_products(self, items: list[Product]) -> None:
        if self._state is not None:
            self._state.set_items((p.id, _item_meta(p)) for p in items)
        recs = self._services.get("recommend")
        if recs is not None:  # stock changes filter recommendations at once, without a rebuild
            for p in items:
                recs.set_stock(p.id, p.available)
        for service in list(self._services.values()):
            upsert = getattr(service, "upsert", None)
            if upsert is not None:
                upsert(items)

    def _notify_deleted(self, ids: list[str]) -> None:
        for service in list(self._services.values()):
            delete = getattr(service, "delete", None)
            if delete is not None:
                delete(ids)

    def _on_import_batch(self, kind: str, records: list[Any]) -> None:
        if kind == "products" and self._services:
            self._notify_products(records)

"""The shop's forecasting service: demand forecasts with intervals, rising lists, stock-out alerts, what-if.

Built on demand from the store (imported sales first, the shop's own events otherwise), one fit per level
serving every horizon up to MAX_HORIZON, kept while nothing new arrived or for `refresh_s`. Forecasts come
from the global LightGBM model when a level has enough history, from the naive model otherwise; intervals are
conformal, calibrated on a fit made CALIBRATION periods before the end. API calls never wait on a fit: the
first one starts it in a background thread and is answered 202.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from shopmind.errors import ForecastPending
from shopmind.forecast.backtest import Conformal, Protocol_, metrics, run_backtest
from shopmind.forecast.data import MAX_HORIZON, Panel, SalesDataError, extend
from shopmind.forecast.demand import demand_signal, event_demand, sales_panel
from shopmind.forecast.gbm import GBMForecaster
from shopmind.forecast.models import NaiveForecaster
from shopmind.forecast.signals import elasticities, rising, stockout_risk
from shopmind.ports import CatalogEvents
from shopmind.store.sales import sales_count, sales_frame

log = logging.getLogger(__name__)
__all__ = ["MAX_HORIZON", "ForecastPending", "ForecastService"]

MIN_PERIODS_GBM = 12  # below this many periods the global model has too few lags to learn from
CALIBRATION = 4  # periods held back to calibrate the intervals


class _Fitted:
    """A fitted model seen by the backtest as one that needs no (re)fit."""

    def __init__(self, model: Any) -> None:
        self.model, self.name, self.fit_seconds = model, model.name, 0.0

    def fit(self, panel: Panel, origin: int, leads: list[int]) -> _Fitted:
        """Already fitted."""
        return self

    def predict(self, panel: Panel, origin: int, leads: list[int]) -> np.ndarray:
        """The wrapped model's forecasts."""
        return self.model.predict(panel, origin, leads)


class ForecastService:
    """Forecasts for one open shop (see the module docstring)."""

    def __init__(self, store: CatalogEvents, item_meta: Callable[[], Mapping[str, Any]],
                 recommend: Callable[..., Any] | None = None, level_of_interval: float = 80.0, refresh_s: float = 600.0) -> None:
        """`item_meta()`: online state's item metadata (category top, brand); `recommend(placement=, item_id=, k=)`:
        the facade's recommend, for in-stock substitutes (raises while it is not built)."""
        self.store = store
        self._item_meta = item_meta
        self._recommend = recommend
        self.level = level_of_interval
        self._cache: dict[tuple, Any] = {}
        self._lock = threading.Lock()
        self._compute_lock = threading.Lock()  # one fit at a time: the box's cores are shared with serving
        self._running: set[tuple] = set()
        self._failed: dict[tuple, tuple[tuple[int, int], SalesDataError]] = {}  # key → (data version, why it cannot fit)
        self.refresh_s = refresh_s

    def _version(self) -> tuple[int, int]:
        return (self.store.last_event_seq(), sales_count(self.store))

    def panel(self, level: str = "item", freq: str = "week", signal: str | None = None) -> tuple[Panel, str]:
        """The demand panel of a level and where it came from ("sales" or the event type counted)."""
        store = self.store
        if level != "query" and signal is None and sales_count(store):
            return sales_panel(sales_frame(store), level=level), "sales"
        kind = demand_signal(store.event_type_counts(), signal)
        meta = self._item_meta() if level in ("category", "brand") else None
        return event_demand(store.scan_events(), level=level, freq=freq, signal=kind, item_meta=meta), kind

    def forecast(self, level: str = "item", horizon: int = 4, freq: str = "week", signal: str | None = None, *,
                 wait: bool = True) -> dict[str, Any]:
        """Point forecasts and conformal intervals for every series of a level, `horizon` periods ahead.

        One fit per level serves every horizon up to MAX_HORIZON. A result stays in use while nothing new arrived,
        or for `refresh_s` after it was made (weekly demand does not change with each event). With wait=False a
        missing or stale result is computed in a background thread: a stale one is returned meanwhile, and
        `ForecastPending` is raised when there is none yet (the API answers 202).
        """
        if not 1 <= horizon <= MAX_HORIZON:
            raise SalesDataError(f"horizon must be between 1 and {MAX_HORIZON} periods")
        key = (level, freq, signal)
        version = self._version()
        with self._lock:
            entry = self._cache.get(key)
            fresh = entry is not None and (entry["version"] == version or time.time() - entry["at"] < self.refresh_s)
            failed = self._failed.get(key)
            if not fresh and failed is not None and failed[0] == version:
                raise failed[1]
            if not fresh and not wait:
                if key not in self._running:
                    self._running.add(key)
                    threading.Thread(target=self._background, args=(key, version), daemon=True, name=f"forecast-{level}").start()
                if entry is None:
                    raise ForecastPending(f"the {level} forecast is being computed; ask again in a minute")
        if not fresh and wait:
            with self._compute_lock:
                with self._lock:
                    entry = self._cache.get(key)
                    fresh = entry is not None and (entry["version"] == version or time.time() - entry["at"] < self.refresh_s)
                if not fresh:
                    entry = {**self._compute(level, freq, signal), "version": version, "at": time.time()}
                    with self._lock:
                        self._cache[key] = entry
        assert entry is not None  # fresh, just computed, or the stale one served while a background fit runs
        return {**entry, "forecast": entry["forecast"][:, :horizon], "lo": entry["lo"][:, :horizon], "hi": entry["hi"][:, :horizon],
                "periods": entry["periods"][:horizon]}

    def _background(self, key: tuple, version: tuple[int, int]) -> None:
        try:
            with self._compute_lock:
                entry = {**self._compute(*key), "version": version, "at": time.time()}
            with self._lock:
                self._cache[key] = entry
        except SalesDataError as exc:  # the data cannot be forecast: remembered, so requests get 422, not 202 forever
            with self._lock:
                self._failed[key] = (version, exc)
        except Exception:
            log.exception("background %s forecast failed", key[0])
        finally:
            with self._lock:
                self._running.discard(key)

    def _compute(self, level: str, freq: str, signal: str | None) -> dict[str, Any]:
        """Fit at `CALIBRATION` periods before the end, whose forecasts of those known periods calibrate the
        intervals (leads past them use every lead's residuals), then refit on all periods and forecast."""
        started = time.perf_counter()
        panel, source = self.panel(level, freq, signal)
        horizon = MAX_HORIZON
        leads = list(range(1, horizon + 1))
        last = panel.n_periods - 1
        cal = min(CALIBRATION, max(1, panel.n_periods - MIN_PERIODS_GBM))
        use_gbm = panel.n_periods >= MIN_PERIODS_GBM + cal
        make = (lambda: GBMForecaster(rounds=120, history=52, max_train_rows=1_000_000)) if use_gbm else NaiveForecaster
        future = extend(panel, horizon)
        origin = last - cal
        calibrated = make().fit(future, origin, leads)
        try:
            calib = run_backtest(future, _Fitted(calibrated), Protocol_(start=origin + 1, end=last, horizon=cal), refit_periods=10_000)
        except SalesDataError as exc:  # no observed demand in the calibration periods: say which level and how long
            raise SalesDataError(f"{level} demand ({source}): too little history to forecast — {panel.n_periods} periods, "
                                 f"none observed in the last {cal}") from exc
        conformal = Conformal(level=self.level, window=cal)
        for t in np.unique(calib.target):
            for lead in np.unique(calib.lead[calib.target == t]):
                m = (calib.target == t) & (calib.lead == lead)
                conformal.add(int(lead), int(t), calib.y[m], calib.f[m])
        model = make().fit(future, last, leads)  # refitted on everything: a surge in the last weeks must count
        fc = model.predict(future, last, leads)
        lo = np.empty_like(fc)
        hi = np.empty_like(fc)
        for j, lead in enumerate(leads):
            q_lo, q_hi = conformal.quantiles(lead, last)  # leads past the calibration use every lead's residuals
            base = np.log1p(fc[:, j])
            lo[:, j] = np.maximum(np.expm1(base + q_lo), 0)
            hi[:, j] = np.expm1(base + q_hi)
        score = metrics(calib.y, calib.f)
        log.info("forecast %s/%s: %d series, %s, %.1fs", level, freq, panel.n_series, model.name, time.perf_counter() - started)
        return {"panel": panel, "source": source, "model": model.name, "periods": [str(p) for p in future.periods[last + 1:]],
                "forecast": fc, "lo": lo, "hi": hi, "backtest": {k: round(v, 3) for k, v in score.items()}}

    def series(self, key: str, level: str = "item", horizon: int = 4, freq: str = "week", *, wait: bool = True) -> dict[str, Any]:
        """One series' history and forecast with intervals (key: item id, category, brand, or store/item)."""
        res = self.forecast(level, horizon, freq, wait=wait)
        panel: Panel = res["panel"]
        names = ["/".join(k) for k in panel.keys]
        if key not in names:
            matches = [i for i, k in enumerate(panel.keys) if k[-1] == key]
            if not matches:
                raise KeyError(f"no {level} series {key!r}")
            i = matches[0]
        else:
            i = names.index(key)
        hist = panel.y[i, -26:]
        return {"key": names[i], "level": level, "source": res["source"], "model": res["model"],
                "history": [{"period": str(p), "units": None if np.isnan(v) else float(v)} for p, v in zip(panel.periods[-26:], hist, strict=True)],
                "forecast": [{"period": str(p), "units": round(float(f), 2), "lo": round(float(a), 2), "hi": round(float(b), 2)}
                             for p, f, a, b in zip(res["periods"], res["forecast"][i], res["lo"][i], res["hi"][i], strict=True)],
                "interval": self.level}

    def rising(self, level: str = "item", horizon: int = 2, k: int = 20, freq: str = "week", *, wait: bool = True) -> list[dict[str, Any]]:
        """Series of a level whose forecast grows faster than their history (see signals.rising)."""
        res = self.forecast(level, horizon, freq, wait=wait)
        return rising(res["panel"], res["forecast"], k=k)

    def rising_scores(self, level: str = "item", horizon: int = 2) -> dict[str, float]:
        """Growth z-score per rising key, for ranking boosts (empty when nothing can be forecast)."""
        try:
            return {r["key"]: r["z"] for r in self.rising(level, horizon, k=200)}
        except SalesDataError:
            return {}

    def stockouts(self, horizon: int = 4, substitutes: int = 3, *, wait: bool = True) -> list[dict[str, Any]]:
        """Items whose forecast demand reaches their stock within `horizon` periods, with substitutes in stock."""
        res = self.forecast("item", horizon, wait=wait)
        panel: Panel = res["panel"]
        ids = [k[-1] for k in panel.keys]
        products = self.store.get_products(ids)
        items = [{"id": ids[i], "stock": products[ids[i]].stock, "forecast": res["forecast"][i], "hi": res["hi"][i]}
                 for i in range(panel.n_series) if ids[i] in products and products[ids[i]].stock is not None]
        alerts = stockout_risk(items, horizon=horizon)
        for alert in alerts:
            alert["title"] = products[alert["id"]].title
            alert["substitutes"] = self._substitutes(alert["id"], substitutes)
        return alerts

    def _substitutes(self, item_id: str, k: int) -> list[str]:
        """In-stock substitutes: the recommender's substitute placement when built, else same-category items."""
        try:
            if self._recommend is None:
                raise LookupError("no recommender")
            resp = self._recommend(placement="substitute", item_id=item_id, k=k * 3)
            cands = [i.id for i in resp.items]
        except Exception:
            log.debug("no substitutes from the recommender for %s; same-category items instead", item_id, exc_info=True)
            meta = self._item_meta()
            top = meta[item_id].top if item_id in meta else None
            cands = [i for i, m in meta.items() if m.top == top and i != item_id][: k * 10]
        stock = self.store.get_products(cands)
        return [c for c in cands if c in stock and ((units := stock[c].stock) is None or units > 0)][:k]

    def elasticity(self, key: str) -> dict[str, Any]:
        """Price elasticity of one item (or store/item) from imported sales history."""
        return self._elasticity(key).to_json()

    def whatif(self, key: str, price: float, promotion: bool = False, feature: bool = False) -> dict[str, Any]:
        """Expected units and revenue of an item at `price`, with or without promotion and feature ad."""
        est = self._elasticity(key)
        return {"key": est.key, "price": price, "promotion": promotion, "feature": feature, **est.demand(price, promotion, feature),
                "at_reference_price": est.demand(est.ref_price), "elasticity": round(est.elasticity, 3)}

    def _elasticity(self, key: str) -> Any:
        version = self._version()
        cache_key = ("elasticity", version)
        with self._lock:
            if cache_key not in self._cache:
                panel = sales_panel(sales_frame(self.store), level="item")
                self._cache[cache_key] = {e.key: e for e in elasticities(panel)}
            table = self._cache[cache_key]
        if key in table:
            return table[key]
        hits = [e for k, e in table.items() if k.split("/")[-1] == key]
        if not hits:
            raise KeyError(f"no sales history with prices for {key!r}")
        return hits[0]

    def report(self, horizon: int = 4, k: int = 10, *, wait: bool = True) -> dict[str, Any]:
        """Forecasts per category, rising items/categories/queries and stock-out alerts, for people to read."""
        out: dict[str, Any] = {"horizon": horizon, "interval": self.level}
        try:
            cat = self.forecast("category", horizon, wait=wait)
            panel = cat["panel"]
            order = np.argsort(-np.nansum(cat["forecast"], axis=1))[:k]
            out["source"] = cat["source"]
            out["categories"] = [{"key": "/".join(panel.keys[i]), "periods": cat["periods"],
                                  "forecast": np.round(cat["forecast"][i], 1).tolist(), "lo": np.round(cat["lo"][i], 1).tolist(),
                                  "hi": np.round(cat["hi"][i], 1).tolist()} for i in order]
        except SalesDataError as exc:
            out["categories"] = []
            out["categories_note"] = str(exc)
        item = self.forecast("item", horizon, wait=wait)
        out["model"], out["backtest"] = item["model"], item["backtest"]
        out["rising"] = {}
        for level in ("item", "category", "query"):
            try:
                out["rising"][level] = self.rising(level, horizon=horizon, k=k, wait=wait)
            except SalesDataError as exc:
                out["rising"][level] = []
                log.info("rising %s: %s", level, exc)
        out["stockouts"] = self.stockouts(horizon, wait=wait)[:k]
        return out

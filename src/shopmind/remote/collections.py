"""The remote facade's collections: `shop.catalog`, `shop.users`, `shop.events` (as `shopmind.shopdata`), and the
stand-ins for `shop.ads_service` (campaigns) and `shop.forecast_service` (forecasts), each over the HTTP API.

Records are validated here with the same pydantic models as embedded, so a bad record fails before any request
with the same error, and an id-less event gets its content id on the client (a retried request stays a replay).
Writes are sent in batches of `batch_size`; each batch is one transaction on the server (the embedded
`track_many` writes all in one).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from shopmind.domain import Event, Product, User
from shopmind.errors import CampaignNotFound, ForecastPending
from shopmind.remote.http import HttpSession, RemoteNotFound

if TYPE_CHECKING:
    from shopmind.ads.models import Campaign, CampaignSpec, CampaignUpdate

__all__ = ["RemoteAds", "RemoteCatalog", "RemoteEvents", "RemoteForecasts", "RemoteUsers", "part"]

LIST_ITEMS = 200  # ids per GET /products?ids= (the API's limit)


def part(value: str) -> str:
    """One path segment: an id quoted so '/', '?' or '#' in it cannot change the route."""
    return quote(value, safe="")


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    return (items[i : i + size] for i in range(0, len(items), size))


class RemoteCatalog:
    """Products over /products: upsert (batched), get, get_many, delete."""

    def __init__(self, http: HttpSession, batch_size: int) -> None:
        self._http = http
        self._batch = batch_size

    def upsert(self, products: Iterable[Product | dict[str, Any]]) -> int:
        """Validate and store products (POST /products in batches); how many were written."""
        items = [p if isinstance(p, Product) else Product.model_validate(p) for p in products]
        return sum(int(self._http.call("POST", "/products", json=[p.model_dump(mode="json") for p in chunk])["upserted"])
                   for chunk in _chunks(items, self._batch))

    def get(self, product_id: str) -> Product | None:
        """One product, or None."""
        body = self._http.call("GET", f"/products/{part(product_id)}", missing=None)
        return None if body is None else Product.model_validate(body)

    def get_many(self, ids: Iterable[str]) -> dict[str, Product]:
        """Products by id (missing ids left out), 200 ids per request."""
        wanted = list(dict.fromkeys(ids))
        out: dict[str, Product] = {}
        for chunk in _chunks(wanted, LIST_ITEMS):
            for row in self._http.call("GET", "/products", params={"ids": ",".join(chunk)})["products"]:
                product = Product.model_validate(row)
                out[product.id] = product
        return out

    def delete(self, ids: Iterable[str]) -> int:
        """Remove products (one DELETE each; an unknown id counts 0, as embedded)."""
        return sum(int(self._http.call("DELETE", f"/products/{part(i)}", missing={"deleted": 0})["deleted"]) for i in ids)


class RemoteUsers:
    """User records over /users (reading needs an admin key or the users:read scope)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def upsert(self, users: Iterable[User | dict[str, Any]]) -> int:
        """Validate and store user records (one PUT each: the API has no bulk user write)."""
        items = [u if isinstance(u, User) else User.model_validate(u) for u in users]
        return sum(int(self._http.call("PUT", f"/users/{part(u.id)}", json=u.model_dump(mode="json"))["upserted"]) for u in items)

    def get(self, user_id: str) -> User | None:
        """One user record, or None."""
        body = self._http.call("GET", f"/users/{part(user_id)}", missing=None)
        return None if body is None else User.model_validate(body)


class RemoteEvents:
    """The event stream over /events: stored by the server before it answers."""

    def __init__(self, http: HttpSession, batch_size: int) -> None:
        self._http = http
        self._batch = batch_size

    def track(self, event: Event | dict[str, Any]) -> bool:
        """Store one event; False if its id was already stored (a replay)."""
        return self.track_many([event]) == 1

    def track_many(self, events: Sequence[Event | dict[str, Any]]) -> int:
        """Store events (one transaction per batch of `batch_size`); return how many were new."""
        items = [e if isinstance(e, Event) else Event.model_validate(e) for e in events]
        new = 0
        for chunk in _chunks(items, self._batch):
            body = [e.model_dump(mode="json", exclude_none=True) for e in chunk]
            new += int(self._http.call("POST", "/events" if len(body) == 1 else "/events/batch", json=body[0] if len(body) == 1 else body)["new"])
        return new


class RemoteAds:
    """`shop.ads_service` over HTTP: campaign CRUD (admin key) and the per-day report (analyst key)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    @staticmethod
    def _campaign(body: Any) -> Campaign:
        from shopmind.ads.models import Campaign

        return Campaign.model_validate(body)

    def create_campaign(self, spec: CampaignSpec | dict[str, Any], campaign_id: str | None = None) -> Campaign:
        """Create a campaign (validated here first); ValueError when the id is taken."""
        from shopmind.ads.models import CampaignSpec

        spec = spec if isinstance(spec, CampaignSpec) else CampaignSpec.model_validate(spec)
        return self._campaign(self._http.call("POST", "/campaigns", params={"campaign_id": campaign_id}, json=spec.model_dump(mode="json")))

    def update_campaign(self, campaign_id: str, changes: CampaignUpdate | dict[str, Any]) -> Campaign:
        """Change some fields; CampaignNotFound for an unknown id."""
        from shopmind.ads.models import CampaignUpdate

        changes = changes if isinstance(changes, CampaignUpdate) else CampaignUpdate.model_validate(changes)
        try:
            return self._campaign(self._http.call("PATCH", f"/campaigns/{part(campaign_id)}", json=changes.model_dump(mode="json", exclude_unset=True)))
        except RemoteNotFound as exc:
            raise CampaignNotFound(campaign_id) from exc

    def delete_campaign(self, campaign_id: str) -> bool:
        """Remove a campaign; False when there was none."""
        return self._http.call("DELETE", f"/campaigns/{part(campaign_id)}", missing=None) is not None

    def get_campaign(self, campaign_id: str) -> Campaign:
        """One campaign; CampaignNotFound for an unknown id."""
        body = self._http.call("GET", f"/campaigns/{part(campaign_id)}", missing=None)
        if body is None:
            raise CampaignNotFound(campaign_id)
        return self._campaign(body)

    def list_campaigns(self, advertiser: str | None = None, status: str | None = None) -> list[Campaign]:
        """Campaigns, optionally of one advertiser or status."""
        return [self._campaign(c) for c in self._http.call("GET", "/campaigns", params={"advertiser": advertiser, "status": status})]

    def report(self, campaign_id: str | None = None, start: str | None = None, end: str | None = None) -> list[dict[str, Any]]:
        """Per campaign and day: impressions, clicks, CTR, spend, CPC, conversions, ROAS."""
        rows: list[dict[str, Any]] = self._http.call("GET", "/ads/report", params={"campaign_id": campaign_id, "start": start, "end": end})
        return rows


class RemoteForecasts:
    """`shop.forecast_service` over /forecast (analyst key). `wait=True` polls while the server fits in the background
    (up to `wait_s`); `wait=False` raises ForecastPending, as embedded. Options the API does not take must keep
    their defaults (ValueError otherwise)."""

    def __init__(self, http: HttpSession, wait_s: float = 300.0) -> None:
        self._http = http
        self._wait_s = wait_s

    def _get(self, path: str, params: dict[str, Any], wait: bool) -> Any:
        deadline = time.monotonic() + self._wait_s
        while True:
            try:
                return self._http.call("GET", path, params=params, pending=ForecastPending)
            except ForecastPending:
                if not wait or time.monotonic() > deadline:
                    raise
                time.sleep(1.0)

    @staticmethod
    def _only_default(name: str, value: Any, default: Any) -> None:
        if value != default:
            raise ValueError(f"{name}: the HTTP API serves only {name}={default!r} (got {value!r}); call the embedded facade for others")

    def series(self, key: str, level: str = "item", horizon: int = 4, freq: str = "week", *, wait: bool = True) -> dict[str, Any]:
        """History and forecast (with intervals) of one item, category, brand or query."""
        self._only_default("freq", freq, "week")
        out: dict[str, Any] = self._get(f"/forecast/series/{part(key)}", {"level": level, "horizon": horizon}, wait)
        return out

    def rising(self, level: str = "item", horizon: int = 2, k: int = 20, freq: str = "week", *, wait: bool = True) -> list[dict[str, Any]]:
        """Series whose forecast grows faster than their history."""
        self._only_default("freq", freq, "week")
        out: list[dict[str, Any]] = self._get("/forecast/rising", {"level": level, "horizon": horizon, "k": k}, wait)
        return out

    def stockouts(self, horizon: int = 4, substitutes: int = 3, *, wait: bool = True) -> list[dict[str, Any]]:
        """Items whose forecast demand reaches their stock within the horizon, with substitutes."""
        self._only_default("substitutes", substitutes, 3)
        out: list[dict[str, Any]] = self._get("/forecast/stockouts", {"horizon": horizon}, wait)
        return out

    def report(self, horizon: int = 4, k: int = 10, *, wait: bool = True) -> dict[str, Any]:
        """Category forecasts, rising lists and stock-out alerts."""
        self._only_default("k", k, 10)
        out: dict[str, Any] = self._get("/forecast/report", {"horizon": horizon}, wait)
        return out

    def elasticity(self, key: str) -> dict[str, Any]:
        """Price elasticity and promotion/feature lift of an item."""
        out: dict[str, Any] = self._get(f"/forecast/elasticity/{part(key)}", {}, False)
        return out

    def whatif(self, key: str, price: float, promotion: bool = False, feature: bool = False) -> dict[str, Any]:
        """Expected units and revenue at a price, with or without promotion and feature ad."""
        out: dict[str, Any] = self._http.call("POST", "/forecast/whatif", json={"key": key, "price": price, "promotion": promotion, "feature": feature})
        return out

"""`RemoteShopMind`: the facade's verbs over a ShopMind server's HTTP API, with the embedded signatures and types.

    shop = ShopMind.open("http://shop.internal:8000", api_key=os.environ["SHOPMIND_KEY"])   # or "./shop"
    shop.search("cordless drill", filters={"price": {"max": 100}}).hits

What the key's role allows is the server's call (api/deps.py): search and recommend take any key, writes an ingest
or admin key, profiles and user records an admin key (or `users:read`), stats and reports an analyst or admin key.

Runs only embedded (raise NotImplementedError naming the verb): `build` (a long batch job: `shopmind build` on a host
or the cluster's build Job, then `promote`), `artifacts` (this host's folders; `models()` is the registry),
`import_file` (reads a file on the store's host; send records with `catalog.upsert` / `events.track_many`),
`user_vector`, `chat_message_limit`, `new_assistant`, `new_ads_service`, and the in-process internals (`store`,
`state`, `settings`, `home`, `service`, `built_part`, `embeddings`, `catch_up`, `loaded_parts`).

Differences from embedded, by nature of HTTP: `stats()` has no `home` (the API hides the server's path); what the
API does not take is refused with a ValueError naming it rather than dropped: `search` context keys, `recommend` and
`ads` context keys other than device, location, query, session_id / device, location, segment (all three take
`simulated` and `sim_run`, sent as the `X-Simulated` and `X-Simulation-Run` headers), `ads(client_ip=…)` (the server
sees the caller's address), `report` options other than `by`, `promote`/`rollback(who=…)` (the server records the
key id).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

from shopmind.domain import Product
from shopmind.remote.collections import RemoteAds, RemoteCatalog, RemoteEvents, RemoteForecasts, RemoteUsers
from shopmind.remote.collections import part as quote
from shopmind.remote.http import HttpSession, RemoteInvalid, RemoteNotFound

if TYPE_CHECKING:
    import httpx

    from shopmind.ads.models import AdsResponse
    from shopmind.assistant.models import ChatResponse
    from shopmind.profiles.profile import UserProfile
    from shopmind.recommend.config import RecommendResponse
    from shopmind.remote.protocol import ShopAPI
    from shopmind.search.models import SearchResponse

__all__ = ["EMBEDDED_ONLY", "RemoteShopMind"]
log = logging.getLogger(__name__)

RECOMMEND_CONTEXT = ("device", "location", "query", "session_id")
SIM_CONTEXT = ("simulated", "sim_run")  # sent as the X-Simulated / X-Simulation-Run headers (api/simulated.py)
ADS_CONTEXT = ("device", "location", "segment")
EMBEDDED_ONLY = ("artifacts", "build", "import_file", "user_vector", "chat_message_limit", "new_assistant", "new_ads_service", "store", "state", "settings",
                 "home", "service", "built_part", "embeddings", "catch_up", "loaded_parts")


def _context(context: dict[str, Any] | None, allowed: tuple[str, ...], verb: str) -> dict[str, Any]:
    """The context keys the API takes as query parameters; ValueError naming any other key."""
    extra = sorted(set(context or {}) - set(allowed) - set(SIM_CONTEXT))
    if extra:
        raise ValueError(f"{verb}: context key(s) {extra} are not sent over HTTP (the API takes {', '.join(allowed + SIM_CONTEXT)})")
    return {k: (str(v) if v is not None else None) for k, v in (context or {}).items() if k not in SIM_CONTEXT}


def _sim_headers(context: dict[str, Any] | None) -> dict[str, str] | None:
    """A context marked simulated (`simulated`, `sim_run`, as the embedded facade takes it) as the API's headers."""
    if not context or str(context.get("simulated", "")).lower() not in ("1", "true", "yes"):
        return None
    run = context.get("sim_run")
    return {"X-Simulated": "1", **({"X-Simulation-Run": str(run)} if run else {})}


class _EmbeddedOnly:
    """A facade member that runs only in-process: reading it raises NotImplementedError naming it."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type | None = None) -> NoReturn:
        raise NotImplementedError(f"{self.name} runs only embedded (ShopMind.open(home)); a remote shop offers the HTTP API's verbs")


class RemoteShopMind:
    """A shop served by `shopmind serve`, driven through the same verbs as the embedded `ShopMind` (see the module)."""

    def __init__(self, url: str, api_key: str | None = None, *, timeout: float = 10.0, batch_size: int = 1000, transport: httpx.BaseTransport | None = None) -> None:
        """`api_key` None: SHOPMIND_API_KEY, else no key (open reads only). `timeout` bounds every call;
        `transport` is for tests (httpx.MockTransport)."""
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url: a remote shop is an http:// or https:// URL, got {url!r}")
        key = api_key if api_key is not None else os.environ.get("SHOPMIND_API_KEY") or None
        self.url = url.rstrip("/")
        self.http = HttpSession(self.url, key, timeout=timeout, transport=transport)
        self.catalog = RemoteCatalog(self.http, batch_size)
        self.users = RemoteUsers(self.http)
        self.events = RemoteEvents(self.http, batch_size)
        self.ads_service = RemoteAds(self.http)
        self.forecast_service = RemoteForecasts(self.http)

    def __repr__(self) -> str:
        return f"RemoteShopMind({self.url!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def __enter__(self) -> RemoteShopMind:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # what runs only in-process (EMBEDDED_ONLY): reading one raises NotImplementedError naming it
    artifacts = _EmbeddedOnly()
    build = _EmbeddedOnly()
    import_file = _EmbeddedOnly()
    user_vector = _EmbeddedOnly()
    chat_message_limit = _EmbeddedOnly()
    new_assistant = _EmbeddedOnly()
    new_ads_service = _EmbeddedOnly()
    store = _EmbeddedOnly()
    state = _EmbeddedOnly()
    settings = _EmbeddedOnly()
    home = _EmbeddedOnly()
    service = _EmbeddedOnly()
    built_part = _EmbeddedOnly()
    embeddings = _EmbeddedOnly()
    catch_up = _EmbeddedOnly()
    loaded_parts = _EmbeddedOnly()

    # -- the four questions ------------------------------------------------------------------------------
    def search(self, query: str, *, user_id: str | None = None, filters: dict[str, Any] | None = None, facets: list[str] | None = None,
               sort: str = "relevance", page: int = 1, per_page: int = 20, explain: bool = True, track: bool = False,
               session_id: str | None = None, context: dict[str, Any] | None = None) -> SearchResponse:
        """Search the catalog (GET /search); `track` logs the search event (the server adds the result count)."""
        import orjson

        from shopmind.search.models import SearchResponse

        _context(context, (), "search")  # only the simulation label travels (as headers); the tracked event gets the server's context
        params = {"q": query, "user_id": user_id, "session_id": session_id, "sort": sort, "page": page, "per_page": per_page,
                  "explain": explain, "track": track, "facets": facets or None,
                  "filters": orjson.dumps(filters).decode() if filters is not None else None}
        return SearchResponse.model_validate(self.http.call("GET", "/search", params=params, headers=_sim_headers(context)))

    def suggest(self, prefix: str, k: int = 10) -> list[str]:
        """Completions for a prefix (GET /suggest)."""
        return list(self.http.call("GET", "/suggest", params={"q": prefix, "k": k})["suggestions"])

    def recommend(self, *, user_id: str | None = None, placement: str = "home", item_id: str | None = None, cart: list[str] | None = None,
                  k: int = 20, context: dict[str, Any] | None = None) -> RecommendResponse:
        """Recommendations for a placement (GET /recommend); context: device, location, query, session_id (the unit of
        session-split experiments), simulated and sim_run (sent as X-Simulated headers)."""
        from shopmind.recommend.config import RecommendResponse

        params = {"user_id": user_id, "placement": placement, "item_id": item_id, "cart": ",".join(cart) if cart else None, "k": k,
                  **_context(context, RECOMMEND_CONTEXT, "recommend")}
        return RecommendResponse.model_validate(self.http.call("GET", "/recommend", params=params, headers=_sim_headers(context)))

    def chat(self, session_id: str, message: str, user_id: str | None = None, product_id: str | None = None) -> ChatResponse:
        """One assistant turn (POST /chat)."""
        from shopmind.assistant.models import ChatResponse

        body = {"session_id": session_id, "message": message, "user_id": user_id, "product_id": product_id}
        return ChatResponse.model_validate(self.http.call("POST", "/chat", json=body))

    def chat_stream(self, session_id: str, message: str, user_id: str | None = None,
                    product_id: str | None = None) -> Iterator[str | ChatResponse]:
        """The same turn streamed (POST /chat/stream): text chunks, then the ChatResponse."""
        from shopmind.assistant.models import ChatResponse

        body = {"session_id": session_id, "message": message, "user_id": user_id, "product_id": product_id}
        for line in self.http.lines("POST", "/chat/stream", json=body):
            if "response" in line:
                yield ChatResponse.model_validate(line["response"])
            else:
                yield str(line["delta"])

    def forget_chat(self, session_id: str) -> None:
        """Drop a conversation's state (DELETE /chat/{session_id})."""
        self.http.call("DELETE", f"/chat/{quote(session_id)}")

    def ads(self, placement: str, *, user_id: str | None = None, query: str | None = None, item_id: str | None = None, k: int = 2,
            context: dict[str, Any] | None = None, session_id: str | None = None, client_ip: str | None = None) -> AdsResponse:
        """Sponsored products for a slot (GET /ads); context: device, location, segment."""
        from shopmind.ads.models import AdsResponse

        if client_ip is not None:
            raise ValueError("client_ip: a remote shop takes the caller's address from the connection, not from the caller")
        params = {"placement": placement, "user_id": user_id, "q": query, "item_id": item_id, "k": k, "session_id": session_id,
                  **_context(context, ADS_CONTEXT, "ads")}
        return AdsResponse.model_validate(self.http.call("GET", "/ads", params=params, headers=_sim_headers(context)))

    def ads_report(self, campaign_id: str | None = None, start: str | None = None, end: str | None = None) -> list[dict[str, Any]]:
        """Per campaign and day: impressions, clicks, spend … (GET /ads/report, analyst key)."""
        return self.ads_service.report(campaign_id, start, end)

    def ads_pacing(self, day: str | None = None) -> dict[str, Any]:
        """Cumulative spend by UTC hour per campaign for one day (GET /ads/pacing, analyst key)."""
        out: dict[str, Any] = self.http.call("GET", "/ads/pacing", params={"day": day})
        return out

    # -- records, insights, admin --------------------------------------------------------------------------
    def get_products(self, ids: Iterable[str]) -> dict[str, Product]:
        """Products by id (missing ids left out)."""
        return self.catalog.get_many(ids)

    def stats(self) -> dict[str, Any]:
        """Counts of what the shop holds and what is built (GET /stats, analyst key; no `home`)."""
        out: dict[str, Any] = self.http.call("GET", "/stats")
        return out

    def profile(self, user_id: str) -> UserProfile:
        """The user's profile (GET /users/{id}/profile: admin key or the users:read scope)."""
        from shopmind.profiles.profile import UserProfile

        return UserProfile.model_validate(self.http.call("GET", f"/users/{quote(user_id)}/profile"))

    def trending(self, k: int = 20, category: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Items and queries with the most recent activity (GET /trending)."""
        out: dict[str, list[dict[str, Any]]] = self.http.call("GET", "/trending", params={"k": k, "category": category})
        return out

    def live(self, minutes: int = 60) -> dict[str, Any]:
        """Events per minute up to now (GET /admin/live, analyst key)."""
        out: dict[str, Any] = self.http.call("GET", "/admin/live", params={"minutes": minutes})
        return out

    def report(self, name: str, **options: Any) -> Any:
        """A behaviour report (GET /reports/{name}); the API takes one option, `by` (funnel: category or day)."""
        extra = sorted(set(options) - {"by"})
        if extra:
            raise ValueError(f"report: option(s) {extra} are not sent over HTTP (the API takes `by`)")
        return self.http.call("GET", f"/reports/{quote(name)}", params=options)

    def delete_user(self, user_id: str) -> dict[str, Any]:
        """Remove a user everywhere (DELETE /users/{id}, admin key); counts per place and `receipt_id`."""
        removed: dict[str, Any] = self.http.call("DELETE", f"/users/{quote(user_id)}")["removed"]
        return removed

    def rebuild_state(self) -> dict[str, Any]:
        """Recompute online state from the event log (POST /admin/rebuild-state, admin key; that worker only)."""
        out: dict[str, Any] = self.http.call("POST", "/admin/rebuild-state")
        return out

    # -- the model registry (GET /admin/models: analyst key; promote and rollback: admin key) --------------
    def models(self, part: str | None = None, history: int = 20) -> dict[str, Any]:
        """Per part: the promoted (`current`) version, every version with its meta, the latest promotions."""
        out: dict[str, Any] = self.http.call("GET", "/admin/models", params={"part": part, "history": history})
        return out

    def promote(self, part: str, version: str, *, who: str = "api", reason: str = "") -> dict[str, Any]:
        """Serve `version` of `part` on every worker; VersionNotFound / RegistryError as embedded."""
        return self._switch(f"/admin/models/{quote(part)}/{quote(version)}/promote", who, {"reason": reason or None})

    def rollback(self, part: str, version: str | None = None, *, who: str = "api", reason: str = "") -> dict[str, Any]:
        """Serve an earlier kept version again: `version`, or the one served before the current one."""
        return self._switch(f"/admin/models/{quote(part)}/rollback", who, {"version": version, "reason": reason or None})

    def _switch(self, path: str, who: str, params: dict[str, Any]) -> dict[str, Any]:
        from shopmind.artifacts import RegistryError, VersionNotFound

        if who != "api":
            raise ValueError("who: a remote shop records the caller's key id as who promoted")
        try:
            out: dict[str, Any] = self.http.call("POST", path, params=params)
        except RemoteNotFound as exc:
            raise VersionNotFound(str(exc)) from exc
        except RemoteInvalid as exc:
            if exc.status != 409:
                raise
            raise RegistryError(str(exc)) from exc
        return out

if TYPE_CHECKING:  # mypy checks here that the remote facade satisfies the shared protocol
    def _satisfies(shop: RemoteShopMind) -> ShopAPI:
        return shop

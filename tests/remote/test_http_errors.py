"""The remote facade without a server (httpx.MockTransport): what goes on the wire, and HTTP errors mapped back to the
exceptions the embedded facade raises."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from shopmind.engine import ShopMind
from shopmind.errors import CampaignNotFound, ForecastPending, NotBuilt
from shopmind.remote import (
    EMBEDDED_ONLY,
    AccessDenied,
    RateLimited,
    RemoteInvalid,
    RemoteNotFound,
    RemoteShopMind,
    RemoteTimeout,
    RemoteUnavailable,
)

URL = "http://shop.test:8000"


def _remote(handler, seen: list[httpx.Request] | None = None, **kw) -> RemoteShopMind:
    def record(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    return RemoteShopMind(URL, api_key="k-123", transport=httpx.MockTransport(record), **kw)


def _answer(status: int, body, headers: dict[str, str] | None = None):
    return lambda request: httpx.Response(status, json=body, headers=headers)


def test_search_sends_the_key_and_every_parameter():
    seen: list[httpx.Request] = []
    body = {"query": {"original": "drill", "normalized": "drill", "language": "en"}, "total": 0, "page": 2, "per_page": 5, "sort": "newest", "hits": []}
    shop = _remote(_answer(200, body), seen)
    out = shop.search("drill", filters={"price": {"max": 50}}, facets=["brand", "category"], sort="newest", page=2, per_page=5, user_id="u1")
    assert out.page == 2 and out.hits == []
    request = seen[0]
    assert request.headers["x-api-key"] == "k-123" and request.url.path == "/search"
    query = parse_qs(urlsplit(str(request.url)).query)
    assert query["facets"] == ["brand", "category"] and json.loads(query["filters"][0]) == {"price": {"max": 50}}
    assert query["track"] == ["false"] and query["user_id"] == ["u1"] and "session_id" not in query  # None is not sent


@pytest.mark.parametrize(("status", "body", "error", "words"), [
    (401, {"detail": "this call needs an API key (X-API-Key header)"}, AccessDenied, "X-API-Key"),
    (403, {"detail": "this call needs an analyst or admin key; this key's role is storefront"}, AccessDenied, "storefront"),
    (422, {"detail": [{"loc": ["query", "filters"], "msg": "must be a JSON object", "type": "value_error"}]}, RemoteInvalid, "query.filters: must be"),
    (422, {"detail": "unknown filter 'colour': use brand, category…"}, ValueError, "colour"),
    (404, {"detail": "no user 'u9'"}, KeyError, "u9"),
    (503, {"detail": "search is not built yet: run `shopmind build`"}, NotBuilt, "not built"),
    (503, {"detail": "down"}, RemoteUnavailable, "HTTP 503"),
    (500, "Internal Server Error", RemoteUnavailable, "HTTP 500"),
])
def test_http_errors_become_the_embedded_exceptions(status, body, error, words):
    shop = _remote(_answer(status, body))
    with pytest.raises(error) as info:
        shop.stats()
    assert words in str(info.value)
    if isinstance(info.value, AccessDenied):
        assert isinstance(info.value, PermissionError) and info.value.status == status


def test_rate_limits_carry_retry_after():
    shop = _remote(_answer(429, {"detail": "too many requests"}, {"Retry-After": "7"}))
    with pytest.raises(RateLimited) as info:
        shop.suggest("to")
    assert info.value.retry_after == 7.0


def test_missing_records_are_none_or_the_embedded_not_found():
    shop = _remote(_answer(404, {"detail": "no such thing"}))
    assert shop.catalog.get("nope") is None and shop.users.get("nope") is None
    assert shop.catalog.delete(["a", "b"]) == 0
    assert shop.ads_service.delete_campaign("c") is False
    with pytest.raises(CampaignNotFound):
        shop.ads_service.get_campaign("c")
    with pytest.raises(RemoteNotFound):
        shop.profile("u9")


def test_registry_errors_are_the_embedded_ones():
    from shopmind.artifacts import RegistryError, VersionNotFound

    with pytest.raises(VersionNotFound, match="no version"):
        _remote(_answer(404, {"detail": "no version 'v9' of search"})).promote("search", "v9")
    with pytest.raises(RegistryError, match="no earlier"):
        _remote(_answer(409, {"detail": "search: no earlier kept version"})).rollback("search")
    seen: list[httpx.Request] = []
    _remote(_answer(200, {"part": "search", "from": "v2", "to": "v1", "changed": True}), seen).rollback("search", "v1", reason="bad metrics")
    assert seen[0].url.path == "/admin/models/search/rollback" and parse_qs(urlsplit(str(seen[0].url)).query) == {"version": ["v1"], "reason": ["bad metrics"]}


def test_forecast_still_computing_is_pending():
    shop = _remote(_answer(202, {"status": "computing", "detail": "fitting item forecasts"}, {"Retry-After": "30"}))
    with pytest.raises(ForecastPending, match="fitting"):
        shop.forecast_service.rising(wait=False)
    with pytest.raises(ValueError, match="freq"):
        shop.forecast_service.series("m1", freq="day")


def test_timeouts_and_refused_connections():
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(RemoteTimeout) as info:
        _remote(slow, timeout=0.5).search("x")
    assert isinstance(info.value, TimeoutError) and "0.5 s" in str(info.value)
    with pytest.raises(ConnectionError):
        _remote(refused).recommend(user_id="u1")


def test_bad_input_fails_before_any_request():
    seen: list[httpx.Request] = []
    shop = _remote(_answer(200, {}), seen)
    with pytest.raises(ValueError, match="weather"):
        shop.recommend(user_id="u1", context={"device": "ios", "weather": "rain"})
    with pytest.raises(ValueError, match="context"):
        shop.search("x", context={"page": "home"})
    with pytest.raises(ValueError, match="who"):
        shop.promote("search", "v1", who="me")
    with pytest.raises(ValueError, match="client_ip"):
        shop.ads("search", client_ip="10.0.0.1")
    with pytest.raises(ValueError, match="price"):
        shop.catalog.upsert([{"id": "p1", "title": "t", "price": "cheap"}])
    with pytest.raises(ValueError, match="item_id"):
        shop.events.track({"type": "view", "user_id": "u1"})
    with pytest.raises(ValueError, match="only"):
        shop.report("funnel", only="x")
    assert seen == []


def test_events_are_validated_and_batched_with_their_ids():
    seen: list[httpx.Request] = []

    def accept(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)
        n = len(sent) if isinstance(sent, list) else 1
        return httpx.Response(202, json={"accepted": n, "new": n, "duplicates": 0})

    shop = _remote(accept, seen, batch_size=2)
    events = [{"type": "view", "user_id": "u1", "item_id": f"m{i}", "timestamp": 1_700_000_000 + i} for i in range(5)]
    assert shop.events.track_many(events) == 5
    assert [r.url.path for r in seen] == ["/events/batch", "/events/batch", "/events"]
    first = json.loads(seen[0].content)[0]
    assert first["id"] and first["timestamp"].startswith("2023-11-14")  # the content id is made here: a retry stays a replay


def test_chat_stream_yields_text_then_the_response():
    response = {"text": "Hi.", "sentences": [], "intent": "chitchat", "session": {"session_id": "s1", "turns": 1}}
    lines = b'{"delta": "Hi."}\n{"response": ' + json.dumps(response).encode() + b"}\n"
    shop = _remote(lambda request: httpx.Response(200, content=lines, headers={"content-type": "application/x-ndjson"}))
    parts = list(shop.chat_stream("s1", "hello"))
    assert parts[0] == "Hi." and parts[1].session.turns == 1


def test_embedded_only_verbs_say_so():
    shop = _remote(_answer(200, {}))
    for name in EMBEDDED_ONLY:
        with pytest.raises(NotImplementedError, match=f"^{name} runs only embedded"):
            getattr(shop, name)


def test_open_dispatches_by_scheme(tmp_path):
    with pytest.raises(TypeError, match="api_key"):
        ShopMind.open("http://127.0.0.1:9")
    remote = ShopMind.open("https://shop.test", api_key=None, timeout=3)
    assert isinstance(remote, RemoteShopMind) and remote.http.timeout == 3
    remote.close()
    local = ShopMind.open(tmp_path / "home", api_key="ignored")  # the same call on a home folder opens it embedded
    assert isinstance(local, ShopMind)
    local.close()
    with pytest.raises(ValueError, match="url"):
        RemoteShopMind("ftp://shop.test")

"""The remote facade carries what the embedded one takes in `context`: `session_id` on /recommend (the unit of
session-split experiments) and the simulation label (`simulated`, `sim_run`) as the X-Simulated headers; anything else
is refused naming the key. No server: httpx.MockTransport records what goes on the wire."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from shopmind.remote import RemoteShopMind

SEARCH = {"query": {"original": "drill", "normalized": "drill", "language": "en"}, "total": 0, "page": 1, "per_page": 5, "sort": "relevance", "hits": []}
RECS = {"placement": "home", "items": [], "models": [], "took_ms": 1.0}


def _shop(body: dict, seen: list[httpx.Request]) -> RemoteShopMind:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    return RemoteShopMind("http://shop.test:8000", api_key="k-1", transport=httpx.MockTransport(handler))


def test_recommend_sends_the_session_and_the_simulation_label() -> None:
    seen: list[httpx.Request] = []
    shop = _shop(RECS, seen)
    shop.recommend(user_id="u1", placement="home", k=5, context={"session_id": "s-9", "device": "mobile", "simulated": "1", "sim_run": "r-1"})
    query = parse_qs(urlsplit(str(seen[0].url)).query)
    assert query["session_id"] == ["s-9"] and query["device"] == ["mobile"] and "simulated" not in query and "sim_run" not in query
    assert seen[0].headers["x-simulated"] == "1" and seen[0].headers["x-simulation-run"] == "r-1"
    shop.recommend(user_id="u1", context={"session_id": "s-9"})
    assert "x-simulated" not in seen[1].headers  # real traffic carries no label


def test_search_sends_the_label_as_headers_and_refuses_other_context() -> None:
    seen: list[httpx.Request] = []
    shop = _shop(SEARCH, seen)
    shop.search("drill", user_id="sim-1", track=True, context={"simulated": "1"})
    assert seen[0].headers["x-simulated"] == "1" and "x-simulation-run" not in seen[0].headers
    with pytest.raises(ValueError, match="device"):
        shop.search("drill", context={"device": "mobile"})
    with pytest.raises(ValueError, match="basket"):
        shop.recommend(context={"basket": "x"})
    assert len(seen) == 1  # refused before anything was sent

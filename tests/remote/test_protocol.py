"""Both facades offer every `ShopAPI` verb with the same parameters (names, kinds, defaults, annotations) — and so do
their collections and the campaign and forecast services — so code moves from embedded to remote by its URL."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from shopmind.engine import ShopMind
from shopmind.remote import CatalogAPI, EventsAPI, RemoteShopMind, ShopAPI, UsersAPI
from shopmind.remote.collections import RemoteAds, RemoteCatalog, RemoteEvents, RemoteForecasts, RemoteUsers
from shopmind.shopdata import Catalog, Events, Users


def _members(protocol: type) -> list[str]:
    return [name for name, value in vars(protocol).items() if callable(value) and not name.startswith("_")]


def _params(cls: type, name: str) -> list[tuple[str, object, object, object]]:
    sig = inspect.signature(getattr(cls, name))
    return [(p.name, p.kind, p.default, p.annotation) for p in sig.parameters.values()] + [("return", sig.return_annotation, None, None)]


@pytest.mark.parametrize(("protocol", "embedded", "remote"), [
    (ShopAPI, ShopMind, RemoteShopMind), (CatalogAPI, Catalog, RemoteCatalog), (UsersAPI, Users, RemoteUsers), (EventsAPI, Events, RemoteEvents),
])
def test_the_protocol_verbs_have_one_signature(protocol, embedded, remote):
    names = _members(protocol)
    assert len(names) >= (19 if protocol is ShopAPI else 2)
    for name in names:
        assert _params(embedded, name) == _params(remote, name), name
        assert _params(protocol, name) == _params(remote, name), name
    if protocol is ShopAPI:
        for name in ("catalog", "users", "events"):
            assert name in vars(protocol)


def test_campaigns_and_forecasts_match_the_embedded_services():
    from shopmind.ads.service import AdsService
    from shopmind.forecast.service import ForecastService

    for name in ("create_campaign", "update_campaign", "delete_campaign", "get_campaign", "list_campaigns", "report"):
        assert _params(AdsService, name) == _params(RemoteAds, name), name
    for name in ("series", "rising", "stockouts", "report", "elasticity", "whatif"):
        assert _params(ForecastService, name) == _params(RemoteForecasts, name), name


@pytest.mark.integration  # a fresh interpreter
def test_importing_the_remote_facade_loads_no_part():
    code = ("import sys, shopmind.remote; heavy = {'shopmind.engine', 'torch', 'faiss', 'lightgbm', 'bm25s', 'shopmind.search.service', 'httpx'};"
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"

"""One shop secret per cluster: `cluster.secret` validated, and two homes configured with it (same store) verify each
other's ad tokens and agree on deletion receipts; without it, each home keeps its own."""

from __future__ import annotations

import time

import pytest

from shopmind.config import ConfigError
from shopmind.engine import ShopMind
from shopmind.security.secret import cluster_secret, derived_secret, user_hash
from tests.ads.conftest import _campaign as campaign
from tests.ads.conftest import hash_encode

SECRET = "0f" * 32
OPEN = {"min_relevance": -1.0, "pacing": {"enabled": False}}


@pytest.mark.parametrize("bad", ["abc", "0f" * 31 + "zz", "0f" * 33])
def test_a_malformed_cluster_secret_is_a_config_error_naming_it(tmp_path, bad, monkeypatch):
    with pytest.raises(ConfigError, match=r"cluster\.secret"):
        ShopMind.open(tmp_path / "shop", cluster={"secret": bad})
    monkeypatch.setenv("SHOPMIND_CLUSTER__SECRET", bad)
    with pytest.raises(ConfigError, match=r"cluster\.secret.*SHOPMIND_CLUSTER__SECRET"):
        ShopMind.open(tmp_path / "shop")
    with pytest.raises(ConfigError, match=r"cluster\.secret: must be 64 hex characters"):
        cluster_secret(bad)


def test_derived_keys_differ_per_use():
    master = bytes.fromhex(SECRET)
    assert derived_secret(master, "shop") != derived_secret(master, "ads") != master
    with pytest.raises(ValueError, match="purpose"):
        derived_secret(master, "other")


def _two_homes(tmp_path, demo_data, secret: str | None) -> tuple[ShopMind, ShopMind]:
    store = {"url": f"sqlite:///{tmp_path / 'shared.db'}"}
    cluster = {"secret": secret} if secret else {}
    a = ShopMind.open(tmp_path / "host-a", store=store, cluster=cluster, state={"bots": {"enabled": False}})
    b = ShopMind.open(tmp_path / "host-b", store=store, cluster=cluster, state={"bots": {"enabled": False}})
    a.import_file("products", demo_data / "products.jsonl")
    return a, b


def _served_on_a_clicked_on_b(a: ShopMind, b: ShopMind) -> dict:
    svc_a = a.new_ads_service(encode=hash_encode, config=OPEN)
    svc_a.create_campaign(campaign(products=["m1"], bid=1.0, daily_budget=100.0), "c1")
    ad = svc_a.select("home", user_id="u1", k=1, now=time.time()).ads[0]
    svc_b = b.new_ads_service(encode=hash_encode, config=OPEN)
    return svc_b.ingest([{"id": "click-1", "type": "click", "user_id": "u1", "item_id": ad.item_id, "context": {"ad": ad.token}}])


def test_hosts_with_one_cluster_secret_verify_each_others_tokens(tmp_path, demo_data):
    a, b = _two_homes(tmp_path, demo_data, SECRET)
    try:
        assert a.ads_secret == b.ads_secret and a.shop_secret == b.shop_secret
        assert not (a.home / "shop_secret").exists()  # the configured secret is used, none is made
        got = _served_on_a_clicked_on_b(a, b)
        assert got["clicks"] == 1 and got["spend"] > 0 and got["invalid_tokens"] == 0
        receipt = b.delete_user("u1")["receipt_id"]  # a receipt written on b matches the id hashed on a
        from shopmind.security.deletion import receipt as read_receipt

        assert read_receipt(a.store.engine, receipt)["user_hash"] == user_hash(a.shop_secret, "u1")
    finally:
        a.close()
        b.close()


def test_hosts_without_it_refuse_each_others_tokens(tmp_path, demo_data):
    a, b = _two_homes(tmp_path, demo_data, None)
    try:
        assert a.ads_secret != b.ads_secret and a.shop_secret != b.shop_secret
        got = _served_on_a_clicked_on_b(a, b)
        assert got["clicks"] == 0 and got["invalid_tokens"] == 1
    finally:
        a.close()
        b.close()

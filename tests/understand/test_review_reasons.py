"""Recommendation reasons that cite reviews: only a clearly praised aspect (Wilson lower bound, enough mentions), in the
shopper's language, never for a product without reviews; through the facade on real reviews analysed by the shipped models."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from scipy.stats import binomtest

from shopmind.engine import ShopMind
from shopmind.recommend.config import RecommendedItem, RecommendResponse
from shopmind.understand import review_reasons as rr


def _aspect(name: str, pos: int, n: int) -> dict:
    return {"aspect": name, "mentions": n, "positive": pos, "negative": n - pos, "neutral": 0}


def _scipy_lower(pos: int, n: int) -> float:
    return float(binomtest(pos, n).proportion_ci(0.95, method="wilson").low)


@pytest.mark.parametrize(("pos", "n"), [(5, 5), (10, 10), (47, 57), (3, 9), (0, 4), (120, 121)])
def test_wilson_lower_bound_matches_scipy(pos, n):
    assert rr.wilson_lower(pos, n) == pytest.approx(_scipy_lower(pos, n), abs=1e-4)


def test_only_a_clear_majority_over_enough_mentions_is_praised():
    assert rr.praised_aspect(None) is None and rr.praised_aspect({"aspects": []}) is None
    assert rr.praised_aspect({"aspects": [_aspect("battery", 4, 4)]}) is None  # too few mentions
    assert rr.praised_aspect({"aspects": [_aspect("battery", 5, 5)]}) is None  # bound 0.57
    assert rr.praised_aspect({"aspects": [_aspect("battery", 30, 57)]}) is None  # divided
    best = rr.praised_aspect({"aspects": [_aspect("battery", 47, 57), _aspect("screen", 12, 12), _aspect("price", 6, 20)]})
    assert best is not None and best["aspect"] == "screen" and best["mentions"] == 12  # highest bound, not most mentioned
    a = rr.praised_aspect({"aspects": [_aspect("battery", 47, 57)]})
    assert rr.review_reason(a, "en") == "reviewers praise its battery: 82 % positive over 57 mentions"
    assert rr.review_reason(a, "zh-CN") == "买家称赞其battery：57 次提及中 82 % 为好评"
    assert rr.review_reason({**a, "aspect": "电池"}, None).startswith("买家称赞其电池")  # no shopper language: the reviews'


@pytest.fixture(scope="module")
def shop(tmp_path_factory, demo_data, shared_data):
    """The demo catalog; 120 real reviews of one dress (reviews-en) on product m1, authors simulated; aspects built."""
    rows = pq.read_table(shared_data / "reviews-en" / "WomensClothingE-CommerceReviews.parquet.brotli").to_pylist()
    picked = [r for r in rows if r["Clothing ID"] == 1078 and r["Review Text"]][:120]
    s = ShopMind.open(tmp_path_factory.mktemp("shop"))
    s.import_file("products", demo_data / "products.jsonl")
    s.add_reviews({"id": f"r{i}", "product_id": "m1", "user_id": f"u{i % 6}", "rating": r["Rating"], "title": r["Title"] or "",
                   "text": r["Review Text"], "language": "en"} for i, r in enumerate(picked))
    yield s
    s.close()


def _response() -> RecommendResponse:
    items = [RecommendedItem(id="m1", score=1.0, reason="similar to Toy Story", reason_code="similar_to"),
             RecommendedItem(id="m2", score=0.5, reason="popular with shoppers", reason_code="popular")]
    return RecommendResponse(placement="product", items=items, models=["content"], took_ms=1.0)


def test_reasons_cite_the_praised_aspect_in_the_shoppers_language(shop):
    before = shop.review_reasons(_response(), "en")
    assert [i.reason for i in before.items] == ["similar to Toy Story", "popular with shoppers"]  # aspects not built yet
    shop._reviews_checked_at = float("-inf")
    shop.build_reviews()
    summary = shop.review_summary("m1")
    ok = [a for a in summary["aspects"] if a["mentions"] >= rr.MIN_MENTIONS and _scipy_lower(a["positive"], a["mentions"]) >= rr.MIN_LOWER]
    assert ok, summary  # 120 reviews of a well-liked dress: some aspect is clearly praised
    want = max(ok, key=lambda a: _scipy_lower(a["positive"], a["mentions"]))
    pct = round(100 * want["positive"] / want["mentions"])
    en = shop.review_reasons(_response(), "en")
    assert en.items[0].reason == f"similar to Toy Story; reviewers praise its {want['aspect']}: {pct} % positive over {want['mentions']} mentions"
    assert en.items[0].review["aspect"] == want["aspect"] and en.items[0].review["language"] == "en"
    zh = shop.review_reasons(_response(), "zh-CN")
    assert zh.items[0].reason == f"similar to Toy Story；买家称赞其{want['aspect']}：{want['mentions']} 次提及中 {pct} % 为好评"
    for out in (en, zh):  # m2 has no reviews: its reason never changes
        assert out.items[1].reason == "popular with shoppers" and out.items[1].review is None
    assert shop.review_summary("m2")["review_count"] == 0


def test_served_recommendations_cite_reviews_over_http(tmp_path, demo_data, shared_data):
    """/recommend end to end: the first recommended product gets real reviews; its reason cites them in the language asked."""
    from fastapi.testclient import TestClient

    from shopmind.api import create_app

    settings = {"search": {"stages": {"dense": False}}, "recommend": {"content_encoder": "none", "rising": False, "select": {"enabled": False}},
                "api": {"admin_keys": ["admin-key"], "public_keys": ["public-key"]}}
    home = tmp_path / "home"
    with ShopMind.open(home, **settings) as s:
        s.import_file("products", demo_data / "products.jsonl")
        pq.write_table(pq.read_table(demo_data / "events.parquet").slice(0, 3000), tmp_path / "events.parquet")
        s.import_file("events", tmp_path / "events.parquet")
        s.build(["recommend"])
        with TestClient(create_app(s)) as c:
            key = {"X-API-Key": "public-key"}
            first = c.get("/recommend", params={"placement": "home", "k": 5}, headers=key).json()["items"]
            assert all("review" not in it for it in first)
            rows = pq.read_table(shared_data / "reviews-en" / "WomensClothingE-CommerceReviews.parquet.brotli").to_pylist()
            picked = [r for r in rows if r["Clothing ID"] == 1078 and r["Review Text"]][:120]
            s.add_reviews({"id": f"r{i}", "product_id": first[0]["id"], "user_id": f"u{i % 6}", "text": r["Review Text"], "language": "en"}
                          for i, r in enumerate(picked))
            s.build_reviews()
            got = c.get("/recommend", params={"placement": "home", "k": 5, "language": "zh"}, headers=key).json()["items"]
            assert [it["id"] for it in got] == [it["id"] for it in first]
            assert got[0]["reason"].startswith(first[0]["reason"] + "；买家称赞其") and got[0]["review"]["language"] == "zh"
            assert [it["reason"] for it in got[1:]] == [it["reason"] for it in first[1:]] and all("review" not in it for it in got[1:])

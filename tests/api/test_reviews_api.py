"""Reviews over HTTP: add (ingest/admin only, 422 naming field and record), list without authors, build the aspect
summary, and a user's deletion removing their reviews and their quotes from the summary."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from shopmind.api import create_app
from shopmind.engine import ShopMind

ADMIN = {"X-API-Key": "admin-key"}
PUBLIC = {"X-API-Key": "public-key"}


@pytest.fixture(scope="module")
def review_rows(shared_data) -> list[dict]:
    """120 real reviews of one dress (reviews-en), put on demo product m1; authors simulated (u0…u5)."""
    rows = pq.read_table(shared_data / "reviews-en" / "WomensClothingE-CommerceReviews.parquet.brotli").to_pylist()
    picked = [r for r in rows if r["Clothing ID"] == 1078 and r["Review Text"]][:120]
    return [{"id": f"r{i}", "product_id": "m1", "user_id": f"u{i % 6}", "rating": r["Rating"], "title": r["Title"] or "",
             "text": r["Review Text"], "language": "en", "time": 1_700_000_000 + i} for i, r in enumerate(picked)]


@pytest.fixture(scope="module")
def client(tmp_path_factory, demo_data, review_rows):
    shop = ShopMind.open(tmp_path_factory.mktemp("shop"), api={"admin_keys": ["admin-key"], "public_keys": ["public-key"]})
    shop.import_file("products", demo_data / "products.jsonl")
    with TestClient(create_app(shop)) as c:
        yield c, shop
    shop.close()


def test_add_list_summarise_and_delete(client, review_rows):
    c, shop = client
    assert c.post("/reviews", json=review_rows[:2]).status_code == 401
    assert c.post("/reviews", json=review_rows[:2], headers=PUBLIC).status_code == 403
    bad = [review_rows[0], {**review_rows[1], "rating": 9}, {**review_rows[2], "text": ""}]
    r = c.post("/reviews", json=bad, headers=ADMIN)
    assert r.status_code == 422
    locs = [e["loc"] for e in r.json()["detail"]]
    assert ["body", 1, "rating"] in locs and ["body", 2, "text"] in locs
    assert c.get("/products/m1/reviews").json()["count"] == 0  # all or nothing
    assert c.post("/reviews", json=review_rows, headers=ADMIN).json() == {"stored": len(review_rows)}

    page = c.get("/products/m1/reviews", params={"limit": 5}).json()
    assert page["count"] == len(review_rows) and len(page["reviews"]) == 5
    assert page["reviews"][0]["id"] == review_rows[-1]["id"]  # newest first
    assert all("user_id" not in r for r in page["reviews"])  # authors are personal data
    assert page["mean_rating"] == pytest.approx(sum(r["rating"] for r in review_rows) / len(review_rows), abs=1e-3)
    assert c.get("/products/m1/reviews", params={"limit": 1000}).status_code == 422

    before = c.get("/products/m1/reviews/summary").json()
    assert before["aspects"] == [] and before["review_count"] == len(review_rows)
    built = shop.build_reviews()
    assert built["review_aspects"]["reviews"] == len(review_rows)
    summary = c.get("/products/m1/reviews/summary").json()
    assert summary["aspects"] and summary == shop.review_summary("m1")
    top = summary["aspects"][0]
    assert "% positive over" in top["summary"] and top["evidence"]

    victim = "u2"
    theirs = {r["id"] for r in review_rows if r["user_id"] == victim}
    removed = c.delete(f"/users/{victim}", headers=ADMIN).json()["removed"]
    assert removed["reviews"] == len(theirs)
    assert removed["artifacts"]["review_aspects"]["review_mentions"] > 0 and removed["review_aspects"] > 0  # files, memory
    assert c.get("/products/m1/reviews").json()["count"] == len(review_rows) - len(theirs)
    after = c.get("/products/m1/reviews/summary").json()
    quoted = {e["review_id"] for a in after["aspects"] for e in a["evidence"]}
    assert not quoted & theirs
    folder = shop.artifacts_dir("review_aspects") / shop.artifact_version("review_aspects")
    assert f'"{victim}"'.encode() not in (folder / "mentions.jsonl").read_bytes()

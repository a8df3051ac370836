"""Deleting a user reaches their reviews: the store row, every kept version of the `review_aspects` artifact (files),
the summaries loaded in this process and in another process on the same home, and no byte of the id stays under home."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from shopmind.engine import ShopMind

VICTIM = "reviewer-victim-7"


def _bytes_holding(home: Path, needle: bytes) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and needle in p.read_bytes())


@pytest.fixture
def rows(shared_data) -> list[dict]:
    """90 real reviews of one dress (reviews-en) on demo product m1; authors simulated, every third the victim."""
    table = pq.read_table(shared_data / "reviews-en" / "WomensClothingE-CommerceReviews.parquet.brotli").to_pylist()
    picked = [r for r in table if r["Clothing ID"] == 1078 and r["Review Text"]][:90]
    return [{"id": f"rv{i}", "product_id": "m1", "user_id": VICTIM if i % 3 == 0 else f"other-{i % 4}", "rating": r["Rating"],
             "title": r["Title"] or "", "text": r["Review Text"], "language": "en", "time": 1_700_000_000 + i} for i, r in enumerate(picked)]


def test_reviews_and_their_quotes_go_everywhere(tmp_path, demo_data, rows):
    home = tmp_path / "shop"
    shop = ShopMind.open(home)
    shop.import_file("products", demo_data / "products.jsonl")
    assert shop.add_reviews(rows) == len(rows)
    shop.build_reviews()
    time.sleep(1.1)  # versions are named to the second
    shop.build_reviews()
    versions = sorted(d.name for d in shop.artifacts_dir("review_aspects").iterdir() if d.is_dir())
    assert len(versions) == 2
    theirs = {r["id"] for r in rows if r["user_id"] == VICTIM}
    held = _bytes_holding(home, VICTIM.encode())
    assert all(any(h.startswith(f"artifacts/review_aspects/{v}/") for h in held) for v in versions), held  # the test can fail
    other = ShopMind.open(home)  # another process on the same home, summaries loaded
    quoted_before = {e["review_id"] for a in other.review_summary("m1")["aspects"] for e in a["evidence"]}
    assert quoted_before & theirs

    removed = shop.delete_user(VICTIM)

    assert removed["reviews"] == len(theirs) and removed["artifacts"]["review_aspects"]["versions"] == 2
    assert shop.product_reviews("m1", limit=100)["count"] == len(rows) - len(theirs)
    assert _bytes_holding(home, VICTIM.encode()) == []
    victim_text = next(r["text"] for r in rows if r["user_id"] == VICTIM and len(r["text"]) > 60)
    assert _bytes_holding(home / "artifacts", victim_text[:60].encode()) == []
    for s in (shop, other):
        if s is other:
            assert other._deletions.poll() == 1  # the other process follows the receipt and forgets the author
        summary = s.review_summary("m1")
        assert not {e["review_id"] for a in summary["aspects"] for e in a["evidence"]} & theirs
        assert summary["review_count"] == len(rows) - len(theirs)
    other.close()
    shop.close()

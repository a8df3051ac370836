"""Aspect summaries built from real reviews with the shipped models: counts add up, quotes are real sentences,
a deleted author's mentions leave the built files."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from shopmind.domain import Review
from shopmind.understand import review_summary as rs


@pytest.fixture(scope="module")
def reviews(shared_data) -> list[Review]:
    """300 real women's-clothing reviews of three garments; authors are simulated (u0…u9: the source has none)."""
    rows = pq.read_table(shared_data / "reviews-en" / "WomensClothingE-CommerceReviews.parquet.brotli").to_pylist()
    top = {1078: "dress-1078", 862: "top-862", 1094: "dress-1094"}
    picked = [r for r in rows if r["Clothing ID"] in top and r["Review Text"]][:300]
    return [Review(id=f"r{i}", product_id=top[r["Clothing ID"]], user_id=f"u{i % 10}", rating=r["Rating"], title=r["Title"] or "",
                   text=r["Review Text"], language="en", time=1_700_000_000 + i) for i, r in enumerate(picked)]


@pytest.fixture(scope="module")
def built(reviews, tmp_path_factory):
    out = tmp_path_factory.mktemp("reviews") / "v1"
    return out, rs.ReviewSummaries.build(reviews, out)


def test_summary_counts_and_quotes(reviews, built):
    _, svc = built
    texts = {r.id: f"{r.title}. {r.text}" if r.title else r.text for r in reviews}
    s = svc.summary("dress-1078")
    assert s["mentions"] > 20 and s["aspects"], s
    for a in s["aspects"]:
        assert a["positive"] + a["negative"] + a["neutral"] == a["mentions"] >= rs.MIN_MENTIONS
        assert a["positive_share"] == pytest.approx(a["positive"] / a["mentions"], abs=1e-4)
        assert a["summary"] == f"{a['aspect']}: {round(100 * a['positive'] / a['mentions'])} % positive over {a['mentions']} mentions"
        ids = [e["review_id"] for e in a["evidence"]]
        assert 1 <= len(ids) <= rs.EVIDENCE and len(set(ids)) == len(ids)
        for e in a["evidence"]:
            assert e["quote"] in texts[e["review_id"]] and e["term"].lower() in e["quote"].lower()
    counts = [a["mentions"] for a in s["aspects"]]
    assert counts == sorted(counts, reverse=True)
    assert svc.summary("no-such-product") == {"product_id": "no-such-product", "mentions": 0, "reviews": 0, "aspects": []}


def test_load_matches_build_and_scrub_removes_an_author(built):
    out, svc = built
    again = rs.ReviewSummaries.load(out)
    assert again.summary("top-862") == svc.summary("top-862")
    assert "u3" in again.user_ids()
    gone = rs.scrub(out, {"u3"})["review_mentions"]
    assert gone > 0 and b'"u3"' not in (out / rs.MENTIONS).read_bytes()
    assert "u3" not in rs.ReviewSummaries.load(out).user_ids()
    assert again.forget_user("u3") == gone and "u3" not in again.user_ids()

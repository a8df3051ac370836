"""Reviews in the store suite: upsert by id, a product's page, stats, keyset scan and deletion with the author (both backends)."""

from __future__ import annotations

import orjson
import pyarrow.parquet as pq
import pytest

from shopmind.domain import Review
from shopmind.store import open_store
from shopmind.store import reviews as rv


@pytest.fixture(scope="module")
def real_reviews(shared_data) -> list[Review]:
    """60 real women's-clothing reviews; the authors are simulated (u0…u4: the source has none)."""
    rows = pq.read_table(shared_data / "reviews-en" / "WomensClothingE-CommerceReviews.parquet.brotli").slice(0, 200).to_pylist()
    rows = [r for r in rows if r["Review Text"]][:60]
    return [Review(id=f"r{i}", product_id=f"c{r['Clothing ID'] % 3}", user_id=f"u{i % 5}", rating=r["Rating"], title=r["Title"] or "",
                   text=r["Review Text"], language="en", time=1_700_000_000 + i) for i, r in enumerate(rows)]


@pytest.fixture
def store(store_url):
    s = open_store(store_url)
    yield s
    s.close()


def test_upsert_page_stats_and_scan(store, real_reviews):
    assert store.upsert_reviews(real_reviews) == 60
    assert store.upsert_reviews(real_reviews[:10]) == 10  # a replay replaces, adds nothing
    assert rv.review_count(store) == 60
    by_product = {}
    for r in real_reviews:
        by_product.setdefault(r.product_id, []).append(r)
    pid, mine = max(by_product.items(), key=lambda kv: len(kv[1]))
    page = rv.product_reviews(store, pid, limit=5)
    assert [r.id for r in page] == [r.id for r in sorted(mine, key=lambda r: -r.time.timestamp())][:5]  # newest first
    assert page[0].text == next(r.text for r in mine if r.id == page[0].id) and page[0].time.tzinfo is not None
    stats = rv.review_stats(store, pid)
    assert stats["count"] == len(mine) and stats["mean_rating"] == pytest.approx(sum(r.rating for r in mine) / len(mine), abs=1e-3)
    assert rv.review_stats(store, "nope") == {"count": 0, "mean_rating": None}
    scanned = list(rv.iter_reviews(store, batch_size=7))
    assert len(scanned) == 60 and len({r.id for r in scanned}) == 60


def test_replaced_review_keeps_the_last_text(store, real_reviews):
    store.upsert_reviews(real_reviews[:3])
    changed = real_reviews[0].model_copy(update={"text": "changed my mind", "rating": 1.0})
    store.upsert_reviews([changed])
    got = {r.id: r for r in rv.iter_reviews(store)}
    assert got[changed.id].text == "changed my mind" and got[changed.id].rating == 1.0


def test_deleting_a_user_removes_their_reviews(store, real_reviews):
    store.upsert_reviews(real_reviews)
    theirs = sum(r.user_id == "u1" for r in real_reviews)
    removed = store.delete_user("u1")
    assert removed["reviews"] == theirs > 0
    left = list(rv.iter_reviews(store))
    assert len(left) == 60 - theirs and all(r.user_id != "u1" for r in left)


def test_bulk_import_names_the_bad_field_and_line(store, real_reviews, tmp_path):
    from shopmind.importer import ImportFailed, OnError, import_file

    rows = [r.model_dump(mode="json") for r in real_reviews[:20]]
    rows[7] = {**rows[7], "rating": 6}
    rows[12] = {k: v for k, v in rows[12].items() if k != "product_id"}
    path = tmp_path / "reviews.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    with pytest.raises(ImportFailed) as err:
        import_file(store, "reviews", path, batch_size=100)
    assert f"{path}:8: rating" in str(err.value) and rv.review_count(store) == 0
    report = import_file(store, "reviews", path, on_error=OnError.SKIP, batch_size=100)
    assert report.stored == 18 and report.rejected == 2
    assert {str(e) for e in report.errors} >= {f"{path}:8: rating: Input should be less than or equal to 5", f"{path}:13: product_id: Field required"}
    report = import_file(store, "reviews", path, on_error=OnError.SKIP, batch_size=100)
    assert rv.review_count(store) == 18  # a replayed file adds nothing

"""features stage: the ranker's feature matrix over real candidates, and no work without a ranker."""

from __future__ import annotations

import numpy as np

from shopmind.ranking.features import USER_FEATURES
from shopmind.search.ranker import FEATURES
from shopmind.search.stages.features import entity_match, feature_matrix, rising_of
from tests.search.stages.conftest import LEXICAL_ONLY, known_brand, run_until


def test_columns_hold_what_they_name(hd_svc) -> None:
    ctx = run_until(hd_svc, "cordless drill under $60", "fuse", mode="bm25")
    idx = ctx.order[:50]
    X = feature_matrix(hd_svc, ctx.r, idx, ctx.rrf, ctx.convex, ctx.u, None)
    col = {f: X[:, i] for i, f in enumerate(FEATURES)}
    assert X.shape == (len(idx), len(FEATURES)) and X.dtype == np.float32
    assert np.allclose(col["bm25"], ctx.r.lex[idx]) and np.allclose(col["convex"], ctx.convex[idx])
    rows = ctx.r.cand[idx]
    assert np.array_equal(col["price_fit"], (hd_svc.table.price[rows] <= 60).astype(np.float32))
    assert (col["query_terms"] == len(set(ctx.u.tokens))).all() and not any(col[f].any() for f in USER_FEATURES)


def test_no_ranker_means_no_matrix(hd_svc) -> None:
    assert hd_svc.ranker is None
    ctx = run_until(hd_svc, "cordless drill", "features", mode="bm25")
    assert ctx.X is None and ctx.head is None


def test_entity_match_counts_brand_and_attribute_values(ob_svc) -> None:
    brand = known_brand(ob_svc)
    u = ob_svc.understand(f"{brand.lower()} 连衣裙")
    rows = np.arange(len(ob_svc.table))
    ent = entity_match(ob_svc.table, rows, u)
    assert (ent[[ob_svc.table.brand_of(int(r)) == brand for r in rows]] >= 1).all()


def test_rising_of_rows_added_later_is_zero() -> None:
    rising = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    assert rising_of(rising, np.array([1, 5])).tolist() == [[3.0, 4.0], [0.0, 0.0]]


def test_values_read_from_the_title_are_not_counted_again(hd_slice, tmp_path) -> None:
    """An extracted value repeats its own title: facets and filters see it, the entity boost and column do not; the
    shop's own value for the same key still counts, and the table keeps the distinction across save and load."""
    from shopmind.search import SearchService
    from shopmind.search.catalog import ProductTable
    from shopmind.understand.enrich import enrich

    prods = enrich([p.model_copy(deep=True) for p in hd_slice[:300]])
    read = next(p for p in prods if p.attributes_extracted.get("color", {}).get("source") == "title")
    value = read.attributes_extracted["color"]["value"]
    shop = prods[0].model_copy(update={"id": "shop-supplied", "attributes": {"color": value}, "attributes_extracted": {}})
    svc = SearchService.build([*prods, shop], None, tmp_path / "svc", LEXICAL_ONLY)
    t = svc.table
    rows = np.array([t.row_of[read.id], t.row_of["shop-supplied"]])
    u = svc.understand(f"{value.lower()} {read.title.split()[-1].lower()}")
    assert value in u.attributes.get("color", [])
    assert t.filter_masks({"attributes.color": [value]})["attributes.color"][rows].all()  # the facet sees both
    assert entity_match(t, rows, u).tolist() == [0.0, 1.0]
    t.save(tmp_path / "table")
    again = ProductTable.load(tmp_path / "table")
    assert np.array_equal(again.title_read["color"], t.title_read["color"]) and again.title_read["color"][rows[0]]

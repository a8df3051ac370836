"""fuse stage: convex and RRF scores from the retrieval ranks, boosts, and the fused order."""

from __future__ import annotations

import numpy as np

from shopmind.search.stages.fuse import fuse_scores
from tests.search.stages.conftest import known_brand, run_until


def test_bm25_mode_fuses_to_normalised_bm25(hd_svc) -> None:
    ctx = run_until(hd_svc, "cordless drill", "fuse", mode="bm25")
    r = ctx.r
    assert np.allclose(ctx.convex, r.lex / r.lex.max()) and np.array_equal(ctx.fused, ctx.convex)
    expected_rrf = np.where(np.isfinite(r.lex_rank), 1.0 / (hd_svc.config.rrf_k + r.lex_rank), 0.0)
    assert np.allclose(ctx.rrf, expected_rrf)
    ordered = ctx.score[ctx.order]
    assert (np.diff(ordered) <= 0).all() and sorted(ctx.order.tolist()) == list(range(len(r.cand)))


def test_rrf_is_chosen_only_for_hybrid(hd_svc) -> None:
    r = run_until(hd_svc, "garden hose", "retrieve", mode="bm25").r
    fused, rrf, convex = fuse_scores(r, "hybrid", hd_svc.config, fusion="rrf")
    assert np.array_equal(fused, rrf)
    fused, _, convex = fuse_scores(r, "bm25", hd_svc.config, fusion="rrf")
    assert np.array_equal(fused, convex)


def test_recognised_brand_is_boosted(ob_svc) -> None:
    brand = known_brand(ob_svc)
    ctx = run_until(ob_svc, f"{brand.lower()} 连衣裙", "fuse", mode="bm25")
    ent = ctx.boosts["entity"]
    has_brand = np.array([ob_svc.table.brand_of(int(x)) == brand for x in ctx.r.cand])
    assert (ent[has_brand] > 0).all() and (ent[~has_brand] == 0).all()
    assert np.allclose(ctx.score, ctx.fused + sum(ctx.boosts.values()))

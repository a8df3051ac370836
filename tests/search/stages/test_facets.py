"""facets stage: counts over the match set, each facet lifting only its own filter."""

from __future__ import annotations

from collections import Counter

import numpy as np

from tests.search.stages.conftest import run_until


def test_facet_counts_are_the_match_set_recounted(ob_svc) -> None:
    ctx = run_until(ob_svc, "连衣裙", "facets", mode="bm25", facets=["brand", "category"])
    t = ob_svc.table
    rows = np.flatnonzero(ctx.r.match)
    brands = Counter(t.brand_of(int(r)) for r in rows if t.brand_of(int(r)))
    got = {v.value: v.count for v in ctx.facets[0].values}
    assert ctx.facets[0].name == "brand" and got == dict(brands)


def test_a_facet_ignores_its_own_filter(ob_svc) -> None:
    plain = run_until(ob_svc, "连衣裙", "facets", mode="bm25", facets=["brand"])
    top = plain.facets[0].values[0].value
    filtered = run_until(ob_svc, "连衣裙", "facets", mode="bm25", facets=["brand"], filters={"brand": [top]})
    assert filtered.facets[0].model_dump() == plain.facets[0].model_dump()  # multi-select: other brands stay countable
    assert int(filtered.r.match.sum()) == plain.facets[0].values[0].count


def test_no_facets_asked_none_computed(ob_svc) -> None:
    assert run_until(ob_svc, "连衣裙", "facets", mode="bm25").facets == []

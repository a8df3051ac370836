"""Stage 7, facets: multi-select counts — each facet counts the result set under every active filter but its own."""

from __future__ import annotations

from shopmind.search.models import Facet, FacetValue, PriceBucket
from shopmind.search.stages.context import SearchContext
from shopmind.search.stages.retrieve import allowed_rows, retrieve


def run(ctx: SearchContext) -> None:
    """ctx.facets ← the requested facets (brand, category, price, attributes.<key> …)."""
    names = ctx.request.facets
    if not names:
        return
    parts, r = ctx.parts, ctx.r
    assert ctx.lexical is not None
    min_sim = ctx.min_sim if "semantic" not in ctx.relax else -1.0
    out = []
    for name in names:
        if name in ctx.masks:  # this facet's own filter is lifted for its counts
            m = retrieve(parts, ctx.lexical, ctx.qvec, allowed_rows(parts, ctx.masks, skip=name), ctx.mode, ctx.dense_k, min_sim).match
        else:
            m = r.match
        if name == "price":
            edges = parts.price_edges
            buckets = [PriceBucket(min=a, max=b, count=c) for a, b, c in parts.table.price_counts(m, edges)] if edges else []
            out.append(Facet(name=name, ranges=buckets))
        else:
            vals = parts.table.value_counts(name, m, parts.config.facet_size)
            out.append(Facet(name=name, values=[FacetValue(value=v, count=c) for v, c in vals]))
    ctx.facets = out

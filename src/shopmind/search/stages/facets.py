"""Stage 7, facets: multi-select counts over the query's match set — each facet counts the match set under every
active filter but its own, so a value's count is exactly the `total` the same query gets with that value selected."""

from __future__ import annotations

import numpy as np

from shopmind.search.models import Facet, FacetValue, PriceBucket
from shopmind.search.stages.context import SearchContext
from shopmind.search.stages.retrieve import allowed_rows


def run(ctx: SearchContext) -> None:
    """ctx.facets ← the requested facets (brand, category, price, attributes.<key> …); empty counts for related hits."""
    names = ctx.request.facets
    if not names:
        return
    parts, mi = ctx.parts, ctx.m
    matched = np.zeros_like(mi.matched) if mi.related else mi.matched  # related products are no matches: every count is 0
    out = []
    for name in names:
        m = matched & allowed_rows(parts, ctx.masks, skip=name if name in ctx.masks else None)
        if name == "price":
            edges = parts.price_edges
            buckets = [PriceBucket(min=a, max=b, count=c, filter={k: v for k, v in (("min", a), ("below", b)) if v is not None})
                       for a, b, c in parts.table.price_counts(m, edges)] if edges else []
            out.append(Facet(name=name, ranges=buckets))
        else:
            vals = parts.table.value_counts(name, m, parts.config.facet_size)
            out.append(Facet(name=name, values=[FacetValue(value=v, count=c) for v, c in vals]))
    ctx.facets = out

"""Response models of the search service: query understanding, hits with their `why`, facets."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class PriceRange(BaseModel):
    """A price interval; either end may be open."""

    min: float | None = None
    max: float | None = None
    source: str | None = Field(default=None, description="the query words it came from")


class QueryUnderstanding(BaseModel):
    """What the service made of the query, stage by stage, and how long each stage took."""

    original: str
    normalized: str
    language: str
    tokens: list[str] = Field(default_factory=list)
    did_you_mean: str | None = None
    corrections: dict[str, str] = Field(default_factory=dict)
    synonyms: dict[str, list[str]] = Field(default_factory=dict)
    price: PriceRange | None = None
    brands: list[str] = Field(default_factory=list)
    attributes: dict[str, list[str]] = Field(default_factory=dict)
    category: str | None = None
    category_confidence: float = 0.0
    stages: list[str] = Field(default_factory=list)
    interpretations: list[str] = Field(default_factory=list, description="what the query was read as beyond its words: "
                                       "'translated: 教父 → godfather', 'years: 1990年代 → year 1990–1999', values named in the other language")
    recovery: str | None = Field(default=None, description="the last rewrite a query that matched nothing went through "
                                  "(relaxed …, corrected spelling …, dropped term …) or 'related'")
    recovery_steps: list[str] = Field(default_factory=list, description="every rewrite tried, in order")
    timings_ms: dict[str, float] = Field(
        default_factory=dict,
        description="milliseconds per pipeline stage (understand, retrieve with retrieve.lexical and retrieve.dense, fuse, "
        "features, rank, rules, facets, page) and their total; also in /metrics as shopmind_search_stage_seconds",
    )


class Why(BaseModel):
    """Why this product is here and at this place."""

    matched_terms: list[str] = Field(default_factory=list)
    bm25: float = 0.0
    dense_similarity: float | None = None
    fused: float = 0.0
    ranker: float | None = None
    boosts: dict[str, float] = Field(default_factory=dict)
    rules: list[str] = Field(default_factory=list)
    match: list[str] = Field(default_factory=list, description="why it is in the match set: 'terms k/n' (query terms it "
                             "contains), 'dense z' (similar enough to the query), then the query's interpretations; empty for a related product")
    related: bool = Field(default=False, description="no product matched the query: this is one of the nearest, not a match")


class Hit(BaseModel):
    """One search result."""

    id: str
    score: float
    title: str
    price: float | None = None
    brand: str | None = None
    category: str | None = None
    why: Why | None = None


class FacetValue(BaseModel):
    value: str
    count: int


class PriceBucket(BaseModel):
    """Products priced in [min, max); `filter` is the price filter that selects exactly them."""

    min: float | None
    max: float | None
    count: int
    filter: dict[str, float] = Field(default_factory=dict, description='{"min": lo, "below": hi}')


class Facet(BaseModel):
    """Counts of one facet over the result set under every other active filter (multi-select)."""

    name: str
    values: list[FacetValue] = Field(default_factory=list)
    ranges: list[PriceBucket] = Field(default_factory=list)


class SearchResponse(BaseModel):
    query: QueryUnderstanding
    total: int = Field(description="products that match the query under the filters (0 when only related products are shown)")
    page: int
    per_page: int
    sort: str
    hits: list[Hit]
    facets: list[Facet] = Field(default_factory=list)
    took_ms: float = 0.0
    related: int = Field(default=0, description="hits that are related products, not matches (the query matched nothing)")
    experiment: dict[str, Any] | None = Field(default=None, description="{id, variant} of the experiment this answer was served in; "
                                              "an interleaving adds `teams`: per position 0 = control, 1 = the other arm")

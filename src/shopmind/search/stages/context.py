"""What flows through the search pipeline: the request, the read-only parts it runs on, and one context
dataclass every stage reads from and writes its own fields into (each stage: `run(ctx) -> None`)."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from shopmind.index.lexical import LexicalIndex
from shopmind.index.vectors import VectorIndex
from shopmind.search.catalog import ProductTable
from shopmind.search.config import SearchConfig
from shopmind.search.models import Facet, Hit
from shopmind.search.ranker import Ranker
from shopmind.search.understand import CategoryIntent, EntityMatcher, Speller, Understood

SORTS = ("relevance", "price_asc", "price_desc", "newest", "popularity")


class QueryEncoder(Protocol):
    """What the dense stages need of an embedding store: query vectors, a name and a dimension."""

    name: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


class SearchParts(Protocol):
    """The built, read-only pieces the stages run on (`SearchService` is one)."""

    config: SearchConfig
    table: ProductTable
    lexical: LexicalIndex
    vectors: VectorIndex | None
    speller: Speller
    entities: EntityMatcher
    intent: CategoryIntent | None
    synonyms: dict[str, list[str]]
    ranker: Ranker | None
    user_brand: dict[str, dict[str, float]]
    user_cat: dict[str, dict[str, float]]
    title_len: np.ndarray
    rising: np.ndarray
    cheap_max: float | None
    price_edges: list[float]

    pool: Executor  # the query lane (search.lane): model calls one at a time with `query_threads` OpenMP threads

    @property
    def encoder(self) -> QueryEncoder: ...


@dataclass(frozen=True)
class SearchRequest:
    """One query and how the caller wants its answer."""

    query: str
    user_id: str | None = None
    filters: dict[str, Any] | None = None
    facets: list[str] | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    explain: bool = True
    mode: str = "hybrid"  # hybrid | bm25 | dense
    use_ranker: bool = True
    history: tuple[str, ...] | None = None  # the user's recent items, oldest first (the ranker's personal columns)
    related: bool = True  # related products (not matches, marked in why) fill the pages after the matches; False: matches only

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}")
        if self.page < 1 or self.per_page < 1:
            raise ValueError("page and per_page must be ≥ 1")


@dataclass
class Retrieval:
    """Everything retrieval produced for one query under one set of filters."""

    match: np.ndarray  # bool over rows: the result set (the match set ∩ the filters)
    cand: np.ndarray  # candidate rows scored by fusion (lexical head ∪ dense top-k)
    lex: np.ndarray  # weighted BM25 per candidate
    per_field: dict[str, np.ndarray]  # per-field BM25 per candidate
    coverage: np.ndarray
    all_terms: np.ndarray
    cos: np.ndarray  # dense cosine per candidate (0 when dense is off)
    lex_rank: np.ndarray
    dense_rank: np.ndarray
    lex_all: np.ndarray  # weighted BM25 over all rows
    dense_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass
class MatchInfo:
    """The query's match set before any filter (stages.match) and what decided it."""

    matched: np.ndarray  # bool over rows: lexical rule ∪ dense rule, live rows only
    lexical: np.ndarray  # bool over rows: the lexical rule
    dense_rows: np.ndarray  # rows of the dense rule, best first
    dense_cos: np.ndarray  # their cosines
    dense_threshold: float | None  # the cosine the dense rule asked for (None: no dense side)
    terms: list[str] = field(default_factory=list)  # the query terms the lexical rule counted
    dropped: list[str] = field(default_factory=list)  # terms a relaxation stopped asking for
    term_count: np.ndarray | None = None  # per row: how many of `terms` it contains
    related: bool = False  # no match: these are the nearest products, shown as related (total 0)

    def dense(self) -> tuple[np.ndarray, np.ndarray, float | None]:
        """(rows, cosines, threshold) of the dense rule."""
        return self.dense_rows, self.dense_cos, self.dense_threshold


@dataclass
class LexicalScores:
    """BM25 of the query over every row: weighted sum, per field, title coverage (n × 3)."""

    lex_all: np.ndarray
    per_field: dict[str, np.ndarray]
    cov: np.ndarray


@dataclass
class SearchContext:
    """One request on its way through the stages; each stage fills the fields named after it."""

    parts: SearchParts
    request: SearchRequest
    mode: str = "hybrid"  # the request's mode until recovery falls back to dense
    timings: dict[str, float] = field(default_factory=dict)  # ms per stage
    stages: list[str] = field(default_factory=list)  # what ran, in order (reported in the response)
    # understand
    understood: Understood | None = None
    # retrieve
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    relax: set[str] = field(default_factory=set)
    dense_k: int = 0
    min_sim: float = 0.0
    lexical: LexicalScores | None = None
    qvec: np.ndarray | None = None
    match: MatchInfo | None = None
    retrieval: Retrieval | None = None
    recovery: str | None = None
    recovery_steps: list[str] = field(default_factory=list)
    # fuse
    fused: np.ndarray | None = None
    rrf: np.ndarray | None = None
    convex: np.ndarray | None = None
    score: np.ndarray | None = None  # fused + boosts, per candidate
    boosts: dict[str, np.ndarray] = field(default_factory=dict)
    order: np.ndarray | None = None  # candidate positions, best first
    # features
    head: np.ndarray | None = None  # candidate positions the ranker reorders
    X: np.ndarray | None = None
    # rank
    rk_scores: np.ndarray | None = None
    ranked_rows: np.ndarray | None = None
    final_score: np.ndarray | None = None
    tail_mask: np.ndarray | None = None  # matched rows outside the candidates (long lexical tail)
    # rules
    rule_notes: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    # facets / page
    facets: list[Facet] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    n_related: int = 0  # hits on the page that are related products

    @property
    def u(self) -> Understood:
        """The understood query (set by the understand stage)."""
        assert self.understood is not None, "the understand stage has not run"
        return self.understood

    @property
    def m(self) -> MatchInfo:
        """The match set (set by the retrieve stage)."""
        assert self.match is not None, "the retrieve stage has not run"
        return self.match

    @property
    def r(self) -> Retrieval:
        """The retrieval (set by the retrieve stage)."""
        assert self.retrieval is not None, "the retrieve stage has not run"
        return self.retrieval

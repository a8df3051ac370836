"""Experiment definitions: an A/B test or an interleaving of variants on one surface, as stored and served.

A variant is a set of per-request `overrides` of the surface's config and/or `version`: a registry version per part
(e.g. {"search": "20261206-…"}). What the overrides may name is checked against the surface's config by the facade
(`shopmind.facade.experiments`), which knows the parts; this module checks the shape.
"""

from __future__ import annotations

import re
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shopmind.errors import ShopMindError
from shopmind.experiments.optimized import Credit

__all__ = ["METRICS", "Assignment", "Experiment", "ExperimentConflict", "ExperimentError", "ExperimentNotFound", "Guardrail", "Variant"]

# metric → (kind, description); the analysis computes each per unit after its first exposure (see analysis.py)
METRICS: dict[str, str] = {
    "ctr": "clicks per exposure (a ratio of per-unit sums, delta method)",
    "add_to_cart_rate": "share of exposed units with at least one add_to_cart",
    "conversion": "share of exposed units with at least one purchase",
    "revenue_per_user": "purchase revenue (price × quantity) per exposed unit",
}
SURFACE = re.compile(r"^(search|ads|assistant|recommend:[a-z0-9_]{1,64})$")
NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class ExperimentError(ShopMindError, ValueError):
    """An experiment that cannot be created, started or stopped as asked; the message names the field or state."""


class ExperimentConflict(ExperimentError):
    """The experiment's state forbids the action (an id taken, not a draft, not running, its surface busy)."""


class ExperimentNotFound(ShopMindError, KeyError):
    """No experiment with that id."""


class Variant(BaseModel):
    """One arm: its share of units, the config it overrides per request, and the model versions it serves."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME)
    weight: float = Field(default=1.0, gt=0, description="relative share of units (normalised over the variants)")
    control: bool = False
    overrides: dict[str, Any] = Field(default_factory=dict, description="per-request knobs of the surface's config")
    version: dict[str, str] | None = Field(default=None, description="part → registry version served to this arm")


class Guardrail(BaseModel):
    """A metric that must not get worse than `max_drop` (relative to control, e.g. 0.02 = 2 %) in any variant."""

    model_config = ConfigDict(extra="forbid")

    metric: str
    max_drop: float = Field(default=0.0, ge=0, le=1)

    @field_validator("metric")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in METRICS:
            raise ValueError(f"unknown metric {v!r}; known: {', '.join(METRICS)}")
        return v


class Experiment(BaseModel):
    """An experiment as stored (`experiments` table) and served; `salt` defaults to the id (a new salt reshuffles units)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=NAME)
    name: str = Field(default="", max_length=500)
    surface: str = Field(description='"search", "recommend:<placement>", "ads" or "assistant"')
    kind: Literal["ab", "interleave"] = "ab"
    method: Literal["team_draft", "optimized"] = Field(
        default="team_draft", description="interleavings only: team draft (credit to the picking ranker, sign test) or optimized "
                                          "interleaving (fair list distribution, rank-difference credit, t-test; experiments.optimized)")
    credit: Credit = Field(
        default="negative", description="optimized interleaving's click credit c(rank_B) - c(rank_A): c = -rank (negative, the one "
                                        "bench/experiments.py chose and measured), 1/rank (inverse), -ln rank (log) or -rank² (squared)")
    variants: list[Variant]
    unit: Literal["user", "session"] = "user"
    salt: str = Field(default="", max_length=200)
    status: Literal["draft", "running", "stopped"] = "draft"
    created_at: float = Field(default_factory=time.time)
    started_at: float | None = None
    ended_at: float | None = None
    metrics: list[str] = Field(default_factory=lambda: list(METRICS))
    guardrails: list[Guardrail] = Field(default_factory=list)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    pre_days: float = Field(default=14.0, ge=0, le=366, description="days before the start whose metrics are CUPED's covariate")

    @field_validator("surface")
    @classmethod
    def _surface(cls, v: str) -> str:
        if not SURFACE.match(v):
            raise ValueError(f"{v!r} is not a surface: search, recommend:<placement>, ads or assistant")
        return v

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, v: list[str]) -> list[str]:
        unknown = [m for m in v if m not in METRICS]
        if unknown or not v:
            raise ValueError(f"unknown metric(s) {unknown}; known: {', '.join(METRICS)}" if unknown else "name at least one metric")
        return list(dict.fromkeys(v))

    @field_validator("variants")
    @classmethod
    def _variants(cls, v: list[Variant]) -> list[Variant]:
        if len(v) < 2:
            raise ValueError(f"an experiment needs at least 2 variants, got {len(v)}")
        names = [x.name for x in v]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be unique: {names}")
        controls = [x.name for x in v if x.control]
        if len(controls) != 1:
            raise ValueError(f"exactly one variant must have control=true (found {len(controls)}: {controls})")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        if not self.salt:
            self.salt = self.id
        if self.kind == "interleave":
            if len(self.variants) != 2:
                raise ValueError("variants: an interleaving experiment has exactly 2 variants (control and one other)")
            if not (self.surface == "search" or self.surface.startswith("recommend:")):
                raise ValueError(f"kind: interleaving applies to ranked lists (search, recommend:<placement>), not {self.surface!r}")
        return self

    @property
    def control(self) -> Variant:
        """The control arm (effects are each other variant minus it)."""
        return next(v for v in self.variants if v.control)

    def variant(self, name: str) -> Variant:
        """The arm called `name`."""
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(name)


class Assignment(BaseModel):
    """What `variant_for` decided for one request: the experiment, the arm and what it changes."""

    model_config = ConfigDict(frozen=True)

    experiment_id: str
    variant: str
    overrides: dict[str, Any] = Field(default_factory=dict)
    version: dict[str, str] | None = None
    kind: Literal["ab", "interleave"] = "ab"
    method: Literal["team_draft", "optimized"] = "team_draft"  # how an interleaving merges and credits (Experiment.method)
    credit: Credit = "negative"  # optimized interleaving's credit (Experiment.credit)
    unit_id: str = ""

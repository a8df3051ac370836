"""What an experiment's variant may change per request on each surface, and how a part serves with it without a rebuild.

Per-request knobs (read by the part on every request; anything else is fixed at build time and needs a version):

| surface | config knobs | request knobs |
|---|---|---|
| search | `stages.*`, fusion, rrf_k, dense_weight, dense_k, dense_min_sim, rerank_k, entity_mode, entity_boost, intent_boost, intent_min_confidence, rising_boost, facet_size, rules | mode (hybrid, bm25, dense), use_ranker |
| recommend:<placement> | that placement's PlacementConfig: sources, exclude_purchased, exclude_seen, diversity, fallback, candidates, restrict | — |
| ads | ranking, min_relevance, reserve_cpc, reserve_cpm, history_items | — |
| assistant | results, turn_budget_ms, max_tokens, session_token_budget, timeout_s | — |

A variant's `version` pins a registry version of `search` (surface search) or `recommend` (recommend:<placement>).
The part serves through `overlay(part, config=…)`: the same loaded object (indexes, models, caches, pacing state are
shared; writes reach it) seen with another config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from shopmind.experiments.model import ExperimentError
from shopmind.experiments.service import validation_message

__all__ = ["SURFACES", "Surface", "family", "overlay"]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _validated(cls: type[BaseModel], data: dict[str, Any], where: str) -> Any:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise ExperimentError(validation_message(exc, f"{where}.")) from exc


def _search_config(config: Any, surface: str, over: dict[str, Any]) -> Any:
    return _validated(type(config), _merge(config.model_dump(), over), "overrides")


def _placement_config(config: Any, surface: str, over: dict[str, Any]) -> Any:
    placement = surface.split(":", 1)[1]
    if placement not in config.placements:
        raise ExperimentError(f"surface: no placement {placement!r}; configured: {sorted(config.placements)}")
    pc = config.placements[placement]
    new = _validated(type(pc), {**pc.model_dump(), **over}, "overrides")
    return config.model_copy(update={"placements": {**config.placements, placement: new}})


def _flat_config(config: Any, surface: str, over: dict[str, Any]) -> Any:
    return _validated(type(config), {**config.model_dump(), **over}, "overrides")


def _config_attrs(part: Any, surface: str, over: dict[str, Any], with_config: Callable[[Any, str, dict[str, Any]], Any]) -> dict[str, Any]:
    return {"config": with_config(part.config, surface, over)}


def _placement_attrs(part: Any, surface: str, over: dict[str, Any], with_config: Callable[[Any, str, dict[str, Any]], Any]) -> dict[str, Any]:
    """A recommend part serves `part.placements` (what its build chose per placement), else its config's."""
    config = with_config(part.config, surface, over)
    placements = getattr(part, "placements", None)
    if not isinstance(placements, dict):
        return {"config": config}
    name = surface.split(":", 1)[1]
    served = placements.get(name, part.config.placements[name])
    return {"config": config, "placements": {**placements, name: _validated(type(served), {**served.model_dump(), **over}, "overrides")}}


@dataclass(frozen=True)
class Surface:
    """One surface family: its per-request knobs, how a config takes them, and which parts a variant may pin."""

    config_knobs: frozenset[str]
    request_knobs: frozenset[str]
    with_config: Callable[[Any, str, dict[str, Any]], Any]  # (the part's config, surface, knobs) → new config
    parts: frozenset[str]
    attrs: Callable[[Any, str, dict[str, Any], Callable[[Any, str, dict[str, Any]], Any]], dict[str, Any]] = _config_attrs

    def overlay_attrs(self, part: Any, surface: str, knobs: dict[str, Any]) -> dict[str, Any]:
        """The attributes a loaded part is seen with for these config knobs (its config; a recommend part's placements)."""
        return self.attrs(part, surface, knobs, self.with_config)

    def split(self, overrides: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(config knobs, request knobs); an unknown key is an error naming it and the knobs there are."""
        unknown = sorted(set(overrides) - self.config_knobs - self.request_knobs)
        if unknown:
            known = ", ".join(sorted(self.config_knobs | self.request_knobs))
            raise ExperimentError(f"overrides: {unknown} cannot change per request here (per-request knobs: {known}; else pin a version)")
        return ({k: v for k, v in overrides.items() if k in self.config_knobs}, {k: v for k, v in overrides.items() if k in self.request_knobs})


_PLACEMENT = frozenset({"sources", "exclude_purchased", "exclude_seen", "diversity", "fallback", "candidates", "restrict"})
SURFACES: dict[str, Surface] = {
    "search": Surface(frozenset({"stages", "fusion", "rrf_k", "dense_weight", "dense_k", "dense_min_sim", "rerank_k", "entity_mode",
                                 "entity_boost", "intent_boost", "intent_min_confidence", "rising_boost", "facet_size", "rules"}),
                      frozenset({"mode", "use_ranker"}), _search_config, frozenset({"search"})),
    "recommend": Surface(_PLACEMENT, frozenset(), _placement_config, frozenset({"recommend"}), _placement_attrs),
    "ads": Surface(frozenset({"ranking", "min_relevance", "reserve_cpc", "reserve_cpm", "history_items"}), frozenset(), _flat_config,
                   frozenset()),
    "assistant": Surface(frozenset({"results", "turn_budget_ms", "max_tokens", "session_token_budget", "timeout_s"}), frozenset(),
                         _flat_config, frozenset()),
}
REQUEST_KNOB_VALUES: dict[str, tuple[Any, ...]] = {"mode": ("hybrid", "bm25", "dense"), "use_ranker": (True, False)}


def family(surface: str) -> Surface:
    """The spec of `surface` ("recommend:home" → the recommend family)."""
    return SURFACES[surface.split(":", 1)[0]]


def check_request_knobs(knobs: dict[str, Any]) -> None:
    """Request knobs take one of their listed values."""
    for k, v in knobs.items():
        if v not in REQUEST_KNOB_VALUES[k]:
            raise ExperimentError(f"overrides.{k}: {v!r} is not one of {REQUEST_KNOB_VALUES[k]}")


_OVERLAYS: dict[type, type] = {}


def _overlay_getattribute(self: Any, name: str) -> Any:
    own = object.__getattribute__(self, "__dict__")
    if name in own:
        return own[name]
    base_attrs = own["_base"].__dict__
    if name in base_attrs:
        return base_attrs[name]
    return object.__getattribute__(self, name)  # methods (bound to the overlay), properties, class attributes


def _overlay_setattr(self: Any, name: str, value: Any) -> None:
    own = object.__getattribute__(self, "__dict__")
    if name in own:
        own[name] = value
    else:
        setattr(own["_base"], name, value)  # state the part keeps (caches, counters) stays the base's


def overlay(base: Any, **attrs: Any) -> Any:
    """`base` seen with `attrs` replaced (e.g. config=…): its methods run on the overlay, every other attribute read and
    written is the base's. No copy: the loaded indexes and models serve both arms."""
    cls = type(base)
    sub = _OVERLAYS.get(cls)
    if sub is None:
        sub = _OVERLAYS[cls] = type(f"{cls.__name__}Variant", (cls,), {"__getattribute__": _overlay_getattribute,
                                                                        "__setattr__": _overlay_setattr, "__module__": __name__})
    obj: Any = object.__new__(sub)
    own = object.__getattribute__(obj, "__dict__")
    own["_base"] = base
    own.update(attrs)
    return obj

"""What each placement serves, chosen at build by validation on the shop's own events, and the model card that says so.

For every placement with `choose = true` the build runs the selection `eval recs --model auto` runs
(`recommend.select`): each candidate tuned on a temporal split of the events (train before the cut, each user's first
new item after it as the validation target), then per placement the best model on that placement's view of the
history (the whole history, the product shown, the basket) and a blend with the others when validation prefers it.
The chosen members and weights are what the placement serves (`blend` sources); filters, business rules, diversity and
fallbacks stay on top. A placement configured by hand is served as configured. The card (meta.json `card`) records
the data window, every candidate's validation score or why it was skipped, each placement's choice and its margin.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from shopmind.recommend.base import Interactions, available
from shopmind.recommend.config import PlacementConfig, RecommendConfig
from shopmind.recommend.select import GRIDS, NextItemQueries, Tuned, choose, temporal_queries, tune

logger = logging.getLogger(__name__)

VIEWS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "history": lambda h: h,
    "item": lambda h: h[-1:],
    "basket": lambda h: h[-3:],
}
"""A placement's view of a validation history: what its models score when served (see `PlacementConfig.view`)."""

__all__ = ["VIEWS", "Selection", "config_hash", "effective_placements", "make_card", "select_placements"]


@dataclass
class Selection:
    """The outcome of a build's selection: tuned params per model, chosen sources per placement, the card's parts."""

    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    chosen: dict[str, dict[str, Any]] = field(default_factory=dict)
    placements: dict[str, dict[str, Any]] = field(default_factory=dict)
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def members(self) -> list[str]:
        """Every model some chosen placement serves."""
        return list(dict.fromkeys(m for c in self.chosen.values() for m in c["sources"]))


def config_hash(config: RecommendConfig) -> str:
    """The config's hash as the model registry records it (sha256 of its sorted JSON, 16 hex digits)."""
    return hashlib.sha256(orjson.dumps(config.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def _skip_reason(name: str, config: RecommendConfig, n_items: int, left_s: float) -> str | None:
    """Why a candidate is not tried in this build (None: try it)."""
    sc = config.select
    if name not in available():
        return f"unknown model {name!r}"
    if name == "sasrec" and importlib.util.find_spec("torch") is None:
        return "torch not installed (pip install 'shopmind[seq]')"
    if name == "sasrec" and left_s < sc.sasrec_min_s:
        return f"budget: {max(left_s, 0):.0f} s left of recommend.select.budget_s = {sc.budget_s:.0f}, SASRec needs {sc.sasrec_min_s:.0f} s"
    if name == "ease" and n_items > sc.max_dense_items:
        return f"{n_items} items > recommend.select.max_dense_items = {sc.max_dense_items} (a dense item × item matrix)"
    if left_s <= 0:
        return f"budget: recommend.select.budget_s = {sc.budget_s:.0f} s spent"
    return None


def _tune_all(config: RecommendConfig, queries: NextItemQueries) -> tuple[dict[str, Tuned], dict[str, dict[str, Any]]]:
    """Tune every candidate the budget allows on the history view; per candidate its score or why it was skipped."""
    sc = config.select
    t0 = time.perf_counter()
    tuned: dict[str, Tuned] = {}
    card: dict[str, dict[str, Any]] = {}
    for name in sc.candidates:
        left = sc.budget_s - (time.perf_counter() - t0)
        reason = _skip_reason(name, config, queries.n_items, left)
        if reason is not None:
            card[name] = {"skipped": reason}
            logger.info("select: %s skipped: %s", name, reason)
            continue
        grid = GRIDS.get(name, [{}]) if sc.tune else [dict(config.params.get(name, {}))]
        try:
            tuned[name] = tune(name, queries, grid=grid, val_sample=sc.val_sample, seed=sc.seed,
                               max_train_s=min(sc.max_train_s, left) if name == "sasrec" else None)
        except (ImportError, ValueError, TypeError, AttributeError, RuntimeError, MemoryError) as exc:  # cannot run here: skipped, said why
            card[name] = {"skipped": f"failed: {type(exc).__name__}: {exc}"}
            logger.warning("select: %s failed: %s", name, exc)
            continue
        _, params, val, train_s = tuned[name]
        card[name] = {"params": params, "val_ndcg@10": round(float(val), 5), "train_s": round(train_s, 3)}
    return tuned, card


def select_placements(config: RecommendConfig, inter: Interactions) -> Selection:
    """Choose models and weights for each `choose` placement by validation on a temporal split of `inter`."""
    t0 = time.perf_counter()
    out = Selection()
    targets = {n: p for n, p in config.placements.items() if p.choose}
    for name, p in config.placements.items():
        if not p.choose:
            out.placements[name] = {"mode": "configured", "sources": p.sources, "why": "configured by hand (choose = false)"}
    if not targets:
        return out
    reason: str | None = None
    queries: NextItemQueries | None = None
    tuned: dict[str, Tuned] = {}
    if not config.select.enabled or not config.evaluate:
        reason = "selection off (recommend.select.enabled or recommend.evaluate is false)"
    elif not inter.n_events:
        reason = "no events"
    else:
        queries, cut = temporal_queries(inter, config.eval_test_frac)
        out.split = {"protocol": "temporal, first new item per user", "test_frac": config.eval_test_frac, "cut_ts": cut,
                     "validation_users": len(queries.val_target)}
        if len(queries.val_target) < config.select.min_users:
            reason = f"{len(queries.val_target)} validation users < recommend.select.min_users = {config.select.min_users}"
    if reason is None and queries is not None:
        tuned, out.candidates = _tune_all(config, queries)
        if not tuned:
            reason = "no candidate could be tried"
    if reason is not None or queries is None:
        for name, p in targets.items():
            out.placements[name] = {"mode": "configured", "sources": p.sources, "why": f"not chosen: {reason}; configured sources serve"}
        out.seconds = round(time.perf_counter() - t0, 3)
        return out
    out.params = {n: t[1] for n, t in tuned.items()}
    for name, p in targets.items():
        view = queries if p.view == "history" else queries.viewed(VIEWS[p.view])
        vals = {n: t[2] for n, t in tuned.items()} if p.view == "history" else None  # tuning scored the history view already
        c = choose(tuned, view, vals=vals, val_sample=config.select.val_sample, seed=config.select.seed)
        out.chosen[name] = {"sources": dict(zip(c.members, c.weights, strict=True)), "view": p.view}
        rival = f"; runner-up {c.runner_up} by {c.margin:+.5f}" if c.runner_up is not None and c.margin is not None else ""
        out.placements[name] = {
            "mode": "chosen", "chosen": c.label, "sources": out.chosen[name]["sources"], "view": p.view,
            "val_ndcg@10": round(float(c.val), 5), "val_by_model": {n: round(float(v), 5) for n, v in c.val_by_model.items()},
            "blend_val_ndcg@10": None if c.blend_val is None else round(float(c.blend_val), 5),
            "runner_up": c.runner_up, "margin": c.margin,
            "why": f"{c.label} scored the best validation NDCG@10 on the {p.view} view ({c.val:.5f}){rival}",
        }
        logger.info("select: %s serves %s (val ndcg@10 %.5f)", name, c.label, c.val)
    out.seconds = round(time.perf_counter() - t0, 3)
    return out


def make_card(config: RecommendConfig, selection: Selection, events: Any, inter: Interactions, metrics: dict[str, Any]) -> dict[str, Any]:
    """The model card of a built recommend version: data window, validation metrics, what was chosen and why, config hash."""
    first = last = None
    n_rows: int = events.num_rows if events is not None and hasattr(events, "num_rows") else 0
    if n_rows:
        import pyarrow.compute as pc

        bounds = pc.min_max(events["ts"]).as_py()
        first, last = bounds["min"], bounds["max"]
    return {
        "data": {"first_event_ts": first, "last_event_ts": last, "events": n_rows,
                 "interactions": inter.n_events, "users": inter.n_users, "items": inter.n_items},
        "split": selection.split,
        "candidates": selection.candidates,
        "placements": selection.placements,
        "models": {n: {k: v for k, v in m.items() if k in ("ndcg@10", "hr@10", "recall@10", "users")}
                   for n, m in metrics.items() if not n.startswith("_") and isinstance(m, dict)},
        "config_hash": config_hash(config),
        "selection_s": selection.seconds,
    }


def effective_placements(config: RecommendConfig, meta: dict[str, Any]) -> dict[str, PlacementConfig]:
    """The placements a loaded version serves: a `choose` placement takes the sources its build chose (as a blend)."""
    chosen = meta.get("chosen") or {}
    out: dict[str, PlacementConfig] = {}
    for name, p in config.placements.items():
        c = chosen.get(name)
        out[name] = p.model_copy(update={"sources": dict(c["sources"]), "view": c["view"], "blend": True}) if p.choose and c else p
    return out

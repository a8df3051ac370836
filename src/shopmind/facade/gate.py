"""The promotion gate of continuous training: a new version serves only if no gated offline metric regresses.

Metrics come from each version's meta.json (as the registry holds it): search `metrics` (held-out nDCG@10 of the
ranker and of the fused order), recommend `metrics` (per model, temporal split), ads `ctr` (out-of-fold AUC and
calibration error). `tolerance` maps 'part:pattern' (fnmatch over the flattened names) to the relative regression
allowed. Comparable without caveat only when both versions were built from the same data window (a config change);
a newer window evaluates on newer held-out events, and the tolerance absorbs that shift. The check says which.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LOWER_IS_BETTER", "Check", "Decision", "compare", "flatten"]

# metric name suffixes where smaller is better; every other gated metric is higher-is-better
LOWER_IS_BETTER = ("calibration_error", "calibration_worst_decile", "logloss", "rmse", "mae")


def _leaves(prefix: str, value: Any, out: dict[str, float]) -> None:
    if isinstance(value, Mapping):
        for key, sub in value.items():
            _leaves(f"{prefix}.{key}" if prefix else str(key), sub, out)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        out[prefix] = float(value)


def _search(flat: dict[str, float], meta: Mapping[str, Any]) -> dict[str, float]:
    """valid_ndcg: held-out nDCG@10 of what serves (the ranker's order where it was kept, else the fused order)."""
    m = meta.get("metrics") or {}
    key = "ranker_valid_ndcg" if m.get("ranker_kept") else "fused_valid_ndcg"
    return {"valid_ndcg": flat[key]} if key in flat else {}


def _recommend(flat: dict[str, float], meta: Mapping[str, Any]) -> dict[str, float]:
    """best.<metric>: the best model's score on the temporal split, for each @k metric; placement.<name>.ndcg@10: the
    validation nDCG@10 of what each chosen placement serves (the model card's selection)."""
    out: dict[str, float] = {}
    for name, value in flat.items():
        model, _, metric = name.partition(".")
        if "@" in metric and not model.startswith("_") and "." not in metric and not metric.startswith("coverage"):
            out[f"best.{metric}"] = max(out.get(f"best.{metric}", value), value)
    for name, placement in ((meta.get("card") or {}).get("placements") or {}).items():
        if isinstance(placement, Mapping) and isinstance(placement.get("val_ndcg@10"), int | float):
            out[f"placement.{name}.ndcg@10"] = float(placement["val_ndcg@10"])
    return out


# part → derived summary metrics over its flattened metrics (what the default tolerances name)
DERIVED: dict[str, Callable[[dict[str, float], Mapping[str, Any]], dict[str, float]]] = {"search": _search, "recommend": _recommend}


def flatten(part: str, meta: Mapping[str, Any] | None) -> dict[str, float]:
    """Numeric leaves of a version's `metrics` and `ctr` as dotted names ('als.ndcg@10', 'ctr.oof_auc'), plus derived ones."""
    meta = meta or {}
    out: dict[str, float] = {}
    _leaves("", meta.get("metrics") or {}, out)
    _leaves("ctr", meta.get("ctr") or {}, out)
    derive = DERIVED.get(part)
    return {**out, **derive(out, meta)} if derive else out


@dataclass(frozen=True)
class Check:
    """One gated metric: old and new values, the tolerance and whether it passed."""

    metric: str
    old: float | None
    new: float | None
    tolerance: float
    passed: bool
    note: str = ""

    def describe(self) -> str:
        """'ndcg@10 0.2100 → 0.1500 (-28.6 %, tolerance 5 %)'."""
        if self.old is None or self.new is None:
            return f"{self.metric}: {self.note}"
        change = (self.new - self.old) / abs(self.old) * 100 if self.old else 0.0
        return f"{self.metric} {self.old:.4f} → {self.new:.4f} ({change:+.1f} %, tolerance {self.tolerance * 100:g} %)"


@dataclass(frozen=True)
class Decision:
    """Promote or hold, the checks behind it and whether both versions share a data window."""

    promote: bool
    reason: str
    same_window: bool
    checks: list[Check] = field(default_factory=list)


def _tolerances(part: str, names: set[str], tolerance: Mapping[str, float]) -> dict[str, float]:
    """Gated metric → tolerance; the most specific pattern (the longest) wins."""
    out: dict[str, tuple[int, float]] = {}
    for key, tol in tolerance.items():
        scope, _, pattern = key.partition(":")
        if scope != part:
            continue
        for name in fnmatch.filter(names, pattern):
            if name not in out or len(pattern) > out[name][0]:
                out[name] = (len(pattern), tol)
    return {name: tol for name, (_, tol) in out.items()}


def _check(metric: str, old: float | None, new: float | None, tol: float) -> Check:
    if old is None:
        return Check(metric, old, new, tol, True, "not measured in the promoted version (nothing to compare)")
    if new is None:
        return Check(metric, old, new, tol, False, f"measured in the promoted version ({old:.4f}) but missing in the new one")
    lower = metric.endswith(LOWER_IS_BETTER)
    worse = new > old + abs(old) * tol if lower else new < old - abs(old) * tol
    return Check(metric, old, new, tol, not worse)


def compare(part: str, old_meta: Mapping[str, Any] | None, new_meta: Mapping[str, Any] | None, tolerance: Mapping[str, float],
            same_window: bool) -> Decision:
    """Gate a new version of `part` against the promoted one: hold when any gated metric regresses beyond its tolerance."""
    old, new = flatten(part, old_meta), flatten(part, new_meta)
    gated = _tolerances(part, set(old) | set(new), tolerance)
    checks = [_check(m, old.get(m), new.get(m), tol) for m, tol in sorted(gated.items())]
    window = "same data window" if same_window else "newer data window: each version measured on its own latest held-out events"
    failed = [c for c in checks if not c.passed]
    if failed:
        return Decision(False, "; ".join(c.describe() for c in failed) + f" ({window})", same_window, checks)
    compared = [c for c in checks if c.old is not None and c.new is not None]
    if not compared:
        return Decision(True, f"no gated metric measured in both versions ({window})", same_window, checks)
    return Decision(True, "; ".join(c.describe() for c in compared) + f" ({window})", same_window, checks)

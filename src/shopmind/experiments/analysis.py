"""Per-variant metrics of an experiment from its exposures and the event log, with the statistics of `stats`.

A unit (user or session) counts from its first exposure: its events from then until the experiment's end (or now).
Metrics per unit: ctr = clicks / exposures (ratio of per-unit sums across units, delta method), add_to_cart_rate and
conversion = had at least one add_to_cart / purchase, revenue_per_user = Σ price × quantity of its purchases.
CUPED's covariate is the same metric over the `pre_days` before the start (ctr: not adjusted). Each variant is
compared with control by a fixed-horizon test (Welch, or CUPED-Welch, or delta-method ratio) and by the
always-valid mSPRT (safe to look at any time). Units exposed to two variants are dropped and counted.
Traffic marked `context.simulated` (events, or exposures of requests that carried it) is never mixed silently:
`traffic="auto"` reports real units when there are any, else simulated ones, and the report says which.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import orjson
from sqlalchemy import Engine, select

from shopmind.experiments import stats
from shopmind.experiments.exposures import read_exposures
from shopmind.experiments.model import Experiment
from shopmind.store.schema import events

__all__ = ["UnitMetrics", "analyze", "unit_metrics"]
Traffic = Literal["auto", "real", "simulated", "all"]
SRM_ALPHA = 0.001  # a sample-ratio mismatch is flagged below this p-value (the usual, strict threshold)
_CHUNK = 500


@dataclass
class UnitMetrics:
    """One row per exposed unit: its variant, exposures and per-unit outcomes after / before (pre) the start."""

    units: list[str]
    variant: np.ndarray  # index into the experiment's variants
    exposures: np.ndarray
    post: dict[str, np.ndarray]  # clicks, add_to_cart, purchase (0/1), revenue
    pre: dict[str, np.ndarray]
    simulated: np.ndarray  # bool
    dropped_mixed: int
    first_ts: np.ndarray


def _is_sim(ctx: str | None) -> bool:
    return bool(ctx) and '"simulated"' in str(ctx) and str(orjson.loads(str(ctx)).get("simulated", "")).lower() in ("1", "true", "yes")


def _outcomes(idx: np.ndarray, types: np.ndarray, value: np.ndarray, mask: np.ndarray, n: int) -> dict[str, np.ndarray]:
    def count(kind: str) -> np.ndarray:
        return np.bincount(idx[mask & (types == kind)], minlength=n).astype(np.float64)

    buy = mask & (types == "purchase")
    return {"clicks": count("click"), "add_to_cart": (count("add_to_cart") > 0).astype(np.float64),
            "purchase": (count("purchase") > 0).astype(np.float64), "revenue": np.bincount(idx[buy], weights=value[buy], minlength=n)}


def unit_metrics(engine: Engine, exp: Experiment, now: float | None = None) -> UnitMetrics:
    """Exposures and events of every exposed unit, aggregated per unit (see the module doc for the windows)."""
    rows = read_exposures(engine, exp.id)
    names = {v.name: i for i, v in enumerate(exp.variants)}
    first: dict[str, float] = {}
    arm: dict[str, int] = {}
    count: dict[str, int] = {}
    mixed: set[str] = set()
    sim: set[str] = set()
    for variant, unit, ts, _, _, extra in rows:
        i = names.get(variant, -1)
        if unit in arm and arm[unit] != i:
            mixed.add(unit)
        arm.setdefault(unit, i)
        first.setdefault(unit, ts)
        count[unit] = count.get(unit, 0) + 1
        if '"simulated"' in extra:
            sim.add(unit)
    units = [u for u in arm if u not in mixed]
    pos = {u: j for j, u in enumerate(units)}
    n = len(units)
    start = exp.started_at or (min(first.values()) if first else 0.0)
    end = exp.ended_at or (time.time() if now is None else now)
    pre_start = start - exp.pre_days * 86400.0
    col = events.c.user_id if exp.unit == "user" else events.c.session_id
    got: list[Sequence[Any]] = []
    q = select(col, events.c.type, events.c.ts, events.c.quantity, events.c.price, events.c.context).where(
        events.c.ts >= pre_start, events.c.ts <= end)
    with engine.connect() as conn:
        if exp.unit == "user":  # (user_id, ts) is indexed: ask per chunk of units
            for k in range(0, n, _CHUNK):
                got.extend(conn.execute(q.where(col.in_(units[k : k + _CHUNK]))).all())
        elif n:  # session ids are not indexed: one pass over the window
            got.extend(r for r in conn.execute(q.where(col.is_not(None))) if r[0] in pos)
    idx = np.fromiter((pos[r[0]] for r in got), np.int64, len(got))
    types = np.array([r[1] for r in got], dtype=object)
    when = np.fromiter((r[2] for r in got), np.float64, len(got))
    value = np.fromiter(((r[4] or 0.0) * (r[3] or 1) for r in got), np.float64, len(got))
    for r in got:
        if _is_sim(r[5]):
            sim.add(r[0])
    first_ts = np.array([first[u] for u in units], dtype=np.float64)
    post = _outcomes(idx, types, value, when >= first_ts[idx], n)
    pre = _outcomes(idx, types, value, when < start, n)
    return UnitMetrics(units, np.array([arm[u] for u in units], dtype=np.int64), np.array([count[u] for u in units], dtype=np.float64),
                       post, pre, np.array([u in sim for u in units], dtype=bool), len(mixed), first_ts)


_METRIC_COLUMN = {"add_to_cart_rate": "add_to_cart", "conversion": "purchase", "revenue_per_user": "revenue"}


def _compare(metric: str, m: UnitMetrics, keep: np.ndarray, a: int, b: int, alpha: float) -> dict[str, Any]:
    sa, sb = keep & (m.variant == a), keep & (m.variant == b)
    if metric == "ctr":
        fixed = stats.ratio_test(m.post["clicks"][sa], m.exposures[sa], m.post["clicks"][sb], m.exposures[sb], alpha)
        per = m.post["clicks"] / np.maximum(m.exposures, 1.0)  # per-unit click rate for the always-valid test
        seq = stats.msprt(per[sa], per[sb], alpha)
        return {"test": fixed.to_dict(), "always_valid": seq.to_dict(), "cuped": None}
    column = _METRIC_COLUMN[metric]
    y, x = m.post[column], m.pre[column]
    fixed = stats.cuped_test(y[sa], x[sa], y[sb], x[sb], alpha)
    both = sa | sb
    adj, theta = stats.cuped(y[both], x[both])
    arm_b = (m.variant[both] == b)
    seq = stats.msprt(adj[~arm_b], adj[arm_b], alpha)
    vr = stats.variance_reduction(y[both], x[both]) if both.sum() > 1 else 0.0
    plain = stats.mean_test(y[sa], y[sb], alpha)
    return {"test": fixed.to_dict(), "always_valid": seq.to_dict(), "unadjusted": plain.to_dict(),
            "cuped": {"theta": theta, "variance_reduction": vr}}


def _select(m: UnitMetrics, traffic: Traffic) -> tuple[np.ndarray, str]:
    real = ~m.simulated
    chosen = ("real" if real.any() or not m.simulated.any() else "simulated") if traffic == "auto" else traffic
    keep = {"real": real, "simulated": m.simulated, "all": np.ones(len(real), dtype=bool)}[chosen]
    return keep, chosen


def _header(exp: Experiment, m: UnitMetrics, keep: np.ndarray, chosen: str, counts: list[int]) -> dict[str, Any]:
    both = bool(m.simulated.any() and (~m.simulated).any())
    return {
        "experiment": exp.id, "surface": exp.surface, "kind": exp.kind, "status": exp.status, "unit": exp.unit,
        "started_at": exp.started_at, "ended_at": exp.ended_at, "alpha": exp.alpha,
        "traffic": chosen, "simulated": chosen != "real", "mixed": chosen == "all" and both,
        "simulated_units": int(m.simulated.sum()), "real_units": int((~m.simulated).sum()), "units_in_two_variants": m.dropped_mixed,
        "variants": [{"name": v.name, "control": v.control, "weight": v.weight, "units": counts[i] if i < len(counts) else 0,
                      "exposures": int(m.exposures[keep & (m.variant == i)].sum())} for i, v in enumerate(exp.variants)],
    }


def analyze(engine: Engine, exp: Experiment, *, traffic: Traffic = "auto", now: float | None = None) -> dict[str, Any]:
    """The experiment's report: units and SRM per variant, each metric per variant with its test against control
    (fixed-horizon and always-valid), CUPED's theta and variance reduction, guardrail verdicts and the traffic used."""
    m = unit_metrics(engine, exp, now)
    keep, chosen = _select(m, traffic)
    if exp.kind == "interleave":  # every unit saw both arms: no split to check, one preference test
        return {**_header(exp, m, keep, chosen, []), "units": int(keep.sum()), "interleaving": interleaving_report(engine, exp, keep, m)}
    keep &= m.variant >= 0
    control = next(i for i, v in enumerate(exp.variants) if v.control)
    counts = [int((keep & (m.variant == i)).sum()) for i in range(len(exp.variants))]
    report = _header(exp, m, keep, chosen, counts)
    shares = [v.weight for v in exp.variants]
    srm_p = stats.srm_pvalue(counts, shares) if sum(counts) else 1.0
    report["srm"] = {"p_value": srm_p, "flag": srm_p < SRM_ALPHA, "counts": counts,
                     "expected": [sum(counts) * s / sum(shares) for s in shares]}
    metrics: dict[str, Any] = {}
    for metric in exp.metrics:
        entry: dict[str, Any] = {"means": {}, "comparisons": {}}
        for i, v in enumerate(exp.variants):
            sel = keep & (m.variant == i)
            if metric == "ctr":
                mean = float(m.post["clicks"][sel].sum() / m.exposures[sel].sum()) if m.exposures[sel].sum() else math.nan
            else:
                mean = float(m.post[_METRIC_COLUMN[metric]][sel].mean()) if sel.any() else math.nan
            entry["means"][v.name] = None if not math.isfinite(mean) else mean
            if i != control:
                entry["comparisons"][v.name] = _compare(metric, m, keep, control, i, exp.alpha)
        metrics[metric] = entry
    report["metrics"] = metrics
    report["guardrails"] = _guardrails(exp, metrics)
    return report


def _guardrails(exp: Experiment, metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Per guardrail and variant: pass / fail / inconclusive on the always-valid interval of the relative change."""
    out = []
    for g in exp.guardrails:
        entry = metrics.get(g.metric)
        for name, cmp in (entry or {}).get("comparisons", {}).items():
            seq = cmp["always_valid"]
            base = entry["means"][exp.control.name] if entry else None
            verdict = "inconclusive"
            if base and seq["ci_low"] is not None and seq["ci_high"] is not None:
                res = stats.TestResult(seq["effect"] / base, seq["ci_low"] / base, seq["ci_high"] / base, seq["p_value"], seq["n_a"], seq["n_b"])
                verdict = stats.guardrail_check(res, g.max_drop)
            out.append({"metric": g.metric, "variant": name, "max_drop": g.max_drop, "verdict": verdict})
    return out


def interleaving_report(engine: Engine, exp: Experiment, keep: np.ndarray, m: UnitMetrics) -> dict[str, Any]:
    """Credit per exposure from the unit's clicks on its shown ids before its next exposure, then the test per unit and
    its always-valid version: team draft's sign test, or optimized interleaving's t-test of the summed click credit."""
    from shopmind.experiments.interleave import credit_ids, interleaving_msprt, interleaving_t_test, interleaving_test, sum_by_unit
    from shopmind.experiments.optimized import credit_of_clicks

    allowed = {u for u, k in zip(m.units, keep, strict=True) if k}
    shown = [(unit, ts, orjson.loads(extra)) for _, unit, ts, _, _, extra in read_exposures(engine, exp.id) if unit in allowed]
    col = events.c.user_id if exp.unit == "user" else events.c.session_id
    clicks: dict[str, list[tuple[float, str]]] = {}
    ids = sorted(allowed)
    with engine.connect() as conn:
        for k in range(0, len(ids), _CHUNK):
            q = select(col, events.c.ts, events.c.item_id).where(col.in_(ids[k : k + _CHUNK]), events.c.type == "click")
            for unit, ts, item in conn.execute(q):
                clicks.setdefault(unit, []).append((ts, item))
    outcomes, units = [], []
    by_unit: dict[str, list[tuple[float, dict[str, Any]]]] = {}
    for unit, ts, extra in shown:
        by_unit.setdefault(unit, []).append((ts, extra))
    for unit, seen in by_unit.items():
        for j, (ts, extra) in enumerate(seen):
            until = seen[j + 1][0] if j + 1 < len(seen) else math.inf
            got = [item for cts, item in clicks.get(unit, []) if ts <= cts < until]
            if "credits" in extra:
                outcomes.append(credit_of_clicks(extra.get("ids", []), extra["credits"], got))
            else:
                outcomes.append(credit_ids(extra.get("ids", []), extra.get("teams", []), got))
            units.append(unit)
    head = {"impressions": len(outcomes), "control": exp.control.name, "method": exp.method,
            "other": next(v.name for v in exp.variants if not v.control),
            "effect_label": "mean click credit per unit (B − A)" if exp.method == "optimized" else "B-wins share − 0.5"}
    if exp.method == "optimized":
        per_unit = sum_by_unit(np.asarray(outcomes, dtype=np.float64), units) if units else np.zeros(0)
        return {**head, "test": interleaving_t_test(per_unit, exp.alpha).to_dict(), "always_valid": stats.msprt_mean(per_unit, exp.alpha).to_dict()}
    o = np.asarray(outcomes, dtype=np.int64)
    return {**head, "test": interleaving_test(o, exp.alpha, units=units or None).to_dict(),
            "always_valid": interleaving_msprt(o, exp.alpha, units=units or None).to_dict()}


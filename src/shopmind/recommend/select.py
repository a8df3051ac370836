"""Choosing recommenders by validation: tune each candidate on a grid, keep the best, blend others into it.

One procedure for every caller: `eval recs --model auto` runs it on a leave-one-out split of a sequence file
(`shopmind.evaluation.recs_eval`), `shopmind build` on a temporal split of the shop's own events, once per placement
view (`recommend.choose`). A split only has to offer `NextItemQueries`: training interactions, validation histories
and one validation target each. Nothing here looks at a test item.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopmind.ranking.metrics import hit_rank_metrics
from shopmind.recommend.base import Interactions, Recommender, mask_scores, topk_rows
from shopmind.recommend.blend import Blend, normalise_rows, search_weights

logger = logging.getLogger(__name__)

GRIDS: dict[str, list[dict[str, Any]]] = {
    "popular": [{}],
    "itemknn": [{"window": w, "recency": r, "alpha": a} for w in (None, 3, 10) for r in (1.0, 0.7, 0.5) for a in (0.5,)],
    "rules": [{"basket_window": w, "metric": m} for w in (None, 3) for m in ("confidence", "lift")],
    "als": [{"factors": 64, "regularization": r, "alpha": a, "iterations": 15} for r in (0.1, 1.0) for a in (5.0, 20.0)],
    "bpr": [{"factors": 64, "learning_rate": lr, "iterations": 100} for lr in (0.01, 0.05)],
    "ease": [{"lam": 300.0, "recency": r} for r in (1.0, 0.7, 0.5)],
    "sasrec": [{}],
}
"""Validation grids per model (small on purpose: CPU budget). Recency is a query-time knob."""

AUTO_MODELS = ["popular", "itemknn", "rules", "als", "ease", "sasrec"]
"""What `auto` tries (BPR is evaluated in the bench; it never wins on these sets)."""

BLEND_MEMBERS = ["itemknn", "ease", "rules", "sasrec"]
"""Models blended into the best single model (weights searched on validation; a member given no weight is dropped)."""

Tuned = tuple[Recommender, dict[str, Any], float, float]
"""(fitted model, its params, validation NDCG@10, train seconds) as `tune` returns it."""


# ------------------------------------------------------------------------------------------ ranks and metrics
def target_ranks(
    model: Recommender, histories: Sequence[np.ndarray], targets: np.ndarray, *, batch: int = 1024, topk: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """0-based rank of each target among all items (history excluded; ties take the mid rank) and top-k lists."""
    ranks = np.empty(len(targets), dtype=np.int64)
    tops = np.empty((len(targets), topk), dtype=np.int64)
    for start in range(0, len(targets), batch):
        h = histories[start : start + batch]
        t = np.asarray(targets[start : start + batch], dtype=np.int64)
        s = np.array(model.score(h), dtype=np.float32, copy=True)
        tgt = s[np.arange(len(t)), t].copy()
        mask_scores(s, h, None, True)
        s[np.arange(len(t)), t] = tgt
        ranks[start : start + len(t)] = (s > tgt[:, None]).sum(axis=1) + 0.5 * ((s == tgt[:, None]).sum(axis=1) - 1)
        tops[start : start + len(t)] = topk_rows(s, topk)[0]
    return ranks, tops


def metrics_from_ranks(ranks: np.ndarray, tops: np.ndarray, n_items: int) -> dict[str, float]:
    """HR/NDCG at 10 and 20 and catalog coverage of the top-10 lists."""
    out: dict[str, float] = {}
    for k in (10, 20):
        hr, nd = hit_rank_metrics(ranks, k)
        out[f"hr@{k}"], out[f"ndcg@{k}"] = round(hr, 5), round(nd, 5)
    out["coverage@10"] = round(len(np.unique(tops[:, :10])) / max(n_items, 1), 5)
    return out


class NextItemQueries:
    """Validation queries over a training view: per query a history and the one item that came next."""

    n_items: int
    train: Interactions
    val_hist: list[np.ndarray]
    val_target: np.ndarray

    def __init__(self, train: Interactions, val_hist: list[np.ndarray], val_target: np.ndarray, n_items: int) -> None:
        self.train, self.val_hist, self.val_target, self.n_items = train, val_hist, np.asarray(val_target, np.int64), n_items

    def sample_idx(self, sample: int | None, seed: int = 0) -> np.ndarray:
        """The validation queries used (a fixed random sample when there are more than `sample`)."""
        idx = np.arange(len(self.val_target))
        if sample is not None and sample < len(idx):
            idx = np.sort(np.random.default_rng(seed).choice(idx, sample, replace=False))
        return idx

    def val_metric(self, model: Recommender, *, sample: int | None = None, seed: int = 0, key: str = "ndcg@10") -> float:
        """Validation metric (optionally on a fixed user sample, for cheap early stopping)."""
        idx = self.sample_idx(sample, seed)
        ranks, tops = target_ranks(model, [self.val_hist[i] for i in idx], self.val_target[idx])
        return metrics_from_ranks(ranks, tops, self.n_items)[key]

    def viewed(self, view: Callable[[np.ndarray], np.ndarray]) -> NextItemQueries:
        """The same queries seen through a placement's view of a history (the last item, the last few)."""
        return NextItemQueries(self.train, [view(h) for h in self.val_hist], self.val_target, self.n_items)


def temporal_queries(inter: Interactions, test_frac: float) -> tuple[NextItemQueries, float]:
    """Events before the (1−test_frac) time quantile train; each user's first new item after it is the target."""
    from shopmind.recommend.split import temporal_split

    train, _, _, cut = temporal_split(inter, test_frac)
    hist: list[np.ndarray] = []
    target: list[int] = []
    for u in range(inter.n_users):  # per user, at build time only
        s, e = inter.indptr[u], inter.indptr[u + 1]
        before = inter.ts[s:e] < cut
        h = inter.items[s:e][before]
        later = inter.items[s:e][~before]
        new = later[~np.isin(later, h)]
        if len(h) and len(new):
            hist.append(h)
            target.append(int(new[0]))
    return NextItemQueries(train, hist, np.asarray(target, np.int64), inter.n_items), cut


# ------------------------------------------------------------------------------------------ tuning and choice
def tune(
    name: str,
    split: NextItemQueries,
    *,
    grid: list[dict[str, Any]] | None = None,
    val_sample: int | None = 6000,
    seed: int = 0,
    max_train_s: float | None = None,
    log: Callable[[str], None] | None = None,
) -> Tuned:
    """Fit every grid point on the training view, keep the best by validation NDCG@10 (query-time knobs reuse a fit)."""
    from shopmind.recommend.base import _lookup, create

    query_keys = _lookup(name).query_params
    best: Tuned | None = None
    fitted: dict[str, tuple[Recommender, float]] = {}
    for params in grid if grid is not None else GRIDS.get(name, [{}]):
        params = dict(params)
        if name == "sasrec":
            params.setdefault("seed", seed)
            if max_train_s is not None:
                params["max_train_s"] = max_train_s
        fit_key = repr(sorted((k, v) for k, v in params.items() if k not in query_keys))
        if fit_key in fitted:  # only query-time knobs differ: reuse the fitted model
            model, train_s = fitted[fit_key]
            model.params.update(params)
        else:
            model = create(name, **params)
            t0 = time.perf_counter()
            if name == "sasrec":
                model.fit(split.train, validate=lambda m: split.val_metric(m, sample=4000, seed=seed))  # type: ignore[call-arg]
            else:
                model.fit(split.train)
            train_s = time.perf_counter() - t0
            fitted[fit_key] = (model, train_s)
        val = split.val_metric(model, sample=val_sample, seed=seed)
        if log:
            log(f"{name} {params} val ndcg@10 {val:.5f} train {train_s:.1f}s")
        if best is None or val > best[2]:
            best = (model, dict(params), val, train_s)
    assert best is not None
    best[0].params.update(best[1])
    return best


def blend_on_validation(
    base: Recommender, others: list[Recommender], split: NextItemQueries, *, val_sample: int | None = 6000, seed: int = 0
) -> tuple[Blend, float]:
    """Blend `others` into `base` with weights searched on (a sample of) the validation targets."""
    idx = split.sample_idx(val_sample, seed)  # same users as val_metric
    hist = [split.val_hist[i] for i in idx]
    members = [base, *others]
    weights, val = search_weights([normalise_rows(m.score(hist)) for m in members], hist, split.val_target[idx])
    return Blend().with_models(members, weights), val


@dataclass
class Choice:
    """What validation chose: the model (a single one or a blend), its label, params, score and why."""

    model: Recommender
    label: str
    params: dict[str, Any]
    val: float
    members: list[str]
    weights: list[float]
    val_by_model: dict[str, float] = field(default_factory=dict)
    blend_val: float | None = None
    runner_up: str | None = None
    margin: float | None = None


def choose(
    tuned: dict[str, Tuned],
    split: NextItemQueries,
    *,
    vals: dict[str, float] | None = None,
    blend_members: Sequence[str] = BLEND_MEMBERS,
    val_sample: int | None = 6000,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> Choice:
    """The best tuned model by validation NDCG@10 on `split`, then a blend with `blend_members` if validation prefers it.

    `vals`: each model's validation score on `split` when known (tuning computed it); others are scored here."""
    vals = dict(vals or {})
    for n, t in tuned.items():
        if n not in vals:
            vals[n] = split.val_metric(t[0], sample=val_sample, seed=seed)
    best_name = max(tuned, key=lambda n: vals[n])
    model, params, val = tuned[best_name][0], dict(tuned[best_name][1]), vals[best_name]
    out = Choice(model, best_name, params, val, [best_name], [1.0], val_by_model=vals)
    others = [tuned[n][0] for n in blend_members if n in tuned and n != best_name]
    if others:
        blended, _ = blend_on_validation(model, others, split, val_sample=val_sample, seed=seed)
        kept = [(m, w) for m, w in zip(blended.models, blended.params["weights"], strict=True) if w or m is model]
        blended = Blend().with_models([m for m, _ in kept], [w for _, w in kept])
        bval = split.val_metric(blended, sample=val_sample, seed=seed) if len(kept) > 1 else val  # scored as the singles were
        out.blend_val = bval if len(kept) > 1 else None
        if log:
            log(f"blend {best_name}+{[o.name for o in others]} weights {blended.params['weights']} val {bval:.5f}")
        if len(kept) > 1 and bval > val:
            out = Choice(blended, "blend:" + "+".join(blended.params["members"]),
                         {"weights": blended.params["weights"], "members": [{"name": mm.name, **mm.params} for mm in blended.models]},
                         bval, list(blended.params["members"]), list(blended.params["weights"]), val_by_model=vals, blend_val=bval)
    rivals = {n: v for n, v in vals.items() if n != best_name} if out.label == best_name else {best_name: val}
    if out.label == best_name and out.blend_val is not None:
        rivals["blend"] = out.blend_val
    if rivals:
        out.runner_up = max(rivals, key=lambda n: rivals[n])
        out.margin = round(float(out.val - rivals[out.runner_up]), 6)
    return out


def choose_auto(
    tuned: dict[str, Tuned], split: NextItemQueries, *, seed: int = 0, log: Callable[[str], None] | None = None
) -> tuple[Recommender, str, dict[str, Any], float]:
    """`auto` as `eval recs` reports it: (chosen model, label, params, validation NDCG@10), from `choose`."""
    c = choose(tuned, split, vals={n: t[2] for n, t in tuned.items()}, seed=seed, log=log)
    return c.model, c.label, c.params, c.val


__all__ = ["AUTO_MODELS", "BLEND_MEMBERS", "GRIDS", "Choice", "NextItemQueries", "Tuned", "blend_on_validation", "choose",
           "choose_auto", "metrics_from_ranks", "target_ranks", "temporal_queries", "tune"]

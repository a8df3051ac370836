"""Offline evaluation of recommenders: leave-one-out on sequence files, temporal split on the events table.

Protocol `loo-full` (the one behind the numbers in shared/data/README): per user, the last item is the test
target and the second-to-last the validation target. For validation, models are trained on every user's
sequence minus its last two items and asked for the item after `seq[:-2]`. For the test, the configuration
chosen on validation is *retrained* on everything before the test item (`seq[:-1]`, validation item
included) and asked for the item after `seq[:-1]` — except SASRec, which is too costly to train twice on this
machine: its validation-time weights are reused and the validation item enters only as history (the
S3-Rec/ICLRec recipe). Ranking is against ALL items, the user's own history excluded.
`model="auto"` tunes every registered candidate on the validation targets only and reports the test
metrics of the single configuration that won on validation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmind.evaluation.metrics import hit_rank_metrics
from shopmind.recommend.base import Interactions, Recommender, mask_scores, read_seqrec, topk_rows
from shopmind.recommend.split import temporal_metrics, temporal_split  # re-exported: they moved to recommend

if TYPE_CHECKING:
    from shopmind.recommend.blend import Blend


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


class LOOSplit:
    """Leave-one-out views of one sequence set: train interactions, validation and test queries."""

    def __init__(self, sequences: Sequence[np.ndarray], n_items: int, user_ids: list[str] | None = None) -> None:
        self.n_items = n_items
        seqs = [np.asarray(s, dtype=np.int32) for s in sequences]
        self.full = Interactions.from_sequences(seqs, n_items, user_ids=user_ids)
        self.train = self.full.truncate(2)
        self.train_test = self.full.truncate(1)
        eligible = [i for i, s in enumerate(seqs) if len(s) >= 3]
        self.val_hist = [seqs[i][:-2] for i in eligible]
        self.val_target = np.array([seqs[i][-2] for i in eligible], dtype=np.int64)
        self.test_hist = [seqs[i][:-1] for i in eligible]
        self.test_target = np.array([seqs[i][-1] for i in eligible], dtype=np.int64)

    @classmethod
    def from_file(cls, path: str | Path) -> LOOSplit:
        """Split a `user item1 item2 …` file."""
        seqs, users = read_seqrec(path)
        n_items = int(max(s.max() for s in seqs if len(s))) + 1
        return cls(seqs, n_items, users)

    def val_metric(self, model: Recommender, *, sample: int | None = None, seed: int = 0, key: str = "ndcg@10") -> float:
        """Validation metric (optionally on a fixed user sample, for cheap early stopping)."""
        idx = np.arange(len(self.val_target))
        if sample is not None and sample < len(idx):
            idx = np.sort(np.random.default_rng(seed).choice(idx, sample, replace=False))
        ranks, tops = target_ranks(model, [self.val_hist[i] for i in idx], self.val_target[idx])
        return metrics_from_ranks(ranks, tops, self.n_items)[key]

    def evaluate(self, model: Recommender, which: str = "test") -> dict[str, float]:
        """All metrics of a trained model on the validation or test targets."""
        hist, tgt = (self.test_hist, self.test_target) if which == "test" else (self.val_hist, self.val_target)
        ranks, tops = target_ranks(model, hist, tgt)
        return metrics_from_ranks(ranks, tops, self.n_items)


def sequences_from_inter(path: str | Path, min_rating: float | None = None) -> tuple[list[np.ndarray], int, list[str]]:
    """RecBole .inter (user, item, rating, timestamp) → per-user item-index sequences in time order."""
    import pyarrow.csv as pacsv

    tbl = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter="\t"))
    cols = {c.split(":")[0]: c for c in tbl.column_names}
    users = tbl[cols["user_id"]].to_numpy().astype(str)
    items = tbl[cols["item_id"]].to_numpy().astype(str)
    ts = tbl[cols["timestamp"]].to_numpy().astype(np.float64)
    if min_rating is not None and "rating" in cols:
        keep = tbl[cols["rating"]].to_numpy() >= min_rating
        users, items, ts = users[keep], items[keep], ts[keep]
    uniq_items, ii = np.unique(items, return_inverse=True)
    uniq_users, uu = np.unique(users, return_inverse=True)
    order = np.lexsort((np.arange(len(ts)), ts, uu))
    counts = np.bincount(uu[order], minlength=len(uniq_users))
    seqs = np.split(ii[order].astype(np.int32), np.cumsum(counts)[:-1])
    return seqs, len(uniq_items), [str(u) for u in uniq_users]


# ------------------------------------------------------------------------------------------------ tuning
GRIDS: dict[str, list[dict[str, Any]]] = {
    "popular": [{}],
    "itemknn": [
        {"window": w, "recency": r, "alpha": a}
        for w in (None, 3, 10)
        for r in (1.0, 0.7, 0.5)
        for a in (0.5,)
    ],
    "rules": [{"basket_window": w, "metric": m} for w in (None, 3) for m in ("confidence", "lift")],
    "als": [{"factors": 64, "regularization": r, "alpha": a, "iterations": 15} for r in (0.1, 1.0) for a in (5.0, 20.0)],
    "bpr": [{"factors": 64, "learning_rate": lr, "iterations": 100} for lr in (0.01, 0.05)],
    "ease": [{"lam": 300.0, "recency": r} for r in (1.0, 0.7, 0.5)],
    "sasrec": [{}],
}
"""Validation grids per model (small on purpose: CPU budget). Recency is a query-time knob."""

AUTO_MODELS = ["popular", "itemknn", "rules", "als", "ease", "sasrec"]
"""What `model="auto"` tries (BPR is evaluated in the bench; it never wins on these sets)."""

BLEND_MEMBERS = ["itemknn", "ease", "rules", "sasrec"]
"""Models blended into the best single model by `auto` (weights searched on validation; a member validation
gives no weight is dropped). SASRec+ joins when another model wins alone: on Sports EASE does, and the blend
with SASRec+ scores higher on validation than the blend without it."""


def tune(
    name: str,
    split: LOOSplit,
    *,
    grid: list[dict[str, Any]] | None = None,
    val_sample: int | None = 6000,
    seed: int = 0,
    max_train_s: float | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[Recommender, dict[str, Any], float, float]:
    """Fit every grid point on the training view, keep the best by validation NDCG@10.

    Returns (model, params, val_ndcg@10, train_s of the kept model).
    """
    from shopmind.recommend.base import _lookup, create

    query_keys = _lookup(name).query_params
    best: tuple[Recommender, dict[str, Any], float, float] | None = None
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


NO_REFIT = frozenset({"sasrec"})
"""Models reused from validation for the test (training twice costs too much on CPU)."""


def refit_for_test(model: Recommender, split: LOOSplit) -> tuple[Recommender, float]:
    """The same configuration retrained on everything before the test item (members of a blend each)."""
    from shopmind.recommend.base import create
    from shopmind.recommend.blend import Blend

    t0 = time.perf_counter()
    if isinstance(model, Blend):
        members = [refit_for_test(m, split)[0] for m in model.models]
        out: Recommender = Blend().with_models(members, model.params["weights"])
    elif model.name in NO_REFIT or model.name not in _registry():
        out = model
    else:
        out = create(model.name, **model.params).fit(split.train_test)
    return out, time.perf_counter() - t0


def _registry() -> set[str]:
    from shopmind.recommend.base import available

    return set(available())


def blend_on_validation(
    base: Recommender, others: list[Recommender], split: LOOSplit, *, val_sample: int | None = 6000, seed: int = 0
) -> tuple[Blend, float]:
    """Blend `others` into `base` with weights searched on (a sample of) the validation targets."""
    from shopmind.recommend.blend import Blend, normalise_rows, search_weights

    idx = np.arange(len(split.val_target))
    if val_sample is not None and val_sample < len(idx):
        idx = np.sort(np.random.default_rng(seed).choice(idx, val_sample, replace=False))  # same users as val_metric
    hist = [split.val_hist[i] for i in idx]
    tgt = split.val_target[idx]
    members = [base, *others]
    scores = [normalise_rows(m.score(hist)) for m in members]
    weights, val = search_weights(scores, hist, tgt)
    return Blend().with_models(members, weights), val


def choose_auto(
    tuned: dict[str, tuple[Recommender, dict[str, Any], float, float]],
    split: LOOSplit,
    *,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> tuple[Recommender, str, dict[str, Any], float]:
    """`auto`: the best tuned model by validation NDCG@10, then a blend with BLEND_MEMBERS if validation prefers it.

    `tuned` maps model name → (model, params, val_ndcg@10, train_s) as returned by `tune`. Returns
    (chosen model, its label, its params, its validation NDCG@10). Nothing here looks at the test item.
    """
    best_name = max(tuned, key=lambda n: tuned[n][2])
    chosen, params, val, _ = tuned[best_name]
    name = best_name
    others = [tuned[n][0] for n in BLEND_MEMBERS if n in tuned and n != best_name]
    if others:
        blended, bval = blend_on_validation(chosen, others, split, seed=seed)
        if log:
            log(f"blend {best_name}+{[o.name for o in others]} weights {blended.params['weights']} val {bval:.5f}")
        if bval > val:
            kept = [(m, w) for m, w in zip(blended.models, blended.params["weights"], strict=True) if w or m is chosen]
            from shopmind.recommend.blend import Blend

            blended = Blend().with_models([m for m, _ in kept], [w for _, w in kept])
            chosen, val, name = blended, bval, "blend:" + "+".join(blended.params["members"])
            params = {"weights": blended.params["weights"], "members": [{"name": mm.name, **mm.params} for mm in blended.models]}
    return chosen, name, params, val


def evaluate_split(
    split: LOOSplit,
    model: str = "auto",
    *,
    seed: int = 0,
    max_train_s: float | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Tune on validation, report test metrics of the chosen configuration (see module docstring)."""
    t0 = time.perf_counter()
    if model != "auto":
        m, params, val, train_s = tune(model, split, seed=seed, max_train_s=max_train_s, log=log)
        chosen, name = m, model
    else:
        tuned = {n: tune(n, split, seed=seed, max_train_s=max_train_s, log=log) for n in AUTO_MODELS}
        chosen, name, params, val = choose_auto(tuned, split, seed=seed, log=log)
        train_s = sum(t[3] for t in tuned.values())
    test_model, refit_s = refit_for_test(chosen, split)
    test = split.evaluate(test_model)
    return {
        "model": name,
        "refit_s": round(refit_s, 2),
        "params": params,
        "val_ndcg@10": round(float(val), 5),
        **test,
        "train_s": round(train_s, 2),
        "total_s": round(time.perf_counter() - t0, 2),
        "users": len(split.test_target),
        "items": int(split.n_items),
    }


def evaluate_recs(
    sequences: Path,
    model: str = "auto",
    protocol: str = "loo-full",
    *,
    seed: int = 0,
    max_train_s: float | None = None,
) -> dict[str, Any]:
    """Leave-one-out full-ranking evaluation of `model` (a registered name or "auto") on a seqrec file.

    Returns hr@10, ndcg@10, hr@20, ndcg@20, coverage@10, train_s, users, model (+ params, val_ndcg@10).
    `.inter` files (RecBole: user, item, rating, timestamp) are turned into time-ordered sequences first.
    """
    if protocol != "loo-full":
        raise ValueError(f"protocol {protocol!r} needs timestamps: use evaluate_recs_events (protocol 'temporal')")
    path = Path(sequences)
    if path.suffix == ".inter":
        seqs, n_items, users = sequences_from_inter(path)
        split = LOOSplit(seqs, n_items, users)
    else:
        split = LOOSplit.from_file(path)
    out = evaluate_split(split, model, seed=seed, max_train_s=max_train_s)
    return {"protocol": protocol, "dataset": path.stem, **out}


def evaluate_recs_events(
    events: Any,
    model: str | Recommender = "itemknn",
    *,
    test_frac: float = 0.2,
    item_ids: list[str] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Temporal protocol over the events table: train before a global time cut, predict what users do after."""
    from shopmind.recommend.base import create

    inter = Interactions.from_events(events, item_ids=item_ids)
    train, hist, targets, cut = temporal_split(inter, test_frac)
    m = create(model, **(params or {})) if isinstance(model, str) else model
    t0 = time.perf_counter()
    m.fit(train)
    train_s = time.perf_counter() - t0
    res = temporal_metrics(m, hist, targets, inter.n_items)
    return {"protocol": "temporal", "model": m.name, **res, "train_s": round(train_s, 3), "users": len(hist), "cut_ts": cut}

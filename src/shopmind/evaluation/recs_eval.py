"""Offline evaluation of recommenders: leave-one-out on sequence files, temporal split on the events table.

Protocol `loo-full` (the one behind the numbers in shared/data/README): per user, the last item is the test
target and the second-to-last the validation target. For validation, models are trained on every user's
sequence minus its last two items and asked for the item after `seq[:-2]`. For the test, the configuration
chosen on validation is *retrained* on everything before the test item (`seq[:-1]`, validation item
included) and asked for the item after `seq[:-1]` — except SASRec, which is too costly to train twice on this
machine: its validation-time weights are reused and the validation item enters only as history (the
S3-Rec/ICLRec recipe). Ranking is against ALL items, the user's own history excluded.
`model="auto"` tunes every registered candidate on the validation targets only and reports the test
metrics of the single configuration that won on validation. The tuning and the choice are `recommend.select`'s:
`shopmind build` runs the same procedure on the shop's own events to choose what each placement serves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.recommend.base import Interactions, Recommender, read_seqrec
from shopmind.recommend.select import (  # re-exported: the selection is shared with the build
    AUTO_MODELS,
    BLEND_MEMBERS,
    GRIDS,
    NextItemQueries,
    blend_on_validation,
    choose_auto,
    metrics_from_ranks,
    target_ranks,
    tune,
)
from shopmind.recommend.split import temporal_metrics, temporal_split  # re-exported: they moved to recommend


class LOOSplit(NextItemQueries):
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
# GRIDS, AUTO_MODELS, BLEND_MEMBERS, tune, blend_on_validation and choose_auto live in recommend.select: the build runs
# the same selection on the shop's own events.

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


__all__ = ["AUTO_MODELS", "BLEND_MEMBERS", "GRIDS", "LOOSplit", "NextItemQueries", "blend_on_validation", "choose_auto", "evaluate_recs",
           "evaluate_recs_events", "evaluate_split", "metrics_from_ranks", "refit_for_test", "sequences_from_inter", "target_ranks",
           "temporal_metrics", "temporal_split", "tune"]

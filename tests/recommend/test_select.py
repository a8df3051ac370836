"""The shared selection: temporal validation queries from real events, views, and a choice made on validation only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shopmind.recommend.base import Interactions
from shopmind.recommend.choose import VIEWS
from shopmind.recommend.datasets import ml100k
from shopmind.recommend.select import choose, temporal_queries, tune
from shopmind.recommend.sources import SERVE_VIEWS


def test_temporal_queries_hold_out_each_users_first_new_item(shared_data: Path) -> None:
    _, events = ml100k(shared_data / "ml-100k", max_users=120)
    inter = Interactions.from_events(events)
    q, cut = temporal_queries(inter, 0.2)
    assert len(q.val_target) > 10 and len(q.val_hist) == len(q.val_target)
    assert q.train.n_events == int((inter.ts < cut).sum())  # nothing after the cut trains
    hist_of = {}
    for u in range(inter.n_users):
        s, e = inter.indptr[u], inter.indptr[u + 1]
        before = inter.ts[s:e] < cut
        after = [i for i in inter.items[s:e][~before] if i not in set(inter.items[s:e][before])]
        if before.any() and after:
            hist_of[len(hist_of)] = (inter.items[s:e][before], after[0])
    for j, (h, t) in hist_of.items():
        assert np.array_equal(q.val_hist[j], h) and q.val_target[j] == t and t not in set(h)


def test_views_at_validation_match_views_when_served() -> None:
    hist = np.array([5, 7, 9, 11], dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    for view in ("history", "item", "basket"):  # a product page with no product shown, a cart with no cart: the history's end
        assert np.array_equal(VIEWS[view](hist), SERVE_VIEWS[view](hist, None, none))
    assert SERVE_VIEWS["item"](hist, 3, none).tolist() == [3]
    assert SERVE_VIEWS["basket"](hist, 3, np.array([1, 2])).tolist() == [1, 2]


def test_choice_reads_validation_only_and_states_its_margin(shared_data: Path) -> None:
    _, events = ml100k(shared_data / "ml-100k", max_users=200)
    q, _ = temporal_queries(Interactions.from_events(events), 0.2)
    tuned = {n: tune(n, q, grid=[g]) for n, g in (("popular", {}), ("itemknn", {"window": 3, "recency": 0.7}), ("rules", {}))}
    c = choose(tuned, q, vals={n: t[2] for n, t in tuned.items()})
    best = max(tuned, key=lambda n: tuned[n][2])
    assert c.members[0] == best and c.val >= tuned[best][2]
    assert c.runner_up is not None and c.margin is not None and c.margin >= 0
    assert abs(c.val_by_model[best] - q.val_metric(tuned[best][0], sample=3000)) < 1e-12
    if c.label.startswith("blend:"):
        assert len(c.members) > 1 and all(w > 0 for w in c.weights) and c.blend_val == c.val

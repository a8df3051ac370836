"""The search ranker trains on one LightGBM thread by default (a build inside a serving process, as continuous
training runs it, must not take every core of a worker host) and on as many as `search.ranker_params.n_jobs` says.
Prediction always runs on one thread (requests run side by side)."""

from __future__ import annotations

import re

import numpy as np

from shopmind.search.config import SearchConfig
from shopmind.search.ranker import FEATURES, Ranker


def _threads(ranker: Ranker) -> int:
    """The thread count LightGBM itself resolved and saved with the model."""
    found = re.search(r"\[num_threads: (\d+)\]", ranker.booster.model_to_string())
    assert found, "LightGBM saved no num_threads"
    return int(found.group(1))


def _data() -> tuple[np.ndarray, np.ndarray, list[int]]:
    rng = np.random.default_rng(0)
    X = rng.random((200, len(FEATURES)))
    y = (X[:, 0] * 4).astype(int)  # a ranking signal in one column
    return X, y, [20] * 10


def test_the_ranker_trains_on_one_thread_unless_configured() -> None:
    X, y, groups = _data()
    default = SearchConfig().ranker_params
    assert default["n_jobs"] == 1
    params = {**default, "n_estimators": 5}
    assert _threads(Ranker.fit(X, y, groups, params=params)) == 1
    cfg = SearchConfig(ranker_params={**params, "n_jobs": 3})  # configurable: a build host may give it more
    assert _threads(Ranker.fit(X, y, groups, params=cfg.ranker_params)) == 3

"""Each recommender's offline evaluation and full fit as module-level functions, so a build can run them as tasks.

`RecommendService.build` calls `train_models` with a `Tasks` runner: `InProcess` (the default) runs every call
here, one after another, exactly as a build always did; a distributed executor (`shopmind.executors`) runs them
as parallel tasks on a Ray cluster. The functions take only picklable values (names, config, arrays,
`Interactions`) and write a model only into the folder they are handed, so a remote worker can run them too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from shopmind.recommend.base import Interactions, Recommender, create
from shopmind.recommend.config import RecommendConfig
from shopmind.recommend.split import temporal_metrics, temporal_split

logger = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["InProcess", "Tasks", "evaluate_model", "fit_model", "make_model", "train_models"]


class Tasks(Protocol):
    """Runs `fn(*args)` for each args tuple and returns the results in order; with `out_dir`, `fn` gets a folder
    as its first argument and what it writes there ends up in `out_dir` (a remote task's files are shipped back)."""

    def starmap(self, fn: Callable[..., T], args: Sequence[tuple[Any, ...]], *, out_dir: Path | None = None) -> list[T]: ...


class InProcess:
    """Every call here, in turn: today's sequential build."""

    def starmap(self, fn: Callable[..., T], args: Sequence[tuple[Any, ...]], *, out_dir: Path | None = None) -> list[T]:
        """fn over each args tuple, in order (with `out_dir` first when given)."""
        return [fn(out_dir, *a) if out_dir is not None else fn(*a) for a in args]


def make_model(name: str, config: RecommendConfig, vectors: np.ndarray | None) -> Recommender:
    """A fresh model `name` with its configured parameters (the content model gets the product vectors)."""
    m = create(name, **config.params.get(name, {}))
    if name == "content":
        m.with_vectors(vectors)  # type: ignore[attr-defined]
    return m


def evaluate_model(name: str, config: RecommendConfig, vectors: np.ndarray | None, train: Interactions,
                   hist: list[np.ndarray], targets: list[np.ndarray], n_items: int) -> dict[str, Any]:
    """Fit on the events before the temporal cut and score the users' later items: the model's offline metrics."""
    m = make_model(name, config, vectors)
    ts = time.perf_counter()
    m.fit(train)
    return {**temporal_metrics(m, hist, targets, n_items), "train_s": round(time.perf_counter() - ts, 3), "users": len(hist)}


def fit_model(out_dir: Path, name: str, config: RecommendConfig, vectors: np.ndarray | None, inter: Interactions) -> float:
    """Fit on every event and save under `out_dir/models/<name>`; returns the fit's seconds."""
    ts = time.perf_counter()
    m = make_model(name, config, vectors).fit(inter)
    seconds = round(time.perf_counter() - ts, 3)
    m.save(Path(out_dir) / "models" / name)
    return seconds


def train_models(names: list[str], config: RecommendConfig, vectors: np.ndarray | None, inter: Interactions, out_dir: Path,
                 tasks: Tasks | None = None, *, evaluate: list[str] | None = None) -> tuple[dict[str, Any], dict[str, float]]:
    """Evaluate models (`evaluate`, default all) on a temporal split (when configured), then fit each on all events into `out_dir`.

    Returns (metrics by model plus `_split`, fit seconds by model)."""
    tasks = tasks or InProcess()
    metrics: dict[str, Any] = {}
    judged = [n for n in names if evaluate is None or n in evaluate]
    if config.evaluate and inter.n_events:
        train, hist, targets, cut = temporal_split(inter, config.eval_test_frac)
        if hist and judged:
            found = tasks.starmap(evaluate_model, [(n, config, vectors, train, hist, targets, inter.n_items) for n in judged])
            metrics.update(zip(judged, found, strict=True))
        metrics["_split"] = {"protocol": "temporal", "test_frac": config.eval_test_frac, "cut_ts": cut}
    seconds = tasks.starmap(fit_model, [(n, config, vectors, inter) for n in names], out_dir=out_dir)
    return metrics, dict(zip(names, seconds, strict=True))

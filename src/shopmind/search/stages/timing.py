"""Per-stage timings: milliseconds in the response (`query.timings_ms`) and a Prometheus histogram
(`shopmind_search_stage_seconds{stage=...}`, in the default registry that the API's /metrics serves)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from prometheus_client import REGISTRY, Histogram

from shopmind.search.stages.context import SearchContext

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def _histogram() -> Histogram:
    """The stage histogram, registered once per process (a re-imported module reuses it)."""
    name = "shopmind_search_stage_seconds"
    try:
        return Histogram(name, "Seconds spent in each stage of the search pipeline", ["stage"], buckets=BUCKETS)
    except ValueError:  # already registered
        return cast(Histogram, REGISTRY._names_to_collectors[name])  # prometheus_client has no lookup API


STAGE_SECONDS = _histogram()
_BY_STAGE: dict[str, Histogram] = {}


def _child(stage: str) -> Histogram:
    """The stage's labelled histogram, looked up once (`labels()` takes a lock and builds its key on every call)."""
    child = _BY_STAGE.get(stage)
    if child is None:
        child = _BY_STAGE[stage] = STAGE_SECONDS.labels(stage=stage)
    return child


@contextmanager
def timed(ctx: SearchContext, stage: str) -> Iterator[None]:
    """Time a block as `stage`: ms into ctx.timings, seconds into STAGE_SECONDS."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        dt = time.perf_counter() - t0
        ctx.timings[stage] = dt * 1e3
        _child(stage).observe(dt)

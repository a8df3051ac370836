"""Event-derived signals: implicit judgments, reformulation synonyms, query log, popularity.

No shop event log with searches exists in shared/data, so these are logic checks on a handful of
hand-written events over real Home Depot products (not a stand-in for real traffic)."""

from __future__ import annotations

import json

import pyarrow as pa

from shopmind.search import SearchConfig, SearchService, StageSwitches
from shopmind.search.training import judgments_from_events
from shopmind.search.understand import mine_reformulations


def _events(rows: list[tuple]) -> pa.Table:
    cols = ["id", "type", "user_id", "session_id", "item_id", "query", "ts"]
    data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    n = len(rows)
    return pa.table(
        {
            **{c: pa.array(data[c], pa.string()) for c in cols[:-1]},
            "ts": pa.array(data["ts"], pa.float64()),
            "quantity": pa.array([1] * n, pa.int32()),
            "price": pa.array([None] * n, pa.float64()),
            "context": pa.array([json.dumps({})] * n, pa.string()),
        }
    )


def test_judgments_from_events(hd_slice) -> None:
    a, b = hd_slice[0].id, hd_slice[1].id
    ev = _events(
        [
            ("1", "search", "u1", "s1", None, "Angle bracket", 0.0),
            ("2", "click", "u1", "s1", a, None, 5.0),
            ("3", "purchase", "u1", "s1", a, None, 50.0),
            ("4", "search", "u1", "s1", None, "deck paint", 60.0),
            ("5", "click", "u1", "s1", b, None, 65.0),
            ("6", "click", "u2", "s2", b, None, 10.0),
        ]
    )
    queries, qrels = judgments_from_events(ev)
    assert qrels == {"ev:angle bracket": {a: 3.0}, "ev:deck paint": {b: 1.0}}
    assert queries["ev:deck paint"] == "deck paint"


def test_reformulations_become_synonyms() -> None:
    rows = []
    for s in range(3):
        rows += [
            (f"{s}a", "search", f"u{s}", f"s{s}", None, "couch cover", 100.0 * s),
            (f"{s}b", "search", f"u{s}", f"s{s}", None, "sofa cover", 100.0 * s + 10),
            (f"{s}c", "click", f"u{s}", f"s{s}", "x", None, 100.0 * s + 20),
        ]
    assert mine_reformulations(_events(rows), min_count=2) == {"couch": ["sofa"]}
    assert mine_reformulations(_events(rows[:3]), min_count=2) == {}


def test_build_with_events(hd_slice, tmp_path) -> None:
    prods = hd_slice[:300]
    hot = prods[42].id
    rows = [(f"c{i}", "click", f"u{i}", f"s{i}", hot, None, float(i)) for i in range(5)]
    rows += [(f"q{i}", "search", f"u{i}", f"s{i}", None, "simpson strongtie", float(i)) for i in range(5)]
    rows += [(f"r{i}", "search", "u1", "s1", None, "simpson zmax", float(i)) for i in range(9)]  # one shopper, often
    svc = SearchService.build(prods, _events(rows), tmp_path, SearchConfig(stages=StageSwitches(dense=False)))
    t = svc.table
    assert t.popularity[t.row_of[hot]] > 0 and t.popularity.sum() == t.popularity[t.row_of[hot]]
    res = svc.search("bracket", sort="popularity", per_page=300)
    assert res.total > 0
    assert "strongtie" in svc.speller.counts  # the query log joins the spelling vocabulary
    assert svc.suggest("simpson s")[0] == "simpson strongtie"  # typed by 5 distinct users (search.suggest_min_users)
    assert svc.suggest("simpson z") == [] and "zmax" not in svc.speller.counts  # one person's query stays private

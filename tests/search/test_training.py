"""Training the ranker from a click log: who searched is kept, their history is what came before the search, and the
trained ranker must beat the untrained (fused) order on queries the log never held.

The click log is simulated from real data (labelled `context.simulated = "1"`): real Home Depot queries, each
followed by clicks on the products the crowd judged relevant (grade 2: click, grade 3: add to cart)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from shopmind.evaluation.search_eval import load_qrels, load_queries, split_of
from shopmind.ranking.features import USER_FEATURES
from shopmind.ranking.metrics import ndcg_at_k
from shopmind.search import SearchConfig, SearchService, StageSwitches
from shopmind.search.training import ItemHistory, judgments_from_events, searches_from_events

COLS = ["id", "type", "user_id", "session_id", "item_id", "query", "ts"]


def _events(rows: list[tuple], simulated: bool = True) -> pa.Table:
    data = {c: [r[i] for r in rows] for i, c in enumerate(COLS)}
    n = len(rows)
    return pa.table({
        **{c: pa.array(data[c], pa.string()) for c in COLS[:-1]},
        "ts": pa.array(data["ts"], pa.float64()),
        "quantity": pa.array([1] * n, pa.int32()),
        "price": pa.array([None] * n, pa.float64()),
        "context": pa.array([json.dumps({"simulated": "1"} if simulated else {})] * n, pa.string()),
    })


def test_searches_keep_who_searched_and_history_stops_at_the_search(hd_slice) -> None:
    a, b, c = (p.id for p in hd_slice[:3])
    ev = _events([
        ("1", "click", "u1", "s0", a, None, 1.0),
        ("2", "search", "u1", "s1", None, "Deck paint", 10.0),
        ("3", "click", "u1", "s1", b, None, 12.0),
        ("4", "purchase", "u1", "s1", b, None, 20.0),
        ("5", "click", "u1", "s2", c, None, 5000.0),
        ("6", "search", "u2", "s3", None, "deck paint", 30.0),
        ("7", "add_to_cart", "u2", "s3", c, None, 31.0),
    ], simulated=False)
    searches = sorted(searches_from_events(ev), key=lambda s: s.ts)
    assert [(s.user_id, s.ts, s.qrel) for s in searches] == [("u1", 10.0, {b: 3.0}), ("u2", 30.0, {c: 2.0})]
    history = ItemHistory(ev)
    assert history.before("u1", 10.0) == [a]  # the search's own clicks and later ones are the label, never a feature
    assert history.before("u1", 6000.0) == [a, b, b, c] and history.before("nobody", 1.0) == []
    assert judgments_from_events(ev) == ({"ev:deck paint": "deck paint"}, {"ev:deck paint": {b: 3.0, c: 2.0}})


@pytest.fixture(scope="module")
def click_log(hd_slice, shared_data):
    """Real HD queries judged on the 2,000-product slice: 80 % become the simulated click log, 20 % are held out."""
    root = shared_data / "search" / "homedepot"
    queries, qrels = load_queries(root / "queries.tsv"), load_qrels(root / "qrels.tsv")
    ids = {p.id for p in hd_slice}
    judged = {q: {p: g for p, g in rel.items() if p in ids} for q, rel in qrels.items()}
    judged = {q: rel for q, rel in judged.items() if q in queries and max(rel.values(), default=0) >= 2}
    logged = sorted(q for q in judged if split_of(q, 0.8, 0.2) == "train")
    held = sorted(q for q in judged if q not in set(logged))
    rows = []
    for i, q in enumerate(logged):
        rows.append((f"q{i}", "search", f"sim-u{i}", f"sim-s{i}", None, queries[q], 100.0 * i))
        for j, (pid, g) in enumerate(sorted(judged[q].items())):
            if g >= 2:
                rows.append((f"c{i}-{j}", "add_to_cart" if g >= 3 else "click", f"sim-u{i}", f"sim-s{i}", pid, None, 100.0 * i + 1 + j))
    return _events(rows), {q: queries[q] for q in held}, judged


@pytest.mark.integration  # builds a 2,000-product index and trains on ~700 logged searches
def test_ranker_from_click_log_beats_the_untrained_order_on_unlogged_queries(hd_slice, click_log, tmp_path) -> None:
    events, held, judged = click_log
    assert len(held) >= 100
    params = {**SearchConfig().ranker_params, "n_jobs": 1}  # one thread: two spin-wait on a busy 2-core machine
    svc = SearchService.build(hd_slice, events, tmp_path, SearchConfig(stages=StageSwitches(dense=False), ranker_params=params))
    assert svc.ranker is not None, "the ranker trained from the click log did not beat the fused order on its held-out fifth"
    # nobody in this log has a history before their search: the personal columns are constant, and dropped by name
    assert all(svc.ranker.dropped.get(f) == "constant in training" for f in USER_FEATURES)
    assert not set(USER_FEATURES) & set(svc.ranker.features)

    def ndcg(use_ranker: bool) -> float:
        return float(np.mean([ndcg_at_k([h.id for h in svc.search(text, per_page=10, explain=False, use_ranker=use_ranker).hits],
                                        judged[q], 10) for q, text in held.items()]))

    trained, untrained = ndcg(True), ndcg(False)
    assert trained > untrained, f"trained ranker nDCG@10 {trained:.4f} <= untrained order {untrained:.4f} on {len(held)} unlogged queries"
    assert SearchService.load(tmp_path).ranker is not None  # saved beside the indexes, with its dropped columns

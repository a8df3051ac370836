"""Training the search pipeline from judgments: fusion weight tuning and the LambdaMART ranker,
from a judged-queries file or from click logs (search → click / cart / purchase in the same session).

From a click log every judged search is its own query group and keeps who searched and when: its personal
columns come from the items that user touched before the search (never after), so the ranker learns what a
user's history says about the candidates; without users those columns are constant and the ranker drops them."""

from __future__ import annotations

import bisect
import logging
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa

from shopmind.event_weights import RELEVANCE_GRADES
from shopmind.ranking.metrics import ndcg_at_k
from shopmind.search import event_stats
from shopmind.search.ranker import Ranker
from shopmind.search.service import SearchService
from shopmind.search.stages.context import Retrieval
from shopmind.search.user_features import UserContext, user_context

logger = logging.getLogger(__name__)

Qrels = dict[str, dict[str, float]]

Memo = dict[str, np.ndarray]
Who = Mapping[str, UserContext | None]  # query id → who searched (their items before the search), None: nobody known


def _candidates(svc: SearchService, text: str, qrel: Mapping[str, float], memo: Memo | None, uctx: UserContext | None = None):
    """Training candidates, query vectors memoised (tuning and training see each query more than once)."""
    qvec = memo.get(text) if memo is not None else None
    if qvec is None and svc.vectors is not None:
        qvec = svc.query_vector(svc.understand(text))
        if memo is not None and qvec is not None:
            memo[text] = qvec
    return svc.candidates_for_training(text, qrel, qvec=qvec, uctx=uctx)


def _fused_ndcg(svc: SearchService, cached: list, weights: Sequence[float], fusion: str) -> list[float]:
    out = []
    for w in weights:
        scores = []
        for r, qrel in cached:
            fused, _, _ = svc._fuse(r, "hybrid", fusion=fusion, dense_weight=w)
            order = np.lexsort((r.cand, -fused))[:10]
            scores.append(ndcg_at_k([svc.table.ids[int(x)] for x in r.cand[order]], qrel, 10))
        out.append(float(np.mean(scores)) if scores else 0.0)
    return out


def _fusion_inputs(r: Retrieval) -> Retrieval:
    """What fusion reads of a retrieval (candidates, their BM25, cosines and ranks), without its catalog-sized arrays
    (the match mask and BM25 over every row, ~270 KB a query on Home Depot): holding those for thousands of tuning
    queries took over a GB and left the allocator's heap fragmented, and every search after the tuning ran slower."""
    return replace(r, match=np.zeros(0, bool), lex_all=np.zeros(0, np.float32), per_field={})


def tune_fusion(svc: SearchService, queries: Mapping[str, str], qrels: Qrels, memo: Memo | None = None) -> dict:
    """Pick the convex dense weight (and RRF vs convex) that maximise nDCG@10 on the given queries."""
    cached = []
    for qid, text in queries.items():
        if qid in qrels:
            _, _, r, _, _ = _candidates(svc, text, qrels[qid], memo)
            cached.append((_fusion_inputs(r), qrels[qid]))
    grid = [round(x, 2) for x in np.arange(0.0, 1.01, 0.1)]
    convex = _fused_ndcg(svc, cached, grid, "convex")
    rrf = _fused_ndcg(svc, cached, [0.5], "rrf")[0]
    best = int(np.argmax(convex))
    fusion = "convex" if convex[best] >= rrf else "rrf"
    svc.set_tuned(dense_weight=grid[best], fusion=fusion)
    return {"dense_weight": grid[best], "fusion": fusion, "convex_ndcg": dict(zip(map(str, grid), convex, strict=True)), "rrf_ndcg": rrf}


def _training_matrix(
    svc: SearchService, queries: Mapping[str, str], qrels: Qrels, memo: Memo | None = None, who: Who | None = None
) -> tuple[np.ndarray, np.ndarray, list[int]] | None:
    """Features, graded labels and group sizes of the judged queries (None when none has a positive)."""
    Xs, ys, groups = [], [], []
    for qid, text in queries.items():
        if qid not in qrels:
            continue
        X, y, _, _, _ = _candidates(svc, text, qrels[qid], memo, (who or {}).get(qid))
        if len(y) and y.max() > 0:
            Xs.append(X)
            ys.append(np.clip(np.round(y), 0, 5).astype(np.int32))
            groups.append(len(y))
    if not Xs:
        return None
    return np.concatenate(Xs), np.concatenate(ys), groups


def train_ranker(
    svc: SearchService, train: Mapping[str, str], qrels: Qrels, valid: Mapping[str, str] | None = None, memo: Memo | None = None,
    who: Who | None = None,
) -> Ranker | None:
    """Fit LambdaMART on the train queries (early-stopped on valid) and attach it to the service; `who`: the user of
    each judged search (personal columns), else they are 0, constant, and dropped from the model."""
    tr = _training_matrix(svc, train, qrels, memo, who)
    if tr is None:
        return None
    va = _training_matrix(svc, valid, qrels, memo, who) if valid else None
    X, y, groups = tr
    ranker = Ranker.fit(X, y, groups, params=dict(svc.config.ranker_params), valid=va)
    if valid:
        fused, ranked = _validation_ndcg(svc, ranker, valid, qrels, memo, who)
        svc.record_metrics(ranker_valid_ndcg=round(ranked, 4), fused_valid_ndcg=round(fused, 4), ranker_kept=ranked > fused)
        logger.info("ranker nDCG@10 on %d held-out queries: %.4f (fused order %.4f)", len(valid), ranked, fused)
        if ranked <= fused:  # keep the ranker only where it beats the fused order on held-out queries
            return None
    svc.set_ranker(ranker)
    return ranker


def _validation_ndcg(svc: SearchService, ranker: Ranker, queries: Mapping[str, str], qrels: Qrels, memo: Memo | None,
                     who: Who | None = None) -> tuple[float, float]:
    """nDCG@10 on held-out queries of the fused order and of the ranker's order of the same candidates."""
    fused, ranked = [], []
    for qid, text in queries.items():
        if qid not in qrels:
            continue
        X, _, r, _, order = _candidates(svc, text, qrels[qid], memo, (who or {}).get(qid))
        ids = [svc.table.ids[int(x)] for x in r.cand[order]]
        fused.append(ndcg_at_k(ids, qrels[qid], 10))
        if len(ids):
            s = ranker.predict(X)
            ranked.append(ndcg_at_k([ids[i] for i in np.argsort(-s, kind="stable")], qrels[qid], 10))
        else:
            ranked.append(0.0)
    return (float(np.mean(fused)) if fused else 0.0), (float(np.mean(ranked)) if ranked else 0.0)


EVENT_GRADE = RELEVANCE_GRADES  # shopmind.event_weights: the graded-relevance scale (click 1, cart 2, purchase 3)


@dataclass(frozen=True)
class JudgedSearch:
    """One search of the click log and the items its session then touched (graded), with who searched and when."""

    query: str
    user_id: str | None
    ts: float
    qrel: dict[str, float] = field(default_factory=dict)
    label_rows: list[int] = field(default_factory=list)  # rows of the events table that made qrel

    @property
    def qid(self) -> str:
        """The query's id across users: "ev:" + its case-folded text."""
        return "ev:" + self.query.strip().casefold()


def searches_from_events(events: Any, window_s: float = 1800.0) -> list[JudgedSearch]:
    """Every search followed by item events in its session (before its next search, within window_s): the items
    get the grade of the strongest action (click 1, cart 2, purchase 3)."""
    if events is None or events.num_rows == 0:
        return []
    cols = events.select(["type", "user_id", "session_id", "item_id", "query", "ts"]).to_pydict()
    by_session: dict[str, list[tuple[float, int, str, str | None, str | None, str | None]]] = defaultdict(list)
    rows = zip(cols["type"], cols["user_id"], cols["session_id"], cols["item_id"], cols["query"], cols["ts"], strict=True)
    for row, (typ, user, sess, item, q, ts) in enumerate(rows):
        by_session[sess or user].append((ts, row, typ, item, q, user))
    out: list[JudgedSearch] = []
    for evs in by_session.values():
        evs.sort(key=lambda e: (e[0], e[1]))
        current: JudgedSearch | None = None
        for ts, row, typ, item, q, user in evs:
            if typ == "search" and q:
                current = JudgedSearch(q, user, ts)
                out.append(current)
            elif current and item and typ in EVENT_GRADE and ts - current.ts <= window_s:
                current.qrel[item] = max(current.qrel.get(item, 0.0), EVENT_GRADE[typ])
                current.label_rows.append(row)
    return [s for s in out if s.qrel]


def judgments_from_events(events: Any, window_s: float = 1800.0, min_queries: int = 1) -> tuple[dict[str, str], Qrels]:
    """Implicit judgments per query text over all users (`searches_from_events` merged: an item's strongest grade)."""
    queries: dict[str, str] = {}
    qrels: Qrels = defaultdict(dict)
    for s in searches_from_events(events, window_s):
        queries[s.qid] = s.query
        rel = qrels[s.qid]
        for item, g in s.qrel.items():
            rel[item] = max(rel.get(item, 0.0), g)
    return queries, dict(qrels)


class ItemHistory:
    """Each user's item events in time order, to ask which items they had touched before a moment."""

    def __init__(self, events: Any) -> None:
        self.by_user: dict[str, tuple[list[float], list[str]]] = {}
        if events is None or events.num_rows == 0:
            return
        cols = events.select(["type", "user_id", "item_id", "ts"]).to_pydict()
        rows: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for typ, user, item, ts in zip(cols["type"], cols["user_id"], cols["item_id"], cols["ts"], strict=True):
            if user and item and typ not in ("impression", "remove_from_cart"):  # as OnlineState.history counts
                rows[user].append((ts, item))
        for user, evs in rows.items():
            evs.sort(key=lambda e: e[0])
            self.by_user[user] = ([t for t, _ in evs], [i for _, i in evs])

    def before(self, user_id: str | None, ts: float) -> list[str]:
        """The user's items from events strictly before ts, oldest first."""
        if not user_id or user_id not in self.by_user:
            return []
        times, items = self.by_user[user_id]
        return items[: bisect.bisect_left(times, ts)]


def train_from_events(svc: SearchService, events: Any, max_queries: int = 2000) -> Ranker | None:
    """Tune fusion and fit the ranker from click logs when they hold ≥ 20 judged searches: the max_queries searches
    with most judged items, each with who searched (their items before it); the searches of one query text in five
    are held out for early stopping and for the check that the ranker beats the fused order."""
    searches = searches_from_events(events)
    if len(searches) < 20:
        logger.info("too few judged searches to train the ranker (%d < 20)", len(searches))
        return None
    keep = sorted(range(len(searches)), key=lambda i: (-len(searches[i].qrel), searches[i].qid, i))[:max_queries]
    count = Counter(searches[i].qid for i in keep)
    texts = sorted(count, key=lambda q: (-count[q], q))
    held = {q for j, q in enumerate(texts) if not j % 5}
    history = ItemHistory(events)
    queries = {f"s{i}": searches[i].query for i in keep}
    qrels = {f"s{i}": searches[i].qrel for i in keep}
    who = {f"s{i}": user_context(svc, history.before(searches[i].user_id, searches[i].ts)) for i in keep}
    train = {q: t for q, t in queries.items() if searches[int(q[1:])].qid not in held}
    valid = {q: t for q, t in queries.items() if searches[int(q[1:])].qid in held}
    memo: Memo = {}
    labels = np.zeros(events.num_rows, bool)
    labels[[r for s in searches for r in s.label_rows]] = True
    with item_stats_without_labels(svc, events.filter(pa.array(~labels))):
        tune_fusion(svc, train, qrels, memo)
        return train_ranker(svc, train, qrels, valid, memo, who)


@contextmanager
def item_stats_without_labels(svc: SearchService, events: Any) -> Iterator[None]:
    """While training from a click log, the item columns (popularity, CTR, conversion) count only the events that
    are no search's label: otherwise a logged search's own clicks raise its clicked items' popularity, and the ranker
    learns the label back from the feature (on unlogged queries it then ranks popular items, not relevant ones)."""
    t = svc.table
    kept = (t.popularity, t.ctr, t.conversion)
    t.popularity, t.ctr, t.conversion = (np.zeros(len(t), np.float32) for _ in range(3))
    event_stats.apply_event_stats(t, events)
    try:
        yield
    finally:
        t.popularity, t.ctr, t.conversion = kept

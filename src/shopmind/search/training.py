"""Training the search pipeline from judgments: fusion weight tuning and the LambdaMART ranker,
from a judged-queries file or from click logs (search → click / cart / purchase in the same session)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from shopmind.event_weights import RELEVANCE_GRADES
from shopmind.ranking.metrics import ndcg_at_k
from shopmind.search.ranker import Ranker
from shopmind.search.service import SearchService

logger = logging.getLogger(__name__)

Qrels = dict[str, dict[str, float]]

Memo = dict[str, np.ndarray]


def _candidates(svc: SearchService, text: str, qrel: Mapping[str, float], memo: Memo | None):
    """Training candidates, query vectors memoised (tuning and training see each query more than once)."""
    qvec = memo.get(text) if memo is not None else None
    if qvec is None and svc.vectors is not None:
        qvec = svc.query_vector(svc.understand(text))
        if memo is not None and qvec is not None:
            memo[text] = qvec
    return svc.candidates_for_training(text, qrel, qvec=qvec)


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


def tune_fusion(svc: SearchService, queries: Mapping[str, str], qrels: Qrels, memo: Memo | None = None) -> dict:
    """Pick the convex dense weight (and RRF vs convex) that maximise nDCG@10 on the given queries."""
    cached = []
    for qid, text in queries.items():
        if qid in qrels:
            _, _, r, _, _ = _candidates(svc, text, qrels[qid], memo)
            cached.append((r, qrels[qid]))
    grid = [round(x, 2) for x in np.arange(0.0, 1.01, 0.1)]
    convex = _fused_ndcg(svc, cached, grid, "convex")
    rrf = _fused_ndcg(svc, cached, [0.5], "rrf")[0]
    best = int(np.argmax(convex))
    fusion = "convex" if convex[best] >= rrf else "rrf"
    svc.set_tuned(dense_weight=grid[best], fusion=fusion)
    return {"dense_weight": grid[best], "fusion": fusion, "convex_ndcg": dict(zip(map(str, grid), convex, strict=True)), "rrf_ndcg": rrf}


def _training_matrix(
    svc: SearchService, queries: Mapping[str, str], qrels: Qrels, memo: Memo | None = None
) -> tuple[np.ndarray, np.ndarray, list[int]] | None:
    """Features, graded labels and group sizes of the judged queries (None when none has a positive)."""
    Xs, ys, groups = [], [], []
    for qid, text in queries.items():
        if qid not in qrels:
            continue
        X, y, _, _, _ = _candidates(svc, text, qrels[qid], memo)
        if len(y) and y.max() > 0:
            Xs.append(X)
            ys.append(np.clip(np.round(y), 0, 5).astype(np.int32))
            groups.append(len(y))
    if not Xs:
        return None
    return np.concatenate(Xs), np.concatenate(ys), groups


def train_ranker(
    svc: SearchService, train: Mapping[str, str], qrels: Qrels, valid: Mapping[str, str] | None = None, memo: Memo | None = None
) -> Ranker | None:
    """Fit LambdaMART on the train queries (early-stopped on valid) and attach it to the service."""
    tr = _training_matrix(svc, train, qrels, memo)
    if tr is None:
        return None
    va = _training_matrix(svc, valid, qrels, memo) if valid else None
    X, y, groups = tr
    ranker = Ranker.fit(X, y, groups, params=dict(svc.config.ranker_params), valid=va)
    if valid:
        fused, ranked = _validation_ndcg(svc, ranker, valid, qrels, memo)
        svc.record_metrics(ranker_valid_ndcg=round(ranked, 4), fused_valid_ndcg=round(fused, 4), ranker_kept=ranked > fused)
        logger.info("ranker nDCG@10 on %d held-out queries: %.4f (fused order %.4f)", len(valid), ranked, fused)
        if ranked <= fused:  # keep the ranker only where it beats the fused order on held-out queries
            return None
    svc.set_ranker(ranker)
    return ranker


def _validation_ndcg(svc: SearchService, ranker: Ranker, queries: Mapping[str, str], qrels: Qrels, memo: Memo | None) -> tuple[float, float]:
    """nDCG@10 on held-out queries of the fused order and of the ranker's order of the same candidates."""
    fused, ranked = [], []
    for qid, text in queries.items():
        if qid not in qrels:
            continue
        X, _, r, _, order = _candidates(svc, text, qrels[qid], memo)
        ids = [svc.table.ids[int(x)] for x in r.cand[order]]
        fused.append(ndcg_at_k(ids, qrels[qid], 10))
        if len(ids):
            s = ranker.predict(X)
            ranked.append(ndcg_at_k([ids[i] for i in np.argsort(-s, kind="stable")], qrels[qid], 10))
        else:
            ranked.append(0.0)
    return (float(np.mean(fused)) if fused else 0.0), (float(np.mean(ranked)) if ranked else 0.0)


EVENT_GRADE = RELEVANCE_GRADES  # shopmind.event_weights: the graded-relevance scale (click 1, cart 2, purchase 3)


def judgments_from_events(events, window_s: float = 1800.0, min_queries: int = 1) -> tuple[dict[str, str], Qrels]:
    """Implicit judgments: items a session touched after a search (before its next search, within
    window_s) get the grade of the strongest action (click 1, cart 2, purchase 3)."""
    if events is None or events.num_rows == 0:
        return {}, {}
    cols = events.select(["type", "user_id", "session_id", "item_id", "query", "ts"]).to_pydict()
    by_session: dict[str, list[tuple[float, str, str | None, str | None]]] = defaultdict(list)
    for typ, user, sess, item, q, ts in zip(cols["type"], cols["user_id"], cols["session_id"], cols["item_id"], cols["query"], cols["ts"], strict=True):
        by_session[sess or user].append((ts, typ, item, q))
    queries: dict[str, str] = {}
    qrels: Qrels = defaultdict(dict)
    for evs in by_session.values():
        evs.sort(key=lambda e: e[0])
        current: tuple[str, float] | None = None
        for ts, typ, item, q in evs:
            if typ == "search" and q:
                qid = "ev:" + q.strip().casefold()
                queries[qid] = q
                current = (qid, ts)
            elif current and item and typ in EVENT_GRADE and ts - current[1] <= window_s:
                rel = qrels[current[0]]
                rel[item] = max(rel.get(item, 0.0), EVENT_GRADE[typ])
    qrels = {q: r for q, r in qrels.items() if r}
    return {q: t for q, t in queries.items() if q in qrels}, dict(qrels)


def train_from_events(svc: SearchService, events, max_queries: int = 2000,
                      judgments: tuple[dict[str, str], Qrels] | None = None) -> Ranker | None:
    """Tune fusion and fit the ranker from click logs when they hold ≥ 20 searches with clicks
    (the max_queries most-judged queries, one in five held out for early stopping); `judgments`:
    `judgments_from_events(events)` when the caller already has them."""
    queries, qrels = judgments if judgments is not None else judgments_from_events(events)
    if len(qrels) < 20:
        logger.info("too few judged searches to train the ranker (%d < 20)", len(qrels))
        return None
    keep = sorted(qrels, key=lambda q: (-len(qrels[q]), q))[:max_queries]
    train = {q: queries[q] for i, q in enumerate(keep) if i % 5}
    valid = {q: queries[q] for i, q in enumerate(keep) if not i % 5}
    memo: Memo = {}
    tune_fusion(svc, train, qrels, memo)
    return train_ranker(svc, train, qrels, valid, memo)

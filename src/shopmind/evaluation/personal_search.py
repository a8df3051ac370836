"""Personalised search on real behaviour: MovieLens-100K genre queries, judged by what each user rated highly later.

The protocol, fixed before anything was tuned (SALT freezes the user split):
- products: the 1,682 movies as the demo shop maps them (title; first genre as category; genres and year as
  attributes); each rating is an event at its real time, typed as in shopmind.recommend.datasets (5 purchase,
  4 add_to_cart, else view).
- users split by a salted hash: train (50 %), dev (20 %: the only held-out users looked at while developing) and
  final (30 %: kept unseen until the last run, the reported figure).
- a user's cutoff t is the median time of their ratings. Their queries are genre words ("comedy", "sci-fi"), one for
  each genre of which they rated at least MIN_RELEVANT movies ≥ 4 after t (at most PER_USER, drawn with a per-user
  seed); relevant: those movies, grade rating − 3. Movies they rated before t leave the candidates of both arms
  (a movie is rated once), and their history is exactly those ratings, oldest first.
- the index learns popularity from the train users' ratings before their cutoffs only (no label reaches a feature).
- both rankers train on the train users' queries with the same parameters (all positives and NEGATIVES sampled
  negatives per query; the queries of one train user in five stop the boosting); the non-personalised ranker is the
  same model minus ranking.features.USER_FEATURES (dropped from training, not zeroed).
- every candidate of each held-out query is reranked by each ranker; nDCG@10 per user (mean over their queries);
  the gain's 95 % interval is a paired bootstrap over held-out users.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from shopmind.domain import Product
from shopmind.evaluation.metrics import ndcg_at_k
from shopmind.ranking.features import USER_FEATURES
from shopmind.recommend.datasets import events_table
from shopmind.search.config import SearchConfig
from shopmind.search.ranker import FEATURES, Ranker
from shopmind.search.service import SearchService
from shopmind.search.user_features import user_columns, user_context

logger = logging.getLogger(__name__)

SALT = "shopmind-personal-search-2026-12-06"
SPLITS = (("train", 0.5), ("dev", 0.2), ("final", 0.3))
PER_USER = 4
MIN_RELEVANT = 2
NEGATIVES = 50
RERANK_K = 1200  # every BM25 match of a genre (Drama: 725) plus the dense top 200: the whole candidate set is ranked
USER_COLS = np.array([FEATURES.index(f) for f in USER_FEATURES], np.int64)


@dataclass(frozen=True)
class PersonalQuery:
    """One user's genre query at their cutoff: relevant movies after it, their movies before it."""

    user: str
    split: str
    text: str
    qrel: dict[str, float]
    history: tuple[str, ...]


@dataclass
class PersonalSet:
    """The catalog, the events the index learns from, and every user's queries."""

    products: list[Product]
    events: pa.Table
    queries: list[PersonalQuery]

    def of(self, split: str) -> list[PersonalQuery]:
        """The queries of one user split."""
        return [q for q in self.queries if q.split == split]


def split_of(user: str) -> str:
    """The frozen split of a user: 'train', 'dev' or 'final' (salted sha1)."""
    h = int(hashlib.sha1(f"{SALT}:{user}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    acc = 0.0
    for name, share in SPLITS:
        acc += share
        if h < acc:
            return name
    return SPLITS[-1][0]


def _read(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t") for line in lines if line.strip()]


def movies(root: Path) -> list[Product]:
    """ml-100k.item as the demo shop maps it: id m<item>, title, first genre as category, genres and year."""
    out = []
    for item, title, year, genres in (r + [""] * (4 - len(r)) for r in _read(root / "ml-100k.item")):
        g = genres.split() or ["Unknown"]
        attrs: dict[str, Any] = {"genres": g}
        if year.isdigit():
            attrs["year"] = int(year)
        out.append(Product(id=f"m{item}", title=title or f"m{item}", category=[g[0]], attributes=attrs, language="en"))
    return out


def load_personal_set(root: Path, max_users: int | None = None, per_user: int = PER_USER) -> PersonalSet:
    """The frozen query set from ml-100k (see the module docstring); `max_users`: the lowest user ids only (tests)."""
    prods = movies(root)
    genres = {p.id: set(p.attributes["genres"]) - {"unknown", "Unknown"} for p in prods}
    rows = _read(root / "ml-100k.inter")
    by_user: dict[str, list[tuple[float, str, float]]] = defaultdict(list)
    for user, item, rating, ts in rows:
        if max_users is None or int(user) <= max_users:
            by_user[user].append((float(ts), f"m{item}", float(rating)))
    queries: list[PersonalQuery] = []
    ev_users, ev_items, ev_ts, ev_types = [], [], [], []
    for user in sorted(by_user, key=int):
        rs = sorted(by_user[user])
        cut = float(np.median([t for t, _, _ in rs]))
        before = [(t, i, r) for t, i, r in rs if t < cut]
        after = [(t, i, r) for t, i, r in rs if t >= cut]
        split = split_of(user)
        if split == "train":
            for t, i, r in before:
                ev_users.append(user)
                ev_items.append(i)
                ev_ts.append(t)
                ev_types.append("purchase" if r >= 5 else "add_to_cart" if r >= 4 else "view")
        if not before:
            continue
        liked: dict[str, dict[str, float]] = defaultdict(dict)
        for _, i, r in after:
            if r >= 4:
                for g in genres[i]:
                    liked[g][i] = r - 3.0
        eligible = sorted(g for g, rel in liked.items() if len(rel) >= MIN_RELEVANT)
        rng = np.random.default_rng(int(user))
        chosen = sorted(rng.choice(eligible, size=min(per_user, len(eligible)), replace=False)) if eligible else []
        history = tuple(i for _, i, _ in before)
        queries += [PersonalQuery(user, split, g.lower(), liked[g], history) for g in chosen]
    events = events_table(ev_types, ev_users, ev_items, np.asarray(ev_ts, np.float64))
    return PersonalSet(prods, events, queries)


class Candidates:
    """Each query text's candidates and feature matrix, computed once; a user's copy drops their seen movies and
    fills the personal columns from their history."""

    def __init__(self, svc: SearchService) -> None:
        self.svc = svc
        self.cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def base(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(features without a user, table rows) of the fused top RERANK_K, in fused order."""
        if text not in self.cache:
            X, _, r, _, order = self.svc.candidates_for_training(text, {})
            self.cache[text] = (X, r.cand[order])
        return self.cache[text]

    def of(self, q: PersonalQuery) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(features with the user's columns, grades, ids) of one query's candidates, the user's seen movies removed."""
        X0, rows = self.base(q.text)
        ids_all = self.svc.table.ids
        seen = set(q.history)
        keep = np.array([ids_all[int(r)] not in seen for r in rows], bool)
        rows = rows[keep]
        X = X0[keep].copy()
        cols = user_columns(self.svc, rows, user_context(self.svc, q.history))
        X[:, USER_COLS] = np.column_stack([cols[f] for f in USER_FEATURES]) if len(rows) else X[:, USER_COLS]
        ids = [ids_all[int(r)] for r in rows]
        return X, np.array([q.qrel.get(i, 0.0) for i in ids], np.float32), ids


def training_matrix(cands: Candidates, queries: Sequence[PersonalQuery], negatives: int | None = NEGATIVES,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Stacked features, integer grades and group sizes of the queries with a relevant candidate (negatives sampled
    per query when `negatives` is set)."""
    rng = np.random.default_rng(seed)
    Xs, ys, groups = [], [], []
    for q in queries:
        X, y, _ = cands.of(q)
        if not len(y) or y.max() <= 0:
            continue
        if negatives is not None:
            neg = np.flatnonzero(y == 0)
            pick = np.sort(np.concatenate([np.flatnonzero(y > 0), rng.choice(neg, min(negatives, len(neg)), replace=False)]))
            X, y = X[pick], y[pick]
        Xs.append(X)
        ys.append(np.round(y).astype(np.int32))
        groups.append(len(y))
    if not Xs:
        return np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, np.int32), []
    return np.concatenate(Xs), np.concatenate(ys), groups


def build_index(data: PersonalSet, out_dir: Path, dense: bool = True) -> SearchService:
    """The search index over the movies, learning popularity from the train users' past (RERANK_K candidates)."""
    cfg = SearchConfig(rerank_k=RERANK_K)
    if not dense:
        cfg = cfg.model_copy(update={"stages": cfg.stages.model_copy(update={"dense": False})})
    return SearchService.build(data.products, data.events, out_dir, cfg)


def train_rankers(cands: Candidates, train: Sequence[PersonalQuery]) -> tuple[Ranker, Ranker]:
    """(personalised, non-personalised) rankers on the same queries, rows and parameters."""
    stops = {q.user for q in train if not int(hashlib.sha1(f"{SALT}:stop:{q.user}".encode()).hexdigest()[:8], 16) % 5}
    fit = [q for q in train if q.user not in stops]
    stop = [q for q in train if q.user in stops]
    X, y, g = training_matrix(cands, fit)
    Xv, yv, gv = training_matrix(cands, stop, negatives=None)
    params = {**cands.svc.config.ranker_params, "n_jobs": 1}  # one thread: deterministic, and no spin-waiting on a busy machine
    personal = Ranker.fit(X, y, g, params, valid=(Xv, yv, gv))
    plain = Ranker.fit(X, y, g, params, valid=(Xv, yv, gv), drop=USER_FEATURES)
    return personal, plain


def paired_bootstrap(diff: np.ndarray, n_boot: int = 10_000, seed: int = 0, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile interval of the mean of per-user differences, users resampled with replacement."""
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (n_boot, len(diff)))].mean(axis=1)
    return float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2))


def score_users(cands: Candidates, queries: Sequence[PersonalQuery], rankers: dict[str, Ranker | None]) -> dict[str, dict[str, float]]:
    """nDCG@10 per ranker (None: the fused order) per user, the mean over the user's queries."""
    per: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in rankers}
    for q in queries:
        X, _, ids = cands.of(q)
        for name, ranker in rankers.items():
            order = np.argsort(-ranker.predict(X), kind="stable") if ranker is not None and len(ids) else np.arange(len(ids))
            per[name][q.user].append(ndcg_at_k([ids[i] for i in order], q.qrel, 10))
    return {name: {u: float(np.mean(v)) for u, v in users.items()} for name, users in per.items()}


def evaluate(root: Path, split: str = "dev", max_users: int | None = None, work_dir: Path | None = None,
             dense: bool = True) -> dict[str, Any]:
    """Train both rankers on the train users and compare them on the held-out users of `split` (see module docstring)."""
    if split not in ("dev", "final"):
        raise ValueError("evaluate on the held-out users: split 'dev' or 'final'")
    data = load_personal_set(root, max_users)
    with tempfile.TemporaryDirectory(prefix="shopmind-personal-") as tmp:
        svc = build_index(data, Path(work_dir or tmp), dense=dense)
        cands = Candidates(svc)
        train = data.of("train")
        personal, plain = train_rankers(cands, train)
        held = data.of(split)
        scores = score_users(cands, held, {"personalised": personal, "non_personalised": plain, "fused": None})
    users = sorted(scores["personalised"])
    pers = np.array([scores["personalised"][u] for u in users])
    base = np.array([scores["non_personalised"][u] for u in users])
    lo, hi = paired_bootstrap(pers - base)
    imp = personal.importance()
    total = sum(imp.values()) or 1.0
    return {
        "data": "MovieLens-100K (real ratings; genre queries at each user's median rating time)",
        "split": split,
        "personalised_ndcg": round(float(pers.mean()), 4),
        "non_personalised_ndcg": round(float(base.mean()), 4),
        "fused_ndcg": round(float(np.mean([scores["fused"][u] for u in users])), 4),
        "personalised_ndcg_gain": round(float((pers - base).mean()), 4),
        "personalised_ndcg_gain_ci": [round(lo, 4), round(hi, 4)],
        "users_better_worse": [int((pers > base).sum()), int((pers < base).sum())],
        "users_held_out": len(users),
        "queries_held_out": len(held),
        "train_users": len({q.user for q in train}),
        "train_queries": len(train),
        "dropped_from_personalised": personal.dropped,
        "user_feature_gain_share": round(sum(imp.get(f, 0.0) for f in USER_FEATURES) / total, 4),
    }

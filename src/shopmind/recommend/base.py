"""The recommender contract: one `Interactions` structure and one small base class, modelled on implicit.

Every model reads `Interactions` (user × item CSR, per-user sequences in time order, timestamps, event
weights) and answers batched `recommend(user_histories, k)` calls over *histories* (arrays of internal item
indexes), so known users, unknown users and "the freshest items the facade just saw" all take one path.
Internal indexes are ints; string ids live only in `Interactions.item_ids` / `user_ids`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

History = np.ndarray  # int array of internal item indexes, oldest first


@dataclass
class Interactions:
    """User × item interactions: CSR-style per-user event arrays in time order, plus id maps."""

    n_users: int
    n_items: int
    indptr: np.ndarray  # (n_users+1,) int64: events of user u are indptr[u]:indptr[u+1]
    items: np.ndarray  # (n_events,) int32 item index, time order within each user
    ts: np.ndarray  # (n_events,) float64 epoch seconds (or positions when the source has no time)
    weights: np.ndarray  # (n_events,) float32 event weight (view 1, cart 3, purchase 5 …)
    user_ids: list[str] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)
    sessions: np.ndarray | None = None  # (n_events,) int64 session/basket number, or None

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_sequences(
        cls,
        sequences: Sequence[np.ndarray],
        n_items: int,
        *,
        ts: Sequence[np.ndarray] | None = None,
        weights: Sequence[np.ndarray] | None = None,
        user_ids: list[str] | None = None,
        item_ids: list[str] | None = None,
    ) -> Interactions:
        """Build from per-user item-index arrays in time order (positions stand in for missing times)."""
        lens = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
        indptr = np.zeros(len(sequences) + 1, dtype=np.int64)
        np.cumsum(lens, out=indptr[1:])
        items = np.concatenate([np.asarray(s, dtype=np.int32) for s in sequences]) if len(sequences) else np.zeros(0, np.int32)
        if ts is None:
            t = np.arange(len(items), dtype=np.float64) - np.repeat(indptr[:-1], lens).astype(np.float64)
        else:
            t = np.concatenate([np.asarray(x, dtype=np.float64) for x in ts]) if len(ts) else np.zeros(0)
        w = (
            np.concatenate([np.asarray(x, dtype=np.float32) for x in weights])
            if weights is not None and len(weights)
            else np.ones(len(items), dtype=np.float32)
        )
        return cls(
            n_users=len(sequences),
            n_items=int(n_items),
            indptr=indptr,
            items=items,
            ts=t,
            weights=w,
            user_ids=list(user_ids) if user_ids is not None else [str(i) for i in range(len(sequences))],
            item_ids=list(item_ids) if item_ids is not None else [str(i) for i in range(int(n_items))],
        )

    @classmethod
    def from_seqrec_file(cls, path: str | Path) -> Interactions:
        """Read `user item1 item2 …` lines (S3-Rec/ICLRec format, ids from 1); item index = id - 1."""
        seqs, users = read_seqrec(path)
        n_items = int(max((s.max() for s in seqs if len(s)), default=0)) + 1
        return cls.from_sequences(seqs, n_items, user_ids=users, item_ids=[str(i + 1) for i in range(n_items)])

    @classmethod
    def from_events(
        cls,
        events: Any,
        *,
        item_ids: Sequence[str] | None = None,
        event_weights: dict[str, float] | None = None,
        types: Sequence[str] | None = None,
    ) -> Interactions:
        """Build from the events table of the contract (pyarrow; sorted by ts); unknown items are dropped."""
        import pyarrow.compute as pc

        weights_map = event_weights or DEFAULT_EVENT_WEIGHTS
        keep_types = list(types) if types is not None else list(weights_map)
        tbl = events.filter(pc.and_(pc.is_valid(events["item_id"]), pc.is_in(events["type"], value_set=_pa_array(keep_types))))
        etype = np.asarray(tbl["type"].to_numpy(zero_copy_only=False), dtype=object)
        uid = np.asarray(tbl["user_id"].to_numpy(zero_copy_only=False), dtype=object)
        iid = np.asarray(tbl["item_id"].to_numpy(zero_copy_only=False), dtype=object)
        ts = tbl["ts"].to_numpy(zero_copy_only=False).astype(np.float64)
        sess_col = tbl["session_id"].to_numpy(zero_copy_only=False) if "session_id" in tbl.column_names else None
        if item_ids is None:
            item_ids = sorted(set(iid.tolist()))
        item_index = {s: i for i, s in enumerate(item_ids)}
        ii = np.fromiter((item_index.get(s, -1) for s in iid), dtype=np.int64, count=len(iid))
        ok = ii >= 0
        uniq_users, uu = np.unique(uid[ok].astype(str), return_inverse=True)
        w = np.array([weights_map.get(t, 1.0) for t in etype[ok]], dtype=np.float32)
        order = np.lexsort((ts[ok], uu))
        uu_sorted = uu[order]
        indptr = np.zeros(len(uniq_users) + 1, dtype=np.int64)
        np.cumsum(np.bincount(uu_sorted, minlength=len(uniq_users)), out=indptr[1:])
        sessions = None
        if sess_col is not None:
            s_raw = np.asarray(sess_col, dtype=object)[ok][order]
            key = np.array([f"{u}\x1f{s}" if s is not None else f"{u}\x1f" for u, s in zip(uu_sorted, s_raw)], dtype=object)
            _, sessions = np.unique(key.astype(str), return_inverse=True)
            sessions = sessions.astype(np.int64)
        return cls(
            n_users=len(uniq_users),
            n_items=len(item_ids),
            indptr=indptr,
            items=ii[ok][order].astype(np.int32),
            ts=ts[ok][order],
            weights=w[order],
            user_ids=[str(u) for u in uniq_users],
            item_ids=list(item_ids),
            sessions=sessions,
        )

    # ---------------------------------------------------------------- views
    @property
    def n_events(self) -> int:
        """Number of (user, item) events."""
        return int(len(self.items))

    def user_of_event(self) -> np.ndarray:
        """User index of every event (repeat of user index by history length)."""
        return np.repeat(np.arange(self.n_users, dtype=np.int64), np.diff(self.indptr))

    def sequence(self, u: int) -> np.ndarray:
        """Item indexes of user u in time order."""
        return self.items[self.indptr[u] : self.indptr[u + 1]]

    def sequences(self) -> list[np.ndarray]:
        """All users' item sequences (views, no copies)."""
        return np.split(self.items, self.indptr[1:-1]) if self.n_users else []

    def csr(self, *, binary: bool = True, weighted: bool = False) -> sp.csr_matrix:
        """User × item matrix; duplicates summed, then clipped to 1 when binary."""
        data = self.weights.astype(np.float32) if weighted else np.ones(self.n_events, dtype=np.float32)
        m = sp.csr_matrix((data, (self.user_of_event(), self.items)), shape=(self.n_users, self.n_items))
        m.sum_duplicates()
        if binary:
            m.data[:] = 1.0
        return m

    def item_counts(self) -> np.ndarray:
        """Number of distinct users per item."""
        return np.asarray(self.csr().sum(axis=0)).ravel()

    def truncate(self, drop_last: int) -> Interactions:
        """The same users with their last `drop_last` events removed (leave-one-out training views)."""
        lens = np.maximum(np.diff(self.indptr) - drop_last, 0)
        keep = np.concatenate([np.arange(s, s + n) for s, n in zip(self.indptr[:-1], lens)]) if self.n_users else np.zeros(0, np.int64)
        keep = keep.astype(np.int64)
        indptr = np.zeros(self.n_users + 1, dtype=np.int64)
        np.cumsum(lens, out=indptr[1:])
        return Interactions(
            n_users=self.n_users,
            n_items=self.n_items,
            indptr=indptr,
            items=self.items[keep],
            ts=self.ts[keep],
            weights=self.weights[keep],
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            sessions=None if self.sessions is None else self.sessions[keep],
        )


DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    "view": 1.0,
    "click": 1.0,
    "favorite": 2.0,
    "add_to_cart": 3.0,
    "purchase": 5.0,
}


def _pa_array(values: list[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, type=pa.string())


def read_seqrec(path: str | Path) -> tuple[list[np.ndarray], list[str]]:
    """Parse a seqrec file into 0-based item-index arrays and user ids."""
    seqs: list[np.ndarray] = []
    users: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 2:
                continue
            users.append(parts[0])
            seqs.append(np.asarray(parts[1:], dtype=np.int64).astype(np.int32) - 1)
    return seqs, users


def topk_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k column indexes and values per row, best first (argpartition, then a sort of k)."""
    k = min(k, scores.shape[1])
    if k <= 0:
        return np.zeros((scores.shape[0], 0), np.int64), np.zeros((scores.shape[0], 0), scores.dtype)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(vals, order, axis=1)


def histories_csr(histories: Sequence[np.ndarray], n_items: int, weights: Sequence[np.ndarray] | None = None) -> sp.csr_matrix:
    """Stack histories into a (len(histories) × n_items) CSR with summed weights (1 each by default)."""
    lens = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    indptr = np.zeros(len(histories) + 1, dtype=np.int64)
    np.cumsum(lens, out=indptr[1:])
    idx = np.concatenate([np.asarray(h, dtype=np.int64) for h in histories]) if lens.sum() else np.zeros(0, np.int64)
    data = (
        np.concatenate([np.asarray(w, dtype=np.float32) for w in weights])
        if weights is not None and lens.sum()
        else np.ones(len(idx), dtype=np.float32)
    )
    m = sp.csr_matrix((data, idx, indptr), shape=(len(histories), n_items))
    m.sum_duplicates()
    return m


def dot_t(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b.T; for a few rows (request path) without BLAS threads, which stall badly on a busy machine."""
    if a.shape[0] <= 16:
        return np.einsum("ik,jk->ij", a, b, optimize=False)
    return a @ b.T


def recency_weights(histories: Sequence[np.ndarray], decay: float) -> list[np.ndarray]:
    """Per-history weights decay**(age) with age 0 for the newest item (decay=1 → uniform)."""
    return [np.power(decay, np.arange(len(h) - 1, -1, -1, dtype=np.float32)) for h in histories]


# -------------------------------------------------------------------------- registry
REGISTRY: dict[str, type[Recommender]] = {}


def register(name: str) -> Callable[[type[Recommender]], type[Recommender]]:
    """Class decorator: make a model constructible by name (`create(name, **params)`)."""

    def wrap(cls: type[Recommender]) -> type[Recommender]:
        cls.name = name
        REGISTRY[name] = cls
        return cls

    return wrap


def create(name: str, **params: Any) -> Recommender:
    """Instantiate a registered model by name."""
    return _lookup(name)(**params)


def available() -> list[str]:
    """Names of all registered models (lazy ones included)."""
    from shopmind.recommend import models as _models

    return sorted(set(REGISTRY) | set(_models.LAZY))


class Recommender:
    """Base class: subclasses implement `fit` and `score` (dense scores for a batch of histories).

    `recommend`, `similar_items`, `save` and `load` come for free; subclasses list their learned arrays in
    `_arrays()` / `_set_arrays()` and their constructor parameters in `params`.
    """

    name: ClassVar[str] = "base"
    batch_size: ClassVar[int] = 512
    query_params: ClassVar[frozenset[str]] = frozenset()
    """Parameters used only at scoring time: tuning changes them without refitting."""

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = params
        self.n_items: int = 0

    # ---------------------------------------------------------------- to implement
    def fit(self, interactions: Interactions) -> Self:
        """Learn from interactions; returns self."""
        raise NotImplementedError

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Dense (len(histories) × n_items) float32 scores; higher is better."""
        raise NotImplementedError

    def item_vectors(self) -> np.ndarray | sp.spmatrix | None:
        """Item-item similarity source for `similar_items`: item embeddings (dense) or a similarity matrix."""
        return None

    def _arrays(self) -> dict[str, np.ndarray]:
        return {}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        pass

    # ---------------------------------------------------------------- provided
    def recommend(
        self,
        user_histories: Sequence[np.ndarray],
        k: int = 10,
        filter_items: np.ndarray | None = None,
        exclude_seen: bool = True,
        items: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item indexes and scores per history; `filter_items` removed, `items` (whitelist) kept only."""
        n = len(user_histories)
        out_ids = np.full((n, k), -1, dtype=np.int64)
        out_scores = np.full((n, k), -np.inf, dtype=np.float32)
        for start in range(0, n, self.batch_size):
            batch = user_histories[start : start + self.batch_size]
            s = np.array(self.score(batch), dtype=np.float32, copy=True)
            mask_scores(s, batch, filter_items, exclude_seen, items)
            ids, vals = topk_rows(s, k)
            ok = np.isfinite(vals)
            ids = np.where(ok, ids, -1)
            out_ids[start : start + len(batch), : ids.shape[1]] = ids
            out_scores[start : start + len(batch), : vals.shape[1]] = vals
        return out_ids, out_scores

    def similar_items(self, item_ids: np.ndarray | Sequence[int], k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Top-k most similar items per query item (itself excluded), from item vectors or, failing that, scores."""
        item_ids = np.asarray(item_ids, dtype=np.int64)
        vec = self.item_vectors()
        if vec is None:
            s = np.array(self.score([np.array([i]) for i in item_ids]), dtype=np.float32, copy=True)
        elif sp.issparse(vec):
            s = np.asarray(vec[item_ids].todense(), dtype=np.float32)
        else:
            v = np.asarray(vec, dtype=np.float32)
            norms = np.linalg.norm(v, axis=1) + 1e-12
            s = (v[item_ids] @ v.T) / norms[item_ids, None] / norms[None, :]
        s[np.arange(len(item_ids)), item_ids] = -np.inf
        ids, vals = topk_rows(s, k)
        return np.where(np.isfinite(vals), ids, -1), vals

    def save(self, path: str | Path) -> None:
        """Write params.json + one .npy per learned array into directory `path` (no pickles)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "params.json").write_text(
            json.dumps({"name": self.name, "n_items": self.n_items, "params": self.params}, indent=1, default=_json_default)
        )
        for key, arr in self._arrays().items():
            if sp.issparse(arr):
                arr = arr.tocsr()
                np.save(path / f"{key}.data.npy", arr.data)
                np.save(path / f"{key}.indices.npy", arr.indices)
                np.save(path / f"{key}.indptr.npy", arr.indptr)
                np.save(path / f"{key}.shape.npy", np.asarray(arr.shape, dtype=np.int64))
            else:
                np.save(path / f"{key}.npy", np.asarray(arr), allow_pickle=False)

    @classmethod
    def load(cls, path: str | Path, **overrides: Any) -> Recommender:
        """Read a model written by `save` (the class is taken from params.json when called on the base)."""
        path = Path(path)
        meta = json.loads((path / "params.json").read_text())
        klass = cls if cls is not Recommender and cls.name == meta["name"] else _lookup(meta["name"])
        model = klass(**{**meta["params"], **overrides})
        model.n_items = int(meta["n_items"])
        arrays: dict[str, Any] = {}
        for f in path.glob("*.npy"):
            stem = f.name[: -len(".npy")]
            if stem.endswith(".data"):
                key = stem[: -len(".data")]
                arrays[key] = sp.csr_matrix(
                    (
                        np.load(path / f"{key}.data.npy"),
                        np.load(path / f"{key}.indices.npy"),
                        np.load(path / f"{key}.indptr.npy"),
                    ),
                    shape=tuple(np.load(path / f"{key}.shape.npy")),
                )
            elif not stem.endswith((".indices", ".indptr", ".shape")):
                arrays[stem] = np.load(f, allow_pickle=False)
        model._set_arrays(arrays)
        model._after_load(path)
        return model

    def _after_load(self, path: Path) -> None:
        """Hook for models with extra files (torch state_dict)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.params.items())})"


def _lookup(name: str) -> type[Recommender]:
    """Registered class for `name`, importing its module first when it is a lazy (optional-dependency) one."""
    import importlib

    from shopmind.recommend import models as _models

    if name not in REGISTRY and name in _models.LAZY:
        try:
            importlib.import_module(_models.LAZY[name])
        except ImportError as exc:
            raise ImportError(f"model {name!r} needs torch: pip install 'shopmind[seq]'") from exc
    if name not in REGISTRY:
        raise KeyError(f"unknown recommender {name!r}; known: {available()}")
    return REGISTRY[name]


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def mask_scores(
    scores: np.ndarray,
    histories: Sequence[np.ndarray],
    filter_items: np.ndarray | None,
    exclude_seen: bool,
    items: np.ndarray | None = None,
) -> None:
    """In place: -inf for seen items (per row), filtered items (all rows) and items outside the whitelist."""
    if exclude_seen:
        lens = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
        if lens.sum():
            rows = np.repeat(np.arange(len(histories)), lens)
            cols = np.concatenate([np.asarray(h, dtype=np.int64) for h in histories])
            scores[rows, cols] = -np.inf
    if filter_items is not None and len(filter_items):
        scores[:, np.asarray(filter_items, dtype=np.int64)] = -np.inf
    if items is not None:
        keep = np.zeros(scores.shape[1], dtype=bool)
        keep[np.asarray(items, dtype=np.int64)] = True
        scores[:, ~keep] = -np.inf

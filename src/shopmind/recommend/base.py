"""The recommender contract: one small base class and a registry of models by name, modelled on implicit.

Every model reads `Interactions` (`recommend.interactions`: user × item CSR, per-user sequences in time order,
timestamps, event weights) and answers batched `recommend(user_histories, k)` calls over *histories* (arrays of
internal item indexes), so known users, unknown users and "the freshest items the facade just saw" all take one
path. `Interactions`, `read_seqrec` and `DEFAULT_EVENT_WEIGHTS` are re-exported here (their old import path).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from shopmind.recommend.interactions import DEFAULT_EVENT_WEIGHTS, History, Interactions, read_seqrec

__all__ = [
    "DEFAULT_EVENT_WEIGHTS",
    "History",
    "Interactions",
    "Recommender",
    "available",
    "create",
    "dot_t",
    "histories_csr",
    "mask_scores",
    "read_seqrec",
    "recency_weights",
    "register",
    "topk_rows",
]


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

    def _arrays(self) -> dict[str, Any]:
        return {}

    def _set_arrays(self, arrays: dict[str, Any]) -> None:
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

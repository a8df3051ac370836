"""The interactions every recommender reads: user × item events in time order, with id maps and weights.

`Interactions` holds CSR-style per-user event arrays (items, timestamps, event weights, sessions) built from the
events table, from per-user sequences, or from a seqrec file; models take views of it (CSR matrix, sequences,
leave-last-out truncation). Internal indexes are ints; string ids live only in `item_ids` / `user_ids`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopmind.event_weights import POSITIVE_EVENT_WEIGHTS

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
            key = np.array([f"{u}\x1f{s}" if s is not None else f"{u}\x1f" for u, s in zip(uu_sorted, s_raw, strict=True)], dtype=object)
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
        return len(self.items)

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
        keep = np.concatenate([np.arange(s, s + n) for s, n in zip(self.indptr[:-1], lens, strict=True)]) if self.n_users else np.zeros(0, np.int64)
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


DEFAULT_EVENT_WEIGHTS: dict[str, float] = dict(POSITIVE_EVENT_WEIGHTS)  # shopmind.event_weights: one table for every part


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


__all__ = ["DEFAULT_EVENT_WEIGHTS", "History", "Interactions", "read_seqrec"]

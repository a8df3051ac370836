"""The recommender's per-user table: ids, histories in time order and purchase flags, in one file (`users.npz`).

One file so that a deletion rewrites it atomically (temporary file, then rename) and a reader never pairs a
new id list with old histories. Artifacts written before this layout (`catalog.json` "user_ids" plus
`user_indptr.npy`, `user_items.npy`, `user_purchased.npy`) are read too, and converted when scrubbed.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shopmind.fileio import atomic_write

log = logging.getLogger(__name__)

USERS_FILE = "users.npz"
LEGACY_ARRAYS = ("user_indptr", "user_items", "user_purchased")


@dataclass
class UserTable:
    """Per-user rows of a recommend artifact: user u's events are items[indptr[u]:indptr[u+1]]."""

    ids: list[str]
    indptr: np.ndarray  # (n_users + 1,) int64
    items: np.ndarray  # (n_events,) int32 item index, time order within a user
    purchased: np.ndarray  # (n_events,) bool

    def without(self, remove: Iterable[str]) -> tuple[UserTable, int, int]:
        """The table minus the given users; also how many users and events went."""
        gone = set(remove)
        drop = np.array([u in gone for u in self.ids], dtype=bool)
        if not drop.any():
            return self, 0, 0
        lens = np.diff(self.indptr)
        keep_events = np.repeat(~drop, lens)
        indptr = np.zeros(int((~drop).sum()) + 1, dtype=np.int64)
        np.cumsum(lens[~drop], out=indptr[1:])
        table = UserTable([u for u, d in zip(self.ids, drop, strict=True) if not d], indptr, self.items[keep_events], self.purchased[keep_events])
        return table, int(drop.sum()), int(len(keep_events) - keep_events.sum())


def write(out_dir: Path, table: UserTable) -> None:
    """Write the table as `users.npz` atomically (no pickles: ids are a fixed-width unicode array)."""
    buf = io.BytesIO()
    np.savez(buf, ids=np.array(table.ids, dtype=np.str_), indptr=np.asarray(table.indptr, np.int64),
             items=np.asarray(table.items, np.int32), purchased=np.asarray(table.purchased, bool))
    atomic_write(Path(out_dir) / USERS_FILE, buf.getvalue())


def read(out_dir: Path) -> UserTable:
    """Read the table from `users.npz`, or from the older separate files."""
    out_dir = Path(out_dir)
    if (out_dir / USERS_FILE).is_file():
        with np.load(out_dir / USERS_FILE, allow_pickle=False) as z:
            return UserTable(z["ids"].tolist(), z["indptr"], z["items"], z["purchased"])
    cat = json.loads((out_dir / "catalog.json").read_text())
    arr = [np.load(out_dir / f"{name}.npy", allow_pickle=False) for name in LEGACY_ARRAYS]
    return UserTable(list(cat.get("user_ids", [])), *arr)


def scrub(out_dir: Path, remove: Iterable[str]) -> dict[str, int]:
    """Remove users from one artifact version's files in place; return how many users and events went."""
    out_dir = Path(out_dir)
    if not (out_dir / USERS_FILE).is_file() and not (out_dir / "user_indptr.npy").is_file():
        return {"users": 0, "events": 0}  # a build still writing this version: it scrubs itself before publishing
    table, n_users, n_events = read(out_dir).without(remove)
    legacy = (out_dir / "user_indptr.npy").is_file()
    if n_users or legacy:
        write(out_dir, table)  # readers prefer users.npz, so from here on they see the scrubbed table
    if legacy:  # convert: the id list leaves catalog.json, the separate arrays go
        cat = json.loads((out_dir / "catalog.json").read_text())
        cat.pop("user_ids", None)
        atomic_write(out_dir / "catalog.json", json.dumps(cat).encode())
        for name in LEGACY_ARRAYS:
            (out_dir / f"{name}.npy").unlink(missing_ok=True)
        log.info("converted %s to %s", out_dir, USERS_FILE)
    return {"users": n_users, "events": n_events}

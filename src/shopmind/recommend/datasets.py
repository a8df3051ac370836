"""Turn the public sets in shared/data into ShopMind records (products + events table) for tests and benches.

ML-100k: movies become products (title, genres as category, release year in attributes); each rating becomes
an event at its real timestamp — rating 5 → "purchase", 4 → "add_to_cart", lower → "view" — with the
user's zip-code region as context location. Seqrec files have no text or time: products get their id as
title and events their sequence position as time (for latency/scale benches only).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from shopmind.domain import Product

EVENT_SCHEMA = pa.schema([
    ("id", pa.string()), ("type", pa.string()), ("user_id", pa.string()), ("session_id", pa.string()),
    ("item_id", pa.string()), ("query", pa.string()), ("ts", pa.float64()), ("quantity", pa.int32()),
    ("price", pa.float64()), ("context", pa.string()),
])


def events_table(types: list[str], users: list[str], items: list[str], ts: np.ndarray, contexts: list[str] | None = None,
                 sessions: list[str | None] | None = None) -> pa.Table:
    """Events table in the contract's schema, sorted by ts."""
    n = len(types)
    order = np.argsort(np.asarray(ts, dtype=np.float64), kind="stable")
    def pick(xs: list) -> list:
        return [xs[i] for i in order]
    return pa.table({
        "id": [f"e{i}" for i in order], "type": pick(types), "user_id": pick(users),
        "session_id": pick(sessions) if sessions is not None else [None] * n, "item_id": pick(items),
        "query": [None] * n, "ts": np.asarray(ts, dtype=np.float64)[order], "quantity": np.ones(n, dtype=np.int32),
        "price": [None] * n, "context": pick(contexts) if contexts is not None else ["{}"] * n,
    }, schema=EVENT_SCHEMA)


def ml100k(root: Path, max_users: int | None = None) -> tuple[list[Product], pa.Table]:
    """Products from ml-100k.item and events from ml-100k.inter (see module docstring)."""
    import pyarrow.csv as pacsv

    opts = pacsv.ParseOptions(delimiter="\t", quote_char=False)
    conv = pacsv.ConvertOptions(column_types={"item_id:token": pa.string(), "user_id:token": pa.string(),
                                              "release_year:token": pa.string(), "zip_code:token": pa.string()})
    items = pacsv.read_csv(root / "ml-100k.item", parse_options=opts, convert_options=conv).to_pylist()
    products = []
    for r in items:
        genres = (r.get("class:token_seq") or "").split()
        products.append(Product(id=r["item_id:token"], title=r["movie_title:token_seq"] or r["item_id:token"],
                                category=genres or ["unknown"], attributes={"year": r.get("release_year:token") or ""}))
    users = pacsv.read_csv(root / "ml-100k.user", parse_options=opts, convert_options=conv).to_pylist()
    region = {u["user_id:token"]: f"zip{str(u.get('zip_code:token') or '?')[:1]}" for u in users}
    inter = pacsv.read_csv(root / "ml-100k.inter", parse_options=opts, convert_options=conv)
    uid = inter["user_id:token"].to_pylist()
    iid = inter["item_id:token"].to_pylist()
    rating = inter["rating:float"].to_numpy()
    ts = inter["timestamp:float"].to_numpy().astype(np.float64)
    if max_users is not None:
        keep_users = set(sorted(set(uid), key=int)[:max_users])
        keep = np.array([u in keep_users for u in uid])
        uid = [u for u, k in zip(uid, keep, strict=True) if k]
        iid = [i for i, k in zip(iid, keep, strict=True) if k]
        rating, ts = rating[keep], ts[keep]
    types = ["purchase" if r >= 5 else "add_to_cart" if r >= 4 else "view" for r in rating]
    ctx = [json.dumps({"location": region.get(u, "zip?")}) for u in uid]
    return products, events_table(types, uid, iid, ts, ctx)


def seqrec(path: Path, *, align: str = "start", max_users: int | None = None) -> tuple[list[Product], pa.Table]:
    """Products (id as title) and 'purchase' events (position as time, one day apart) from a seqrec file.

    The set has no time: `align="start"` starts every user on day 0; `"end"` ends every user on the same day, so a
    global time cut holds out each user's last items (the leave-last-out protocol the set is published with)."""
    from shopmind.recommend.base import read_seqrec

    seqs, users = read_seqrec(path)
    if max_users is not None:
        seqs, users = seqs[:max_users], users[:max_users]
    n_items = int(max(s.max() for s in seqs)) + 1
    present = np.unique(np.concatenate(seqs)) if max_users is not None else np.arange(n_items)  # a slice: its own items
    products = [Product(id=str(i + 1), title=f"item {i + 1}", category=["all"]) for i in present.tolist()]
    lens = np.array([len(s) for s in seqs])
    items = np.concatenate(seqs) + 1
    uid = np.repeat(np.array(users, dtype=object), lens)
    end = align == "end"  # then every user ends on one day in 2020 (epoch seconds stay positive)
    ts = np.concatenate([np.arange(n, dtype=np.float64) - (n if end else 0) for n in lens]) * 86400.0 + (1.6e9 if end else 0.0)
    n = len(items)
    return products, events_table(["purchase"] * n, uid.tolist(), [str(i) for i in items.tolist()], ts)

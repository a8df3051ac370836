"""The search ranker's personal columns (ranking.features.USER_FEATURES): a user's earlier items, summarised once per
request as shares per leaf category, brand, price band and attribute value plus a taste vector, then looked up for
every candidate at once.

One definition for training and serving: training passes the items the user touched before the query's time (no
leakage), serving the online history (`OnlineState.history`, passed by the engine); a user known only from the
build-time preferences (`user_prefs.json`) gets their category and brand shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopmind.search.catalog import ProductTable

HISTORY_ITEMS = 50
"""Earlier items a user is summarised from (the online state keeps as many: profiles.recent_items)."""
HALF_LIFE = 5.0
"""Items after which an item's weight in the user vector halves (the newest weighs 1)."""


@dataclass(frozen=True)
class UserContext:
    """What the personal columns need of one user: their earlier items' rows (oldest first) and taste vector, or
    build-time preference shares when no history was given."""

    rows: np.ndarray
    vector: np.ndarray | None = None
    category_prefs: Mapping[str, float] | None = None
    brand_prefs: Mapping[str, float] | None = None


def history_rows(table: ProductTable, items: Sequence[str], n: int = HISTORY_ITEMS) -> np.ndarray:
    """Table rows of the last n of a user's items that the catalog holds, oldest first."""
    rows = [table.row_of[i] for i in items if i in table.row_of]
    return np.asarray(rows[-n:], np.int64)


def vectors_of(index: Any, rows: np.ndarray) -> np.ndarray | None:
    """Embeddings of table rows from a vector index's main part and its delta (upserts since the build)."""
    main = getattr(index, "vectors", None)
    if main is None:
        return None
    delta = getattr(index, "delta", np.zeros((0, main.shape[1]), np.float32))
    n_main = len(main)
    out = np.zeros((len(rows), main.shape[1]), np.float32)
    inside = rows < n_main
    out[inside] = main[rows[inside]]
    late = ~inside & (rows - n_main < len(delta))
    out[late] = delta[rows[late] - n_main]
    return out


def user_vector(index: Any, rows: np.ndarray, half_life: float = HALF_LIFE) -> np.ndarray | None:
    """The user's taste as one unit vector: recency-weighted mean embedding of their items (rows oldest first)."""
    if index is None or not len(rows):
        return None
    m = vectors_of(index, rows)
    if m is None:
        return None
    weights = 0.5 ** (np.arange(len(rows))[::-1] / half_life)
    vec = (m * weights[:, None].astype(np.float32)).sum(axis=0)
    norm = float(np.linalg.norm(vec))
    return (vec / norm).astype(np.float32) if norm else None


def user_context(parts: Any, items: Sequence[str] | None, user_id: str | None = None) -> UserContext | None:
    """The context of a user from their earlier items (else from the built preferences of user_id); None for strangers."""
    if items:
        rows = history_rows(parts.table, items)
        if len(rows):
            return UserContext(rows, user_vector(parts.vectors, rows))
    if user_id and (user_id in parts.user_cat or user_id in parts.user_brand):
        return UserContext(np.zeros(0, np.int64), None, parts.user_cat.get(user_id, {}), parts.user_brand.get(user_id, {}))
    return None


def leaf_codes(table: ProductTable, rows: np.ndarray) -> np.ndarray:
    """Code of each row's deepest category (-1 when it has none)."""
    cat = table.cat[rows]
    depth = (cat >= 0).sum(axis=1) - 1
    return np.where(depth >= 0, cat[np.arange(len(rows)), np.maximum(depth, 0)], -1)


def price_bands(table: ProductTable, rows: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Index of each row's price band between the catalog's quantile edges (-1 without a price or edges)."""
    price = table.price[rows]
    if not len(edges):
        return np.full(len(rows), -1, np.int64)
    band = np.searchsorted(np.asarray(edges, np.float64), np.nan_to_num(price), side="right")
    return np.where(np.isnan(price), -1, band)


def _share_lookup(hist: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """For each candidate code, the share of history codes equal to it (codes < 0 match nothing)."""
    if not len(hist):
        return np.zeros(len(cand), np.float32)
    size = max(int(hist.max(initial=0)), int(cand.max(initial=0)), 0) + 1
    share = np.bincount(hist[hist >= 0], minlength=size) / len(hist)
    return np.where(cand >= 0, share[np.maximum(cand, 0)], 0.0).astype(np.float32)


def _prefs_lookup(prefs: Mapping[str, float], vocab: Any, cand: np.ndarray) -> np.ndarray:
    """Build-time preference share of each candidate code (by name)."""
    share = np.zeros(len(vocab.values) + 1, np.float32)
    for name, v in prefs.items():
        code = vocab.code.get(name)
        if code is not None:
            share[code] = v
    return np.where(cand >= 0, share[cand], 0.0).astype(np.float32)


def attribute_affinity(table: ProductTable, hist: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Mean over each row's attribute values of the share of history rows carrying that value."""
    total = np.zeros(len(rows), np.float64)
    count = np.zeros(len(rows), np.float64)
    if not len(hist):
        return total.astype(np.float32)
    for m in table.attrs.values():
        share = np.asarray(m[hist].sum(axis=0)).ravel() / len(hist)
        sub = m[rows]
        total += sub @ share
        count += np.diff(sub.indptr)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0).astype(np.float32)


def user_columns(parts: Any, rows: np.ndarray, uctx: UserContext | None) -> dict[str, np.ndarray]:
    """The USER_FEATURES columns for candidate rows (all 0 without a user context)."""
    n = len(rows)
    zeros = np.zeros(n, np.float32)
    cols = dict.fromkeys(("user_category_affinity", "user_brand_affinity", "user_price_affinity", "user_attribute_affinity",
                          "user_vector_cos", "user_history"), zeros)
    if uctx is None or not n:
        return cols
    t = parts.table
    leaf, brand = leaf_codes(t, rows), t.brand[rows].astype(np.int64)
    if not len(uctx.rows):  # only build-time preferences are known
        cols["user_category_affinity"] = _prefs_lookup(uctx.category_prefs or {}, t.cats, leaf)
        cols["user_brand_affinity"] = _prefs_lookup(uctx.brand_prefs or {}, t.brands, brand)
        return cols
    h = uctx.rows
    cols["user_category_affinity"] = _share_lookup(leaf_codes(t, h), leaf)
    cols["user_brand_affinity"] = _share_lookup(t.brand[h].astype(np.int64), brand)
    cols["user_price_affinity"] = _share_lookup(price_bands(t, h, parts.price_edges), price_bands(t, rows, parts.price_edges))
    cols["user_attribute_affinity"] = attribute_affinity(t, h, rows)
    if uctx.vector is not None:
        vecs = vectors_of(parts.vectors, np.asarray(rows, np.int64))
        if vecs is not None:
            cols["user_vector_cos"] = (vecs @ uctx.vector).astype(np.float32)
    cols["user_history"] = np.full(n, np.log1p(len(h)), np.float32)
    return cols

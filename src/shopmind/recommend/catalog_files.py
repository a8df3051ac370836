"""The catalog side of a recommend artifact: per-item arrays, context-segment popularity and `catalog.json`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from shopmind.domain import Product
from shopmind.recommend import users
from shopmind.recommend.base import Interactions, topk_rows
from shopmind.recommend.config import RecommendConfig


def hours_bucket(hour: int) -> str:
    """The part of the day an hour falls in (context segments: hour:night … hour:evening)."""
    return ("night", "morning", "afternoon", "evening")[hour // 6]


def write_state(out_dir: Path, products: Sequence[Product], inter: Interactions, events: Any, config: RecommendConfig) -> None:
    """Catalog arrays, user histories and context-segment popularity as .npy/JSON."""
    import pyarrow.compute as pc

    lvl = config.category_level
    cats = [(p.category[lvl] if p.category and -len(p.category) <= lvl < len(p.category) else "") for p in products]
    cat_names = sorted(set(cats))
    cat_index = {c: i for i, c in enumerate(cat_names)}
    promo = set(config.promotion_items)
    now = datetime.now(UTC)
    created = np.array([p.created_at.timestamp() if p.created_at else np.nan for p in products], dtype=np.float64)
    arrays = {
        "item_category": np.array([cat_index[c] for c in cats], dtype=np.int32),
        "in_stock": np.array([p.available for p in products], dtype=bool),
        "promotion": np.array([bool(p.attributes.get(config.promotion_attribute)) or p.id in promo for p in products], dtype=bool),
        "created": created,
    }
    users.write(out_dir, users.UserTable(inter.user_ids, inter.indptr, inter.items,
                                         (inter.weights >= config.event_weights.get("purchase", 5.0)).astype(bool)))
    # context-aware popularity: device, location and hour-of-day segments (from event context JSON)
    seg_scores: dict[str, np.ndarray] = {}
    if inter.n_events and "context" in events.column_names:
        tbl = events.filter(pc.is_valid(events["item_id"]))
        idx = {s: i for i, s in enumerate(inter.item_ids)}
        items = np.array([idx.get(s, -1) for s in tbl["item_id"].to_pylist()], dtype=np.int64)
        w = np.array([config.event_weights.get(t, 0.0) for t in tbl["type"].to_pylist()], dtype=np.float64)
        ctx = [json.loads(c) if c else {} for c in tbl["context"].to_pylist()]
        hours = (np.asarray(tbl["ts"].to_numpy(), dtype=np.float64) // 3600 % 24).astype(int)
        keys: dict[str, list[int]] = {}
        for r, (c, h) in enumerate(zip(ctx, hours, strict=True)):  # build time only
            for k in (f"device:{c.get('device')}" if c.get("device") else None,
                      f"location:{c.get('location')}" if c.get("location") else None, f"hour:{hours_bucket(h)}"):
                if k:
                    keys.setdefault(k, []).append(r)
        ok = items >= 0
        for k, rows in keys.items():
            sel = np.asarray(rows)
            sel = sel[ok[sel]]
            if len(sel) >= 5:
                seg_scores[k] = np.bincount(items[sel], weights=w[sel], minlength=inter.n_items)
    seg_names = sorted(seg_scores)
    if seg_names:
        mat = np.stack([seg_scores[k] for k in seg_names]).astype(np.float32)
        top, _ = topk_rows(mat, min(config.context_top, inter.n_items))
        arrays["segment_top"] = top
        arrays["segment_scores"] = np.take_along_axis(mat, top, axis=1)
    for k, v in arrays.items():
        np.save(out_dir / f"{k}.npy", v, allow_pickle=False)
    (out_dir / "catalog.json").write_text(json.dumps({
        "item_ids": inter.item_ids, "categories": cat_names, "segments": seg_names,
        "titles": {p.id: p.title for p in products}, "built_at": now.timestamp(),
    }))

"""Product reviews in the shop's SQL store (schema v9 `reviews`): upsert by id, read per product, delete with their author."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select

from shopmind.domain import Review
from shopmind.store.schema import reviews
from shopmind.store.upsert import upsert_with

_COLUMNS = ("id", "product_id", "user_id", "rating", "title", "text", "language")


def _row(r: Review, now: float) -> dict[str, Any]:
    return {**{c: getattr(r, c) for c in _COLUMNS}, "ts": r.time.timestamp(), "updated_at": now}


def _review(row: Any) -> Review:
    return Review(id=row.id, product_id=row.product_id, user_id=row.user_id, rating=row.rating, title=row.title, text=row.text,
                  language=row.language, time=datetime.fromtimestamp(row.ts, tz=UTC))


def upsert_reviews(store: Any, items: Sequence[Review], conn: Connection | None = None) -> int:
    """Insert or replace reviews by id (the last of a batch wins); returns how many distinct ids were written."""
    if not items:
        return 0
    now = time.time()
    rows = list({r.id: _row(r, now) for r in items}.values())
    return upsert_with(store.engine, conn, reviews, rows, ["id"])


def product_reviews(store: Any, product_id: str, *, limit: int = 20, offset: int = 0) -> list[Review]:
    """A product's reviews, newest first, paged."""
    q = select(reviews).where(reviews.c.product_id == product_id).order_by(reviews.c.ts.desc(), reviews.c.id).limit(limit).offset(offset)
    with store.engine.connect() as conn:
        return [_review(r) for r in conn.execute(q)]


def review_stats(store: Any, product_id: str) -> dict[str, Any]:
    """How many reviews a product has and their mean rating (None without ratings)."""
    q = select(func.count(), func.avg(reviews.c.rating)).where(reviews.c.product_id == product_id)
    with store.engine.connect() as conn:
        n, mean = conn.execute(q).one()
    return {"count": int(n or 0), "mean_rating": None if mean is None else round(float(mean), 3)}


def iter_reviews(store: Any, batch_size: int = 5000) -> Iterator[Review]:
    """Every stored review in (product, id) order, read in batches by keyset."""
    after = ("", "")
    while True:
        c = reviews.c
        q = select(reviews).where((c.product_id > after[0]) | ((c.product_id == after[0]) & (c.id > after[1])))
        with store.engine.connect() as conn:
            rows = conn.execute(q.order_by(c.product_id, c.id).limit(batch_size)).all()
        yield from (_review(r) for r in rows)
        if len(rows) < batch_size:
            return
        after = (rows[-1].product_id, rows[-1].id)


def delete_user_reviews(conn: Connection, user_id: str) -> int:
    """Remove every review a user wrote, inside the caller's transaction (part of the user's deletion)."""
    return int(conn.execute(delete(reviews).where(reviews.c.user_id == user_id)).rowcount or 0)


def review_count(store: Any) -> int:
    """How many reviews the shop holds."""
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(reviews)).scalar() or 0)

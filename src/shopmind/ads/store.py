"""Campaigns and the ad ledger in the shop's SQL store (SQLite or PostgreSQL, same SQLAlchemy Core code).

The ledger holds one row per ad event keyed by the source event id; inserts use `ON CONFLICT DO NOTHING
RETURNING`, so the caller learns exactly which rows are new and a replayed event is never recorded twice.
Every served ad is a row of `ad_impressions`; money moves only in `settle`, where a click is charged by
the one UPDATE that sets the row's `clicked_at` from NULL (at most once per served ad, across processes).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, select, update

from shopmind.ads.models import Campaign, CampaignSpec, CampaignStatus, CampaignUpdate
from shopmind.ads.settle import Claim, Settled, settle
from shopmind.errors import CampaignNotFound
from shopmind.store.schema import ad_campaigns, ad_impressions, ad_ledger
from shopmind.store.upsert import insert_ignore

LEDGER_KINDS = ("impression", "click", "conversion", "invalid_click")
_SERVED_COLUMNS = ("token_id", "campaign_id", "item_id", "placement", "user_id", "ip", "price", "served_at", "expires_at")


def day_of(ts: float) -> str:
    """UTC calendar day of an epoch second, as YYYY-MM-DD (the unit of daily budgets and reports)."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


class AdsStore:
    """Campaign CRUD, served impressions and the spend ledger over a SQLAlchemy engine (schema v5)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        self._sqlite_sync = 2
        if self._dialect == "sqlite":  # what the store set on its connections, restored after a fast commit
            with engine.connect() as conn:
                self._sqlite_sync = int(conn.exec_driver_sql("PRAGMA synchronous").scalar() or 2)
        mark = "?" if self._dialect == "sqlite" else "%s"
        self._served_sql = f"INSERT INTO {ad_impressions.name} ({', '.join(_SERVED_COLUMNS)}) VALUES ({', '.join([mark] * len(_SERVED_COLUMNS))})"
        self.version = 0  # bumped on every campaign write by this process (serving refreshes on change)

    # -- campaigns -----------------------------------------------------------------------------------
    def create(self, spec: CampaignSpec | dict[str, Any], campaign_id: str | None = None) -> Campaign:
        """Validate and store a new campaign; the id is generated unless given."""
        spec = spec if isinstance(spec, CampaignSpec) else CampaignSpec.model_validate(spec)
        now = datetime.now(UTC)
        c = Campaign.model_validate({**spec.model_dump(), "id": campaign_id or "c_" + uuid.uuid4().hex[:12], "created_at": now, "updated_at": now})
        with self.engine.begin() as conn:
            if conn.execute(select(ad_campaigns.c.id).where(ad_campaigns.c.id == c.id)).first():
                raise ValueError(f"campaign {c.id!r} already exists")
            conn.execute(ad_campaigns.insert().values(**self._row(c)))
        self.version += 1
        return c

    def get(self, campaign_id: str) -> Campaign:
        with self.engine.connect() as conn:
            doc = conn.execute(select(ad_campaigns.c.doc).where(ad_campaigns.c.id == campaign_id)).scalar()
        if doc is None:
            raise CampaignNotFound(campaign_id)
        return Campaign.model_validate_json(doc)

    # `list` names a method from here on in this class body: annotations below spell the builtin `builtins.list`.
    def list(self, advertiser: str | None = None, status: CampaignStatus | str | None = None) -> list[Campaign]:
        """Campaigns in id order, optionally of one advertiser and/or status."""
        q = select(ad_campaigns.c.doc).order_by(ad_campaigns.c.id)
        if advertiser:
            q = q.where(ad_campaigns.c.advertiser == advertiser)
        if status:
            q = q.where(ad_campaigns.c.status == str(status))
        with self.engine.connect() as conn:
            return [Campaign.model_validate_json(d) for (d,) in conn.execute(q)]

    def update(self, campaign_id: str, changes: CampaignUpdate | dict[str, Any]) -> Campaign:
        """Apply a partial update; the merged campaign is validated as a whole before it is stored."""
        changes = changes if isinstance(changes, CampaignUpdate) else CampaignUpdate.model_validate(changes)
        current = self.get(campaign_id)
        merged = {**current.model_dump(), **changes.model_dump(exclude_unset=True), "updated_at": datetime.now(UTC)}
        c = Campaign.model_validate(merged)
        with self.engine.begin() as conn:
            conn.execute(update(ad_campaigns).where(ad_campaigns.c.id == campaign_id).values(**self._row(c)))
        self.version += 1
        return c

    def delete(self, campaign_id: str) -> bool:
        """Delete a campaign (its ledger rows stay: spend history is the advertiser's invoice)."""
        with self.engine.begin() as conn:
            n = conn.execute(delete(ad_campaigns).where(ad_campaigns.c.id == campaign_id)).rowcount or 0
        self.version += 1
        return n > 0

    @staticmethod
    def _row(c: Campaign) -> dict[str, Any]:
        return {"id": c.id, "advertiser": c.advertiser, "status": str(c.status), "created_at": c.created_at.timestamp(),
                "updated_at": c.updated_at.timestamp(), "doc": c.model_dump_json()}

    # -- ledger --------------------------------------------------------------------------------------
    def known_events(self, event_ids: Iterable[str]) -> set[str]:
        """Which of these event ids are already in the ledger."""
        ids = list(event_ids)
        out: set[str] = set()
        with self.engine.connect() as conn:
            for s in range(0, len(ids), 500):
                out.update(r for (r,) in conn.execute(select(ad_ledger.c.event_id).where(ad_ledger.c.event_id.in_(ids[s : s + 500]))))
        return out

    def record(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Insert ledger rows, skipping event ids already present; return the ids actually inserted."""
        if not rows:
            return set()
        with self.engine.begin() as conn:
            return insert_ignore(conn, ad_ledger, rows, ["event_id"], returning="event_id")

    def forget_user(self, user_id: str) -> int:
        """Privacy delete: the user's ledger rows and served impressions lose the user id (and the address it
        was served to; costs stay: they are the advertisers' invoices); returns the rows changed in both."""
        with self.engine.begin() as conn:
            n = conn.execute(update(ad_ledger).where(ad_ledger.c.user_id == user_id).values(user_id="")).rowcount or 0
            n += conn.execute(update(ad_impressions).where(ad_impressions.c.user_id == user_id).values(user_id=None, ip=None)).rowcount or 0
        return n

    # -- served impressions ----------------------------------------------------------------------------
    def record_impressions(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert one request's served ads in one statement, committed without waiting for the disk.

        A served-ad row lost to a power cut only makes its click unchargeable (never a charge too many), so
        the commit skips the fsync that would cost ~3 ms a request: SQLite `synchronous=NORMAL` on this
        connection for this transaction (WAL: durable at the next checkpoint), PostgreSQL
        `synchronous_commit=off` for this transaction. Plain DB-API calls: this is on the serving path."""
        if not rows:
            return
        values = [tuple(r[c] for c in _SERVED_COLUMNS) for r in rows]
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            try:
                if self._dialect == "sqlite":
                    cur.execute("PRAGMA synchronous=NORMAL")
                    try:
                        cur.executemany(self._served_sql, values)
                        raw.commit()
                    finally:
                        raw.rollback()
                        cur.execute(f"PRAGMA synchronous={self._sqlite_sync}")
                else:
                    cur.execute("SET LOCAL synchronous_commit TO OFF")
                    cur.executemany(self._served_sql, values)
                    raw.commit()
            finally:
                cur.close()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()  # back to the pool

    def impressions(self, token_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Served-impression rows by token id (absent: never served, or pruned long after expiry)."""
        ids = sorted(set(token_ids))
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for s in range(0, len(ids), 500):
                q = select(ad_impressions).where(ad_impressions.c.token_id.in_(ids[s : s + 500]))
                out.update((r["token_id"], dict(r)) for r in conn.execute(q).mappings())
        return out

    def prune_impressions(self, before: float) -> int:
        """Delete served-impression rows that expired before `before` (their events are in the ledger by then)."""
        with self.engine.begin() as conn:
            return conn.execute(delete(ad_impressions).where(ad_impressions.c.expires_at < before)).rowcount or 0

    def settle(self, claims: Sequence[Claim], invalid: Sequence[dict[str, Any]], now: float,
               budgets: dict[str, tuple[float, float]]) -> Settled:
        """Charge claims exactly once and record invalid clicks, in one transaction (see `ads.settle`)."""
        return settle(self.engine, claims, invalid, now, budgets)

    def pacing_curve(self, day: str) -> dict[str, builtins.list[float]]:
        """Cumulative spend per campaign at the end of each UTC hour of `day` (the dashboard's pacing chart)."""
        import numpy as np

        q = select(ad_ledger.c.campaign_id, ad_ledger.c.ts, ad_ledger.c.cost).where(ad_ledger.c.day == day, ad_ledger.c.cost > 0)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        out: dict[str, np.ndarray] = {}
        for campaign, ts, cost in rows:
            out.setdefault(campaign, np.zeros(24))[int(ts % 86400 // 3600)] += cost
        return {c: np.cumsum(v).round(4).tolist() for c, v in out.items()}

    def spend(self, day: str | None = None) -> dict[str, float]:
        """Total cost per campaign, on one day or over all time."""
        q = select(ad_ledger.c.campaign_id, func.sum(ad_ledger.c.cost)).group_by(ad_ledger.c.campaign_id)
        if day:
            q = q.where(ad_ledger.c.day == day)
        with self.engine.connect() as conn:
            return {cid: float(v or 0.0) for cid, v in conn.execute(q)}

    def spend_of(self, campaign_ids: Iterable[str], day: str | None = None) -> dict[str, float]:
        """Cost charged per campaign (these only; on one day or over all time): the ledger's index answers it."""
        ids = sorted(set(campaign_ids))
        out: dict[str, float] = {}
        with self.engine.connect() as conn:
            for s in range(0, len(ids), 500):
                q = select(ad_ledger.c.campaign_id, func.sum(ad_ledger.c.cost)).where(ad_ledger.c.campaign_id.in_(ids[s : s + 500]), ad_ledger.c.cost > 0)
                q = q.where(ad_ledger.c.day == day) if day else q
                out.update((cid, float(v or 0.0)) for cid, v in conn.execute(q.group_by(ad_ledger.c.campaign_id)))
        return out

    def clicks_of(self, user_ids: Iterable[str], since: float) -> builtins.list[tuple[str, str, str, float]]:
        """(user_id, item_id, campaign_id, ts) of ad clicks by these users since `since` (for attribution)."""
        users = list(set(user_ids))
        out: builtins.list[tuple[str, str, str, float]] = []
        with self.engine.connect() as conn:
            for s in range(0, len(users), 500):
                q = select(ad_ledger.c.user_id, ad_ledger.c.item_id, ad_ledger.c.campaign_id, ad_ledger.c.ts).where(
                    ad_ledger.c.kind == "click", ad_ledger.c.user_id.in_(users[s : s + 500]), ad_ledger.c.ts >= since)
                out.extend(tuple(r) for r in conn.execute(q))
        return out

    def daily(self, campaign_id: str | None = None, start: str | None = None, end: str | None = None) -> builtins.list[dict[str, Any]]:
        """Per campaign and day: counts by kind, cost and conversion value (raw sums for reports)."""
        c = ad_ledger.c
        q = select(c.campaign_id, c.day, c.kind, func.count(), func.sum(c.cost), func.sum(c.value)).group_by(c.campaign_id, c.day, c.kind)
        if campaign_id:
            q = q.where(c.campaign_id == campaign_id)
        if start:
            q = q.where(c.day >= start)
        if end:
            q = q.where(c.day <= end)
        with self.engine.connect() as conn:
            return [{"campaign_id": r[0], "day": r[1], "kind": r[2], "n": int(r[3]), "cost": float(r[4] or 0), "value": float(r[5] or 0)}
                    for r in conn.execute(q)]

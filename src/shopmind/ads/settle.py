"""Exactly-once charging: the one transaction in which ad impressions and clicks become money.

A claim is an impression or click event whose token verified, whose served ad exists, is unexpired and
was served to the event's user or session, from a user that is not a flagged bot and (clicks) an address
under its rate. In one transaction, per claim in token order:

    UPDATE ad_impressions SET clicked_at=:now WHERE token_id=:t AND clicked_at IS NULL AND expires_at>=:now

(`seen_at` for impressions). Only a rowcount of 1 writes the ledger row; a concurrent or later replay of the
same token, in this process or another, finds `clicked_at` set and is recorded as an `invalid_click`. On
SQLite the first UPDATE takes the database's single write lock until commit; on PostgreSQL the UPDATE locks
the impression row and the campaign rows are locked (`FOR UPDATE`, sorted) before spend is read. Either way
the budget caps below are computed from the ledger as committed by every process, so concurrent clicks
cannot overspend a daily or total budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select, update

from shopmind.store.schema import ad_campaigns, ad_impressions, ad_ledger
from shopmind.store.upsert import insert_ignore


@dataclass(frozen=True, slots=True)
class Claim:
    """One impression or click event that passed every check before the atomic claim of its token."""

    event_id: str
    kind: str  # "impression" | "click"
    token_id: str
    campaign_id: str
    user_id: str
    item_id: str
    placement: str
    ts: float
    day: str
    cost: float  # before budget caps: the price for a CPC click, price/1000 for a CPM impression, else 0


@dataclass
class Settled:
    """What one settlement recorded: costs by event id, tokens lost to replays, spend as stored afterwards."""

    charged: dict[str, float] = field(default_factory=dict)  # event id → cost, for every claim recorded (cost may be 0)
    replayed: list[Claim] = field(default_factory=list)  # claims whose token was already claimed (or just expired)
    inserted: set[str] = field(default_factory=set)  # ledger rows written (claims and invalid clicks)
    spend_day: dict[tuple[str, str], float] = field(default_factory=dict)  # (campaign, day) → spent, after this
    spend_total: dict[str, float] = field(default_factory=dict)  # campaign → spent over all time, after this


def _row(c: Claim, kind: str, cost: float) -> dict[str, Any]:
    return {"event_id": c.event_id, "kind": kind, "campaign_id": c.campaign_id, "user_id": c.user_id, "item_id": c.item_id,
            "placement": c.placement[:64], "ts": c.ts, "day": c.day, "cost": cost, "value": 0.0}


def settle(engine: Engine, claims: Sequence[Claim], invalid: Sequence[dict[str, Any]], now: float,
           budgets: dict[str, tuple[float, float]]) -> Settled:
    """Claim each token once, cap costs at the budgets left as stored, write the ledger rows; one transaction.

    `invalid` are ledger rows for clicks refused before the claim (kind `invalid_click`, cost 0): recording
    them makes the refusal final, so a later look at the same event (another process's catch-up) skips it."""
    out = Settled()
    if not claims and not invalid:
        return out
    imp = ad_impressions.c
    column = {"click": imp.clicked_at, "impression": imp.seen_at}
    rows: list[dict[str, Any]] = list(invalid)
    with engine.begin() as conn:
        won: list[Claim] = []
        for c in sorted(claims, key=lambda c: (c.token_id, c.kind, c.event_id)):  # one lock order for every process
            col = column[c.kind]
            stmt = update(ad_impressions).where(imp.token_id == c.token_id, col.is_(None), imp.expires_at >= now).values({col.key: now})
            if (conn.execute(stmt).rowcount or 0) == 1:
                won.append(c)
            else:
                out.replayed.append(c)
                if c.kind == "click":
                    rows.append(_row(c, "invalid_click", 0.0))
        paid = [c for c in won if c.cost > 0]
        if paid:
            cids = sorted({c.campaign_id for c in paid})
            conn.execute(select(ad_campaigns.c.id).where(ad_campaigns.c.id.in_(cids)).order_by(ad_campaigns.c.id).with_for_update()).all()
            led = ad_ledger.c
            days = sorted({c.day for c in paid})
            q = select(led.campaign_id, led.day, func.sum(led.cost)).where(led.campaign_id.in_(cids), led.day.in_(days))
            out.spend_day = {(cid, day): float(v or 0.0) for cid, day, v in conn.execute(q.group_by(led.campaign_id, led.day))}
            capped = [cid for cid in cids if math.isfinite(budgets.get(cid, (0.0, 0.0))[1])]
            if capped:
                totals = select(led.campaign_id, func.sum(led.cost)).where(led.campaign_id.in_(capped)).group_by(led.campaign_id)
                out.spend_total = {cid: float(v or 0.0) for cid, v in conn.execute(totals)}
        for c in sorted(won, key=lambda c: (c.ts, c.event_id)):
            cost = 0.0
            if c.cost > 0:
                daily, total = budgets.get(c.campaign_id, (0.0, 0.0))
                day_spent = out.spend_day.get((c.campaign_id, c.day), 0.0)
                total_spent = out.spend_total.get(c.campaign_id, 0.0) if math.isfinite(total) else -math.inf
                cost = max(0.0, min(c.cost, daily - day_spent, total - total_spent))
                out.spend_day[(c.campaign_id, c.day)] = day_spent + cost
                if math.isfinite(total):
                    out.spend_total[c.campaign_id] = total_spent + cost
            out.charged[c.event_id] = cost
            rows.append(_row(c, c.kind, cost))
        out.inserted.update(insert_ignore(conn, ad_ledger, rows, ["event_id"], returning="event_id"))
    for c in won:  # the event id was recorded meanwhile (another process refused it): nothing was charged
        if c.event_id not in out.inserted and c.event_id in out.charged:
            cost = out.charged.pop(c.event_id)
            if (c.campaign_id, c.day) in out.spend_day:
                out.spend_day[(c.campaign_id, c.day)] -= cost
            if c.campaign_id in out.spend_total:
                out.spend_total[c.campaign_id] -= cost
    return out

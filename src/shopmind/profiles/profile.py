"""A user's profile read off the online state: interests, segment, activity, heat, value and churn risk,
each with a plain-words explanation."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from pydantic import BaseModel

from shopmind.profiles.state import OnlineState

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Interest(BaseModel):
    kind: str  # category | brand | price
    value: str
    weight: float


class Activity(BaseModel):
    item_id: str
    title: str | None
    type: str
    at: datetime


class UserProfile(BaseModel):
    user_id: str
    known: bool
    segment: str
    segment_why: str
    interests: list[Interest]
    recent: list[Activity]
    heat: list[list[int]]  # 7 weekdays (Monday first) × 24 hours, event counts
    heat_why: str
    events: int
    sessions: int
    orders: int
    lifetime_value: float
    churn_risk: float
    churn_why: str
    first_seen: datetime | None
    last_seen: datetime | None
    flagged: str | None
    summary: str


def _ts(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def segment_of(recency_days: float, sessions: int, orders: int, age_days: float) -> tuple[str, str]:
    """RFM-style segment from recency, frequency (sessions, orders) and tenure; with the reason."""
    if age_days <= 7 and sessions <= 2:
        return "new", f"first seen {age_days:.0f} days ago, {sessions} session(s)"
    if recency_days <= 7 and (sessions >= 10 or orders >= 3):
        return "champion", f"active {recency_days:.0f} days ago with {sessions} sessions and {orders} orders"
    if recency_days <= 30 and sessions >= 5:
        return "loyal", f"{sessions} sessions, last {recency_days:.0f} days ago"
    if recency_days > 90:
        return "hibernating", f"nothing for {recency_days:.0f} days"
    if sessions >= 5:
        return "at_risk", f"{sessions} sessions but quiet for {recency_days:.0f} days"
    return "occasional", f"{sessions} session(s), last {recency_days:.0f} days ago"


def churn_risk(recency_days: float, sessions: int, tenure_days: float) -> tuple[float, str]:
    """Chance the user is gone: recency against the user's own usual gap between sessions."""
    gap = tenure_days / (sessions - 1) if sessions > 1 else 30.0
    gap = max(gap, 1.0)
    risk = 1.0 - math.exp(-recency_days / (2.0 * gap))
    return round(risk, 3), f"usually back every {gap:.1f} days; last seen {recency_days:.1f} days ago"


def build_profile(state: OnlineState, user_id: str, title_of: Callable[[str], str | None], top: int = 10) -> UserProfile:
    """Profile of one user as of the newest event the shop has seen."""
    with state.lock:
        u = state.users.get(user_id)
        now = state.last_ts
        if u is None:
            empty = [[0] * 24 for _ in range(7)]
            return UserProfile(
                user_id=user_id, known=False, segment="unknown", segment_why="no events from this user", interests=[], recent=[],
                heat=empty, heat_why="no activity", events=0, sessions=0, orders=0, lifetime_value=0.0, churn_risk=0.0,
                churn_why="no activity", first_seen=None, last_seen=None, flagged=None, summary="We know nothing about this user yet.",
            )
        aff = state.affinities(user_id, now)
        recent = list(u.recent)[-top:]
        heat = u.heat.copy()
        recency = max(now - u.last_ts, 0.0) / 86400
        tenure = max(u.last_ts - u.first_ts, 0.0) / 86400
        age = max(now - u.first_ts, 0.0) / 86400
        facts = (u.events, u.sessions, u.orders, u.spend, u.flagged, u.first_ts, u.last_ts)
    interests = [Interest(kind=kind, value=value, weight=w) for kind, d in aff.items() for value, w in list(d.items())[:top]]
    interests.sort(key=lambda i: -i.weight)
    segment, seg_why = segment_of(recency, facts[1], facts[2], age)
    risk, risk_why = churn_risk(recency, facts[1], tenure)
    if heat.sum():
        d, h = np.unravel_index(int(heat.argmax()), heat.shape)
        heat_why = f"most active on {DAYS[d]}s around {h:02d}:00 UTC"
    else:
        heat_why = "no activity"
    top_cat = next((i.value for i in interests if i.kind == "category"), None)
    summary = f"{segment.replace('_', ' ')} shopper" + (f", mostly into {top_cat}" if top_cat else "") + f"; {facts[0]} events in {facts[1]} sessions"
    if facts[4]:
        summary += f"; flagged as automated ({facts[4]})"
    return UserProfile(
        user_id=user_id, known=True, segment=segment, segment_why=seg_why, interests=interests[: top * 3],
        recent=[Activity(item_id=i, title=title_of(i), type=t, at=_ts(ts)) for i, t, ts, _ in reversed(recent)],
        heat=heat.tolist(), heat_why=heat_why, events=facts[0], sessions=facts[1], orders=facts[2], lifetime_value=round(facts[3], 2),
        churn_risk=risk, churn_why=risk_why, first_seen=_ts(facts[5]), last_seen=_ts(facts[6]), flagged=facts[4], summary=summary,
    )

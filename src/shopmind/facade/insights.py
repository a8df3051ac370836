"""Insight verbs of the facade: profiles, trending, live activity, behaviour reports, a user's taste vector."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from shopmind.profiles.profile import UserProfile, build_profile

if TYPE_CHECKING:
    from shopmind.profiles.state import OnlineState
    from shopmind.store import SqlStore

__all__ = ["InsightVerbs"]


class InsightVerbs:
    """Read-only views over online state and the event log (mixed into `ShopMind`)."""

    store: SqlStore

    if TYPE_CHECKING:  # provided by ShopMind
        @property
        def state(self) -> OnlineState: ...

        def service(self, name: str) -> Any: ...

    def profile(self, user_id: str) -> UserProfile:
        """The user's profile: interests, segment, activity, heat, value and churn risk, explained."""
        state = self.state
        titles = self.store.get_products([r[0] for r in state.users[user_id].recent] if user_id in state.users else [])
        return build_profile(state, user_id, lambda i: titles[i].title if i in titles else None)

    def trending(self, k: int = 20, category: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """Items and queries with the most recent activity (bots excluded)."""
        state = self.state
        return {"items": [{"item_id": i, "score": round(s, 4)} for i, s in state.trending_items(k, category)],
                "queries": [{"query": q, "score": round(s, 4)} for q, s in state.trending_queries(k)]}

    def live(self, minutes: int = 60) -> dict[str, Any]:
        """Events per minute (by event time) up to now, events applied and users flagged as bots."""
        state = self.state
        return {"per_minute": [{"t": t, "events": n} for t, n in state.events_per_minute(minutes, now=time.time())],
                "events_applied": state.events_applied, "flagged_users": len(state.flagged_users())}

    def user_vector(self, user_id: str, n: int = 20, half_life: float = 5.0) -> np.ndarray | None:
        """The user's taste as one unit vector: recency-weighted mean embedding of their latest items."""
        items = self.state.history(user_id, n)
        search = self.service("search")
        rows = [search.table.row_of[i] for i in items if i in search.table.row_of]
        if not rows or search.vectors is None:
            return None
        index = search.vectors
        matrix = np.concatenate([index.vectors, index.delta]) if len(index.delta) else index.vectors  # delta: upserts since build
        weights = 0.5 ** (np.arange(len(rows))[::-1] / half_life)  # the newest item weighs 1
        vec = (matrix[np.array(rows)] * weights[:, None]).sum(axis=0)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else None

    def report(self, name: str, **options: Any) -> Any:
        """A behaviour report over the event log (bots excluded): funnel, rfm, cohorts, queries, items."""
        from shopmind.profiles import analytics

        if name not in analytics.REPORTS:
            raise ValueError(f"unknown report {name!r}; use one of {', '.join(analytics.REPORTS)}")
        events = analytics._exclude(self.store.scan_events(), set(self.state.flagged_users()))
        if name == "funnel":
            return analytics.funnel(events, {i: m.top for i, m in self.state.items.items()}, **options)
        if name == "items":
            return analytics.items(events, {p.id: p.title for p in self.store.iter_products()}, **options)
        return getattr(analytics, name)(events, **options)

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
        from shopmind.search.user_features import history_rows
        from shopmind.search.user_features import user_vector as taste

        search = self.service("search")  # the same vector the search ranker's user_vector_cos column uses
        return taste(search.vectors, history_rows(search.table, self.state.history(user_id, n), n), half_life)

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

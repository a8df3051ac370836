"""Frequency caps: how often each user was served each campaign today, counted in shared state.

With `cluster.shared_url = "redis://…"` every worker and host counts into (and reads) the same counters, so a
cap of 3 a day holds across the cluster; with `memory://` the counts live in this process. Serving reads one
user's counts once per request (one round trip); counting a serve is queued and sent in the background. If the
shared state does not answer, no cap applies (rather than no ad), and the failure is logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import numpy as np

from shopmind.sharedstate import SharedState, SharedStateUnavailable
from shopmind.sharedstate.memory import MemoryShared

__all__ = ["FREQ_PREFIX", "FrequencyCaps"]
log = logging.getLogger(__name__)

FREQ_PREFIX = "ads:freq:"


class FrequencyCaps:
    """Serves per (user, day, campaign) in shared state (default: a private in-memory one)."""

    def __init__(self, shared: SharedState | None = None) -> None:
        self.shared: SharedState = shared if shared is not None else MemoryShared()

    @staticmethod
    def key(day: str, user_id: str) -> str:
        """Shared-state key of one user's serves per campaign on one day."""
        return f"{FREQ_PREFIX}{day}:{user_id}"

    def under(self, pos: Mapping[str, int], cap: np.ndarray, user_id: str, day: str) -> np.ndarray:
        """A bool per campaign (`pos`: campaign id → row): seen by this user fewer times today than its cap."""
        try:
            seen = self.shared.counts(self.key(day, user_id))
        except SharedStateUnavailable:
            log.warning("frequency caps skipped: shared state unavailable", exc_info=True)
            return np.ones(len(cap), bool)
        n = np.zeros(len(cap), np.int64)
        for cid, count in seen.items():
            j = pos.get(cid)
            if j is not None:
                n[j] = count
        return n < cap

    def count(self, user_id: str | None, day: str, campaign_ids: list[str]) -> None:
        """Count one serve of each campaign (a serve is the conservative count); kept until the UTC day is over + 1 h."""
        if not user_id or not campaign_ids:
            return
        ttl = 86400.0 - time.time() % 86400 + 3600.0
        try:
            self.shared.add_counts(self.key(day, user_id), campaign_ids, ttl, owner=user_id)
        except SharedStateUnavailable:
            log.warning("frequency caps: serves not counted (shared state unavailable)", exc_info=True)

    def forget(self, user_id: str) -> int:
        """Drop a user's counts (privacy deletion); how many keys went."""
        return self.shared.forget_owner(user_id, prefix=FREQ_PREFIX)

    def held(self) -> set[str]:
        """Users whose counts live in this process's memory (none when the state is shared)."""
        return self.shared.held_owners()

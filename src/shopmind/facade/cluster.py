"""What a shop shares with the other workers and hosts of its cluster: shared state and the shop's secrets.

`shop.shared` is the SharedState named by `cluster.shared_url` (opened on first use, closed with the shop): rate
limits, ads frequency caps and (when it is shared) chat sessions go through it. `shop.shop_secret` keys deletion
receipts, `shop.ads_secret` signs ad tokens: derived from `cluster.secret` when set (the same on every host), else
made once in the home. Mixed into `ShopMind`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shopmind.config import Settings
    from shopmind.sharedstate import SharedState

__all__ = ["ClusterParts"]


class ClusterParts:
    """`shared`, `shop_secret` and `ads_secret` of a `ShopMind` (which provides `home`, `settings` and `_lock`)."""

    home: Path
    settings: Settings
    _lock: threading.RLock
    _shared: SharedState | None = None

    @property
    def shared(self) -> SharedState:
        """The cluster's shared state (`cluster.shared_url`; `memory://`: this process only)."""
        with self._lock:
            if self._shared is None:
                from shopmind.sharedstate import open_shared

                self._shared = open_shared(self.settings.cluster.shared_url)
            return self._shared

    @property
    def shop_secret(self) -> bytes:
        """The key of deletion receipts and user hashes (`cluster.secret`-derived, else <home>/shop_secret)."""
        from shopmind.security.secret import cluster_secret, derived_secret, shop_secret

        master = cluster_secret(self.settings.cluster.secret)
        return derived_secret(master, "shop") if master is not None else shop_secret(self.home)

    @property
    def ads_secret(self) -> bytes:
        """The key that signs ad tokens (`cluster.secret`-derived, else <home>/ads_secret)."""
        from shopmind.ads.tokens import ads_secret
        from shopmind.security.secret import cluster_secret, derived_secret

        master = cluster_secret(self.settings.cluster.secret)
        return derived_secret(master, "ads") if master is not None else ads_secret(self.home)

    def close_shared(self) -> None:
        """Flush and close shared state if it was opened."""
        with self._lock:
            shared, self._shared = self._shared, None
        if shared is not None:
            shared.close()

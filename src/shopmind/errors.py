"""The exceptions every layer may raise. A leaf module: it imports nothing of ShopMind's, so any part can use it.

An error lives here when one layer raises it and another catches it (the API maps them to HTTP codes: NotBuilt
→ 503, ForecastPending → 202, SalesDataError → 422, CampaignNotFound → 404); the raising module re-exports it.
"""

from __future__ import annotations

__all__ = ["BuildFailed", "CampaignNotFound", "ForecastPending", "NotBuilt", "SalesDataError", "ShopMindError"]


class ShopMindError(Exception):
    """Base of ShopMind's own errors."""


class NotBuilt(ShopMindError, RuntimeError):
    """A capability was asked for before `shopmind build` made its artifacts."""


class ForecastPending(ShopMindError, RuntimeError):
    """The forecast asked for is being computed in the background."""


class SalesDataError(ShopMindError, ValueError):
    """Sales history that cannot be read or turned into series; the message names the field."""


class CampaignNotFound(ShopMindError, KeyError):
    """No campaign with that id."""


class BuildFailed(ShopMindError, RuntimeError):
    """A part's build failed on a distributed executor; its half-written version was removed."""

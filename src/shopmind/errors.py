"""The exceptions every layer may raise. A leaf module: it imports nothing of ShopMind's, so any part can use it."""

from __future__ import annotations


class ShopMindError(Exception):
    """Base of ShopMind's own errors."""


class NotBuilt(ShopMindError, RuntimeError):
    """A capability was asked for before `shopmind build` made its artifacts."""

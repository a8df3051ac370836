"""Merchandising rules: the one schema of what a merchant may force onto a ranked list.

Search and recommendation both apply the same four actions after ranking — `pin` ids to the top, `boost` or
`bury` ids by a score factor, `hide` ids — and differ only in *when* a rule applies: search matches the query
(normalised, exact) or a category path prefix; recommendation has no query, so its rules (`recommend.config.
BusinessRules`) are keyed by placement (pins) or apply everywhere (boost, bury, exclude = hide).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MerchAction = Literal["pin", "boost", "bury", "hide"]
MERCH_ACTIONS: tuple[str, ...] = ("pin", "boost", "bury", "hide")


class MerchRule(BaseModel):
    """A merchandising rule: when `query` (normalised, exact) or `category` (path prefix) matches,
    `pin` ids to the top, `boost`/`bury` ids by a score factor, or `hide` them."""

    model_config = ConfigDict(extra="forbid")

    name: str = "rule"
    query: str | None = None
    category: str | None = None
    action: MerchAction
    ids: list[str] = Field(default_factory=list)
    factor: float = 2.0

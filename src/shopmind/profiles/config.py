"""Settings of the online state (`[state]`): a leaf that config.py imports without pulling the state's logic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BotGuardConfig(BaseModel):
    """Thresholds for flagging non-human users (by user id and by context.ip)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    max_events_per_minute: int = Field(default=120, ge=1)
    max_events_per_second: int = Field(default=20, ge=1)


class StateConfig(BaseModel):
    """How online state decays and what it keeps."""

    model_config = ConfigDict(extra="forbid")
    recent_items: int = Field(default=50, ge=1, le=1000)
    session_gap_s: float = Field(default=1800, gt=0)
    affinity_half_life_days: float = Field(default=14, gt=0)
    counter_half_lives_h: tuple[float, float, float] = (1.0, 24.0, 168.0)
    trending_half_life_h: float = Field(default=24.0, gt=0)
    ctr_prior_clicks: float = Field(default=1.0, ge=0)
    ctr_prior_impressions: float = Field(default=20.0, gt=0)
    conversion_prior_purchases: float = Field(default=0.5, ge=0)
    conversion_prior_views: float = Field(default=25.0, gt=0)
    bots: BotGuardConfig = Field(default_factory=BotGuardConfig)

"""Events: one or a batch; stored before the response, so an acknowledged event is never lost."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, status
from prometheus_client import Counter
from pydantic import BaseModel

from shopmind.api.deps import RequirePublic, Shop
from shopmind.api.simulated import SimLabel, mark_events
from shopmind.domain import Event
from shopmind.security.ratelimit import rate_limit

router = APIRouter(prefix="/events", tags=["events"])

EVENTS = Counter("shopmind_events_total", "events received over HTTP", ["outcome"])


class Accepted(BaseModel):
    accepted: int
    new: int
    duplicates: int


def _accept(shop, events: list[Event]) -> Accepted:
    new = shop.events.track_many(events)
    EVENTS.labels("new").inc(new)
    EVENTS.labels("duplicate").inc(len(events) - new)
    return Accepted(accepted=len(events), new=new, duplicates=len(events) - new)


@router.post("", status_code=status.HTTP_202_ACCEPTED, dependencies=[RequirePublic, rate_limit("events")])
def post_event(event: Event, shop: Shop, label: SimLabel) -> Accepted:
    """Track one event. Replaying the same id is harmless (`new: 0`)."""
    mark_events([event], label)  # X-Simulated: stored as simulated traffic
    return _accept(shop, [event])


@router.post("/batch", status_code=status.HTTP_202_ACCEPTED, dependencies=[RequirePublic, rate_limit("events")])
def post_events(request: Request, events: Annotated[list[Event], Body(min_length=1)], shop: Shop, label: SimLabel) -> Accepted:
    """Track many events in one transaction: all are stored, or none (422 names each bad field)."""
    limit = shop.settings.api.max_batch
    if len(events) > limit:
        from fastapi import HTTPException

        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"batch of {len(events)} events exceeds api.max_batch={limit}")
    mark_events(events, label)
    return _accept(shop, events)

"""Simulated traffic over HTTP: `X-Simulated: 1` (and `X-Simulation-Run: <run id>`) mark a request as simulated.

`shopmind simulate` sends both headers. The serving routes pass the label on, so the search event they log, the
experiment exposures of the request and events posted with the header carry `simulated = "1"` and the run id, and
reports separate that traffic from real shoppers' (`experiments report --traffic real|simulated|all`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header

__all__ = ["SimLabel", "mark_events", "simulation_label"]

RUN_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


def simulation_label(
    x_simulated: Annotated[str | None, Header(pattern=r"^(0|1|true|false|yes|no)$", description="1: this request is simulated traffic")] = None,
    x_simulation_run: Annotated[str | None, Header(max_length=64, pattern=RUN_ID, description="the simulation run id")] = None,
) -> dict[str, str]:
    """{"simulated": "1", "sim_run": run} for a request marked simulated; {} for real traffic."""
    if (x_simulated or "0") not in ("1", "true", "yes"):
        return {}
    return {"simulated": "1", **({"sim_run": x_simulation_run} if x_simulation_run else {})}


SimLabel = Annotated[dict[str, str], Depends(simulation_label)]


def mark_events(events: list[Any], label: dict[str, str]) -> None:
    """Label events posted by a simulated request in place (their own context keys are kept; the label wins)."""
    if not label:
        return
    from shopmind.domain import EventContext

    for e in events:
        base = e.context.model_dump(exclude_none=True) if e.context is not None else {}
        e.context = EventContext.model_validate({**base, **label})

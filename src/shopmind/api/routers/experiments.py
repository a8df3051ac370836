"""Experiments over HTTP: define, start and stop (admin, audited), list, show and report (analyst or admin: the
dashboard's experiments panel). A start or stop reaches every worker within a few seconds."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request, status

from shopmind.api.deps import RequireAdmin, RequireAnalyst, Shop, audit
from shopmind.experiments.model import Experiment, ExperimentConflict, ExperimentError, ExperimentNotFound

router = APIRouter(prefix="/admin/experiments", tags=["admin"])

ExperimentId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="an experiment id")]


def _call(call: Any) -> Experiment:
    try:
        out: Experiment = call()
    except ExperimentNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc).strip("'\"")) from exc
    except ExperimentConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except ExperimentError as exc:
        raise HTTPException(422, str(exc)) from exc
    return out


@router.post("", dependencies=[RequireAdmin], status_code=status.HTTP_201_CREATED)
def create(shop: Shop, request: Request, definition: Annotated[dict[str, Any], Body(description="an Experiment: id, surface, kind, variants, unit, metrics, guardrails (per-request knobs: facade/variants.py)")]
           ) -> dict[str, Any]:
    """Store a new experiment as a draft (422 names the field at fault; 409: the id exists)."""
    exp = _call(lambda: shop.experiments.create(definition))
    audit(request, "experiment.create", exp.id, surface=exp.surface)
    return exp.model_dump(mode="json")


@router.get("", dependencies=[RequireAnalyst])
def list_experiments(shop: Shop, state: Annotated[Literal["draft", "running", "stopped"] | None, Query(alias="status")] = None
                     ) -> list[dict[str, Any]]:
    """Experiments, newest first."""
    return [e.model_dump(mode="json") for e in shop.experiments.list(state)]


@router.get("/{experiment_id}", dependencies=[RequireAnalyst])
def show(experiment_id: ExperimentId, shop: Shop) -> dict[str, Any]:
    """One experiment's definition and status."""
    return _call(lambda: shop.experiments.get(experiment_id)).model_dump(mode="json")


@router.post("/{experiment_id}/start", dependencies=[RequireAdmin])
def start(experiment_id: ExperimentId, shop: Shop, request: Request) -> dict[str, Any]:
    """Start a draft (409: not a draft, or its surface runs another experiment)."""
    exp = _call(lambda: shop.experiments.start(experiment_id))
    audit(request, "experiment.start", exp.id, surface=exp.surface)
    return exp.model_dump(mode="json")


@router.post("/{experiment_id}/stop", dependencies=[RequireAdmin])
def stop(experiment_id: ExperimentId, shop: Shop, request: Request) -> dict[str, Any]:
    """Stop a running experiment (409: it is not running)."""
    exp = _call(lambda: shop.experiments.stop(experiment_id))
    audit(request, "experiment.stop", exp.id, surface=exp.surface)
    return exp.model_dump(mode="json")


@router.get("/{experiment_id}/report", dependencies=[RequireAnalyst])
def report(experiment_id: ExperimentId, shop: Shop,
           traffic: Annotated[Literal["auto", "real", "simulated", "all"], Query(description="simulated traffic is never mixed in silently")] = "auto",
           ) -> dict[str, Any]:
    """Per variant: units, SRM, each metric with its effect against control, fixed-horizon and always-valid intervals, CUPED, guardrails."""
    _call(lambda: shop.experiments.get(experiment_id))
    return shop.experiment_report(experiment_id, traffic)

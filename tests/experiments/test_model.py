"""Experiment definitions: what is valid, and errors that name the field at fault."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine

from shopmind.experiments.model import Experiment, ExperimentError
from shopmind.experiments.service import ExperimentService
from shopmind.store.schema import metadata

GOOD = {"id": "search-ranker", "surface": "search", "variants": [{"name": "control", "control": True},
                                                                  {"name": "no-ranker", "overrides": {"stages": {"ranker": False}}}]}


def _with(**changes: object) -> dict:
    return {**GOOD, **changes}


@pytest.fixture
def service() -> ExperimentService:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    return ExperimentService(engine)


def test_a_valid_definition_parses_with_defaults() -> None:
    exp = Experiment.model_validate(GOOD)
    assert (exp.kind, exp.unit, exp.status, exp.salt, exp.control.name) == ("ab", "user", "draft", "search-ranker", "control")
    assert (exp.method, exp.credit) == ("team_draft", "negative")
    assert exp.metrics == ["ctr", "add_to_cart_rate", "conversion", "revenue_per_user"]
    assert Experiment.model_validate(_with(surface="recommend:home")).surface == "recommend:home"


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"variants": [{"name": "a", "control": True}]}, "variants", "at least 2 variants"),
    ({"variants": [{"name": "a", "control": True, "weight": 0}, {"name": "b"}]}, "variants.0.weight", "greater than 0"),
    ({"variants": [{"name": "a"}, {"name": "b"}]}, "variants", "exactly one variant must have control=true"),
    ({"variants": [{"name": "a", "control": True}, {"name": "a"}]}, "variants", "unique"),
    ({"surface": "checkout"}, "surface", "not a surface"),
    ({"kind": "interleave", "method": "balanced"}, "method", "'team_draft' or 'optimized'"),
    ({"kind": "interleave", "method": "optimized", "credit": "cubic"}, "credit", "'negative' or 'squared'"),
    ({"metrics": ["ctr", "dwell"]}, "metrics", "unknown metric"),
    ({"guardrails": [{"metric": "bounce"}]}, "guardrails.0.metric", "unknown metric"),
    ({"unit": "device"}, "unit", "'user' or 'session'"),
    ({"kind": "interleave", "surface": "ads"}, "kind", "ranked lists"),
    ({"kind": "interleave", "variants": [{"name": "a", "control": True}, {"name": "b"}, {"name": "c"}]}, "variants", "exactly 2"),
])
def test_errors_name_the_field(service: ExperimentService, changes: dict, field: str, words: str) -> None:
    with pytest.raises(ValidationError):
        Experiment.model_validate(_with(**changes))
    with pytest.raises(ExperimentError) as err:
        service.create(_with(**changes))
    assert str(err.value).startswith(f"{field}:") or f"; {field}:" in str(err.value), str(err.value)
    assert words in str(err.value)


def test_lifecycle_in_the_store(service: ExperimentService) -> None:
    exp = service.create(GOOD)
    assert service.get(exp.id) == exp and service.running() == {}
    with pytest.raises(ExperimentError, match="id: an experiment 'search-ranker' exists"):
        service.create(GOOD)
    with pytest.raises(ExperimentError, match=r"status: .* only a running experiment can stop"):
        service.stop(exp.id)
    started = service.start(exp.id)
    assert started.status == "running" and started.started_at is not None
    assert service.running()["search"].id == exp.id
    service.create(_with(id="other"))
    with pytest.raises(ExperimentError, match="surface: 'search' already runs experiment 'search-ranker'"):
        service.start("other")
    a = service.assignment("search", "u1", None)
    assert a is not None and a.experiment_id == exp.id and a.variant in ("control", "no-ranker") and a.unit_id == "u1"
    assert service.assignment("search", None, "s1") is None  # unit = user: no user id, no experiment
    assert service.assignment("ads", "u1", None) is None
    stopped = service.stop(exp.id)
    assert stopped.status == "stopped" and stopped.ended_at >= started.started_at
    assert service.running() == {} and [e.id for e in service.list("stopped")] == [exp.id]


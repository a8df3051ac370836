"""The pipeline as a whole: stage order, per-stage timings in the response and in Prometheus' /metrics text,
and the service's answer being exactly the stages' output."""

from __future__ import annotations

import re

import pytest
from prometheus_client import REGISTRY, generate_latest

from shopmind.search.stages import PIPELINE, STAGE_NAMES, SUB_STAGES, SearchRequest
from tests.search.stages.conftest import run_until


def test_stages_run_in_the_documented_order() -> None:
    assert STAGE_NAMES == ("understand", "retrieve", "fuse", "features", "rank", "rules", "facets", "page")
    assert all(callable(stage) for _, stage in PIPELINE)


def _count(text: str, stage: str) -> float:
    m = re.search(rf'^shopmind_search_stage_seconds_count\{{stage="{re.escape(stage)}"\}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else 0.0


def test_every_stage_is_timed_in_the_response_and_in_metrics(hd_svc) -> None:
    before = generate_latest(REGISTRY).decode()
    res = hd_svc.search("cordless drill", facets=["brand"], mode="bm25")
    timings = res.query.timings_ms
    assert set(STAGE_NAMES) | set(SUB_STAGES) | {"total"} == set(timings)
    assert all(v >= 0 for v in timings.values()) and res.took_ms == timings["total"]
    after = generate_latest(REGISTRY).decode()
    for stage in (*STAGE_NAMES, *SUB_STAGES):
        assert _count(after, stage) == _count(before, stage) + 1, stage


def test_service_answer_is_the_pipeline_output(hd_svc) -> None:
    res = hd_svc.search("garden hose", page=2, per_page=7, mode="bm25")
    ctx = run_until(hd_svc, "garden hose", "page", page=2, per_page=7, mode="bm25")
    assert [h.id for h in res.hits] == [h.id for h in ctx.hits] and res.total == ctx.total
    assert res.query.stages == ctx.stages


def test_bad_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="sort"):
        SearchRequest("x", sort="cheapest")
    with pytest.raises(ValueError, match="page"):
        SearchRequest("x", page=0)

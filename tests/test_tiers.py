"""The tiers in tests/conftest.py: a test that needs a server lands in `integration`, whatever marks it forgot."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

_spec = importlib.util.spec_from_file_location("tiers_conftest", Path(__file__).with_name("conftest.py"))
assert _spec is not None and _spec.loader is not None
tiers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiers)


def _item(fixtures: list[str], params: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(fixturenames=fixtures, callspec=SimpleNamespace(params=params) if params is not None else None)


@pytest.mark.parametrize(("fixtures", "params", "expected"), [
    (["tmp_path", "postgres_url"], None, {"postgres"}),
    (["store_url"], {"store_url": "postgres"}, {"postgres"}),
    (["store_url"], {"store_url": "sqlite"}, set()),
    (["make_sessions"], {"make_sessions": "postgres"}, {"postgres"}),
    (["server", "page"], None, {"browser"}),
    (["shop", "llama_server"], None, {"llm"}),
    (["shop", "client", "demo_data"], None, set()),
])
def test_server_fixtures_and_postgres_params_imply_their_marker(fixtures, params, expected):
    assert tiers._tier_markers(_item(fixtures, params)) == expected


def test_every_server_marker_means_integration():
    assert {"postgres", "browser", "llm", "fuzz", "slow", "integration"} <= tiers.INTEGRATION_MARKERS
    assert set(tiers.SERVER_FIXTURES.values()) <= tiers.INTEGRATION_MARKERS


def test_this_module_is_unit(request):
    marks = {m.name for m in request.node.iter_markers()}
    assert "unit" in marks and "integration" not in marks

"""Simulated traffic over HTTP is marked everywhere: `X-Simulated: 1` (+ `X-Simulation-Run`) labels the search event,
the experiment exposures of the request and events posted with it, so reports keep real and simulated units apart;
`/recommend?session_id=` is the unit of session-split experiments, as on search. A real demo slice, search and
recommend built (dense off, no model selection)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from shopmind.api.app import create_app
from shopmind.engine import ShopMind
from shopmind.experiments.exposures import read_exposures

pytestmark = pytest.mark.integration  # a part build

SETTINGS = {"search": {"stages": {"dense": False}},
            "recommend": {"content_encoder": "none", "rising": False, "select": {"enabled": False}},
            "api": {"admin_keys": ["admin-key"], "public_keys": ["public-key"], "analyst_keys": ["analyst-key"]}}
ADMIN, ANALYST, PUBLIC = ({"X-API-Key": k} for k in ("admin-key", "analyst-key", "public-key"))
SIM = {**PUBLIC, "X-Simulated": "1", "X-Simulation-Run": "run-7"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, demo_data: Path):
    home = tmp_path_factory.mktemp("sim-api") / "home"
    with ShopMind.open(home, **SETTINGS) as shop:
        shop.import_file("products", demo_data / "products.jsonl")
        pq.write_table(pq.read_table(demo_data / "events.parquet").slice(0, 3000), home / "events.parquet")
        shop.import_file("events", home / "events.parquet")
        shop.build(["search", "recommend"])
        with TestClient(create_app(shop)) as c:
            yield shop, c


def _contexts(shop: ShopMind, user: str) -> list[tuple[str, dict]]:
    t = shop.store.scan_events().to_pydict()
    return [(ty, orjson.loads(c) if c else {}) for ty, u, c in zip(t["type"], t["user_id"], t["context"], strict=True) if u == user]


def _start(c: TestClient, definition: dict) -> None:
    assert c.post("/admin/experiments", json=definition, headers=ADMIN).status_code == 201
    assert c.post(f"/admin/experiments/{definition['id']}/start", headers=ADMIN).status_code == 200


def test_x_simulated_marks_the_search_event_exposures_and_posted_events(client) -> None:
    shop, c = client
    _start(c, {"id": "sim-search", "surface": "search", "variants": [{"name": "a", "control": True},
                                                                      {"name": "b", "overrides": {"stages": {"spelling": False}}}]})
    try:
        for user, headers in (("sim-1", SIM), ("sim-2", SIM), ("real-1", PUBLIC), ("real-2", PUBLIC)):
            r = c.get("/search", params={"q": "star wars", "user_id": user}, headers=headers)  # tracked: a user id is given
            assert r.status_code == 200 and r.json()["experiment"]["id"] == "sim-search"
        shop.experiments.writer.flush(10)
        rows = {unit: orjson.loads(extra) for _, unit, _, _, _, extra in read_exposures(shop.store.engine, "sim-search")}
        assert rows["sim-1"] == rows["sim-2"] == {"simulated": "1", "sim_run": "run-7"}
        assert "simulated" not in rows["real-1"] and "simulated" not in rows["real-2"]
        [(kind, ctx)] = _contexts(shop, "sim-1")
        assert kind == "search" and ctx["simulated"] == "1" and ctx["sim_run"] == "run-7" and "results" in ctx
        [(_, real)] = _contexts(shop, "real-1")
        assert "simulated" not in real

        posted = [{"id": "sim-ev-1", "type": "click", "user_id": "sim-1", "item_id": "m1", "context": {"placement": "search", "position": 0}},
                  {"id": "sim-ev-2", "type": "view", "user_id": "sim-3", "item_id": "m2"}]
        assert c.post("/events/batch", json=posted, headers=SIM).status_code == 202
        assert c.post("/events", json={"id": "sim-ev-3", "type": "view", "user_id": "sim-4", "item_id": "m3"}, headers=SIM).status_code == 202
        assert c.post("/events", json={"id": "real-ev-1", "type": "click", "user_id": "real-1", "item_id": "m1"}, headers=PUBLIC).status_code == 202
        [click] = [ctx for kind, ctx in _contexts(shop, "sim-1") if kind == "click"]
        assert click == {"placement": "search", "position": 0, "simulated": "1", "sim_run": "run-7"}  # its own keys kept
        assert _contexts(shop, "sim-3")[0][1]["simulated"] == "1" and _contexts(shop, "sim-4")[0][1]["sim_run"] == "run-7"
        assert all("simulated" not in ctx for _, ctx in _contexts(shop, "real-1"))

        def units(traffic: str) -> int:
            report = c.get("/admin/experiments/sim-search/report", params={"traffic": traffic}, headers=ANALYST).json()
            return sum(v["units"] for v in report["variants"])

        assert (units("real"), units("simulated"), units("all")) == (2, 2, 4)
    finally:
        c.post("/admin/experiments/sim-search/stop", headers=ADMIN)


def test_bad_simulation_headers_name_the_header(client) -> None:
    _, c = client
    bad = c.get("/search", params={"q": "star wars"}, headers={**PUBLIC, "X-Simulated": "maybe"})
    assert bad.status_code == 422 and "x-simulated" in str(bad.json()["detail"]).lower()
    bad = c.get("/recommend", headers={**SIM, "X-Simulation-Run": "a run id with spaces"})
    assert bad.status_code == 422 and "x-simulation-run" in str(bad.json()["detail"]).lower()
    assert c.get("/search", params={"q": "star wars"}, headers={**PUBLIC, "X-Simulated": "0"}).status_code == 200


def test_recommend_takes_the_session_as_the_unit_of_an_experiment(client) -> None:
    shop, c = client
    _start(c, {"id": "sim-recs", "surface": "recommend:home", "unit": "session",
               "variants": [{"name": "a", "control": True}, {"name": "b", "overrides": {"diversity": 0.0}}]})
    try:
        seen: dict[str, str] = {}
        for i in range(12):
            session = f"sess-{i}"
            answers = {c.get("/recommend", params={"placement": "home", "user_id": user, "session_id": session, "k": 5},
                             headers=SIM if i % 2 else PUBLIC).json()["experiment"]["variant"] for user in (f"u{i}", f"v{i}")}
            assert len(answers) == 1, session  # two users, one session: one arm
            seen[session] = answers.pop()
        assert set(seen.values()) == {"a", "b"}
        assert c.get("/recommend", params={"placement": "home", "user_id": "u1"}, headers=PUBLIC).json()["experiment"] is None  # no unit
        shop.experiments.writer.flush(10)
        rows = read_exposures(shop.store.engine, "sim-recs")
        assert {unit for _, unit, *_ in rows} == set(seen) and all(r[0] == seen[r[1]] for r in rows)
        marked = {unit for _, unit, _, _, _, extra in rows if orjson.loads(extra).get("simulated") == "1"}
        assert marked == {f"sess-{i}" for i in range(1, 12, 2)}
    finally:
        c.post("/admin/experiments/sim-recs/stop", headers=ADMIN)

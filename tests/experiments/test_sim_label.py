"""The simulation label of a request reaches the exposures logged while serving it: from the verb's context
(`simulated`, `sim_run`) or, for verbs without one (chat, ads), from `exposures.labelled`, which the API enters for
`X-Simulated: 1`. Real traffic carries no label, and the label does not leak out of the request that set it."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson

from shopmind.engine import ShopMind
from shopmind.experiments.exposures import labelled, read_exposures, sim_label

LABEL = {"simulated": "1", "sim_run": "run-3"}


def test_the_label_comes_from_the_context_or_the_request() -> None:
    assert sim_label(None) == {} and sim_label({"device": "mobile"}) == {}
    assert sim_label({"simulated": "true", "sim_run": "r"}) == {"simulated": "1", "sim_run": "r"}
    assert sim_label({"simulated": "0"}) == {}
    with labelled(LABEL):
        assert sim_label(None) == LABEL and sim_label({"device": "mobile"}) == LABEL
        seen: list[dict] = []
        other = threading.Thread(target=lambda: seen.append(sim_label(None)))  # another request's thread is not marked
        other.start()
        other.join()
        assert seen == [{}]
    assert sim_label(None) == {}
    with labelled({}):
        assert sim_label(None) == {}


def test_served_verbs_mark_exposures_of_simulated_requests(tmp_path: Path) -> None:
    with ShopMind.open(tmp_path / "home") as shop:
        shop.experiments.create({"id": "ads-ab", "surface": "ads", "variants": [{"name": "a", "control": True}, {"name": "b"}]})
        shop.experiments.start("ads-ab")
        for user in ("sim-1", "sim-2"):
            with labelled(LABEL):  # what the /ads and /chat routes do for X-Simulated: 1
                shop.served("ads", user, None, base=lambda: "part", call=lambda part: part)
        shop.served("ads", "real-1", None, base=lambda: "part", call=lambda part: part)
        shop.served("ads", "sim-3", None, base=lambda: "part", call=lambda part: part, context={"simulated": "1"})
        shop.experiments.writer.flush(10)
        extra = {unit: orjson.loads(e) for _, unit, _, _, _, e in read_exposures(shop.store.engine, "ads-ab")}
    assert extra == {"sim-1": LABEL, "sim-2": LABEL, "real-1": {}, "sim-3": {"simulated": "1"}}

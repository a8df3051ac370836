"""The experiment report on a real randomised experiment: Hillstrom's e-mail test (experiments/hillstrom), the first
5,000 customers of "No E-Mail" (control) and of "Mens E-Mail". The assignment is Hillstrom's own; the events are
derived from each customer's recorded outcomes (visit → a click, conversion → a purchase of `spend`, the pre-period
`history` → one purchase the day before the start), written through the importer, exposures through the writer.
The report must equal `stats` run by hand on the same numbers read straight from the CSV, keep simulated traffic
apart, and score an interleaving from its logged teams and the clicks that followed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest
from sqlalchemy import update

from shopmind.engine import ShopMind
from shopmind.experiments import stats
from shopmind.experiments.exposures import Exposure
from shopmind.experiments.interleave import interleaving_t_test, interleaving_test
from shopmind.store.schema import experiments

N = 5000
T0 = 1_700_000_000.0  # the experiment's start (2023-11-14), all in the past
ARMS = {"No E-Mail": "control", "Mens E-Mail": "mens"}


def _started(shop: ShopMind, definition: dict, at: float) -> None:
    exp = shop.experiments.start(shop.experiments.create(definition).id).model_copy(update={"started_at": at})
    with shop.store.engine.begin() as conn:  # as if started at `at`
        conn.execute(update(experiments).where(experiments.c.id == exp.id).values(started_at=at, doc=exp.model_dump_json()))


@pytest.fixture(scope="module")
def hill(tmp_path_factory: pytest.TempPathFactory, shared_data: Path):
    df = pd.read_csv(shared_data / "experiments" / "hillstrom" / "hillstrom.csv")
    df = pd.concat([df[df.segment == arm].head(N) for arm in ARMS]).reset_index(drop=True)
    home = tmp_path_factory.mktemp("hill") / "home"
    shop = ShopMind.open(home)
    _started(shop, {"id": "hillstrom", "surface": "ads", "variants": [{"name": "control", "control": True}, {"name": "mens"}],
                    "guardrails": [{"metric": "conversion", "max_drop": 0.5}]}, T0)
    lines = []
    for i, r in enumerate(df.itertuples()):
        unit = f"h{i}"
        shop.experiments.writer.log(Exposure("hillstrom", ARMS[r.segment], unit, "ads", user_id=unit, ts=T0 + i))
        lines.append({"id": f"pre{i}", "type": "purchase", "user_id": unit, "item_id": "merch", "price": float(r.history), "timestamp": T0 - 86400})
        if r.visit:
            lines.append({"id": f"c{i}", "type": "click", "user_id": unit, "item_id": "merch", "timestamp": T0 + i + 5})
        if r.conversion:
            lines.append({"id": f"b{i}", "type": "purchase", "user_id": unit, "item_id": "merch", "price": float(r.spend), "timestamp": T0 + i + 9})
    path = home / "events.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(x) for x in lines))
    shop.import_file("events", path)
    assert shop.experiments.writer.flush(30)
    yield shop, df
    shop.close()


def _arm(df: pd.DataFrame, col: str, arm: str) -> np.ndarray:
    return df.loc[df.segment == arm, col].to_numpy(dtype=np.float64)


def _same(got: dict, want: stats.TestResult) -> None:
    for key in ("effect", "ci_low", "ci_high", "p_value", "n_a", "n_b"):
        assert got[key] == pytest.approx(getattr(want, key), rel=1e-9, abs=1e-12), key


def test_the_report_equals_stats_on_the_same_numbers(hill) -> None:
    shop, df = hill
    r = shop.experiment_report("hillstrom")
    assert (r["traffic"], r["simulated"], r["simulated_units"], r["real_units"]) == ("real", False, 0, 2 * N)
    assert [v["units"] for v in r["variants"]] == [N, N] and r["srm"]["p_value"] == pytest.approx(1.0) and not r["srm"]["flag"]
    c, m = "No E-Mail", "Mens E-Mail"
    spend = r["metrics"]["revenue_per_user"]
    assert spend["means"] == pytest.approx({"control": _arm(df, "spend", c).mean(), "mens": _arm(df, "spend", m).mean()})
    cmp = spend["comparisons"]["mens"]
    _same(cmp["test"], stats.cuped_test(_arm(df, "spend", c), _arm(df, "history", c), _arm(df, "spend", m), _arm(df, "history", m)))
    _same(cmp["unadjusted"], stats.mean_test(_arm(df, "spend", c), _arm(df, "spend", m)))
    both = np.concatenate([_arm(df, "spend", c), _arm(df, "spend", m)])
    assert cmp["cuped"]["variance_reduction"] == pytest.approx(stats.variance_reduction(both, np.concatenate([_arm(df, "history", c),
                                                                                                             _arm(df, "history", m)])))
    conv = r["metrics"]["conversion"]
    assert conv["means"] == pytest.approx({"control": _arm(df, "conversion", c).mean(), "mens": _arm(df, "conversion", m).mean()})
    _same(conv["comparisons"]["mens"]["unadjusted"], stats.mean_test(_arm(df, "conversion", c), _arm(df, "conversion", m)))
    ones = np.ones(N)
    _same(r["metrics"]["ctr"]["comparisons"]["mens"]["test"],
          stats.ratio_test(_arm(df, "visit", c), ones, _arm(df, "visit", m), ones))
    assert r["metrics"]["add_to_cart_rate"]["means"] == {"control": 0.0, "mens": 0.0}
    for metric in ("ctr", "conversion", "revenue_per_user"):  # the always-valid interval is never narrower than the fixed one
        t, s = (r["metrics"][metric]["comparisons"]["mens"][k] for k in ("test", "always_valid"))
        assert s["ci_low"] <= t["ci_low"] <= t["ci_high"] <= s["ci_high"] and 0 <= s["p_value"] <= 1
    # the e-mail really moved visits: both tests see it (Hillstrom: 18.3 % vs 10.6 % over all customers)
    assert r["metrics"]["ctr"]["comparisons"]["mens"]["test"]["p_value"] < 1e-6
    assert r["metrics"]["ctr"]["comparisons"]["mens"]["always_valid"]["p_value"] < 0.05
    assert r["guardrails"] == [{"metric": "conversion", "variant": "mens", "max_drop": 0.5, "verdict": "pass"}]


def test_simulated_traffic_is_reported_apart(hill) -> None:
    shop, _ = hill
    before = shop.experiment_report("hillstrom")
    lines = []
    for i in range(30):
        unit = f"sim{i}"
        shop.experiments.writer.log(Exposure("hillstrom", "mens", unit, "ads", user_id=unit, ts=T0 + 1e5 + i, extra={"simulated": "1"}))
        lines.append({"id": f"simbuy{i}", "type": "purchase", "user_id": unit, "item_id": "merch", "price": 1000.0,
                      "timestamp": T0 + 1e5 + i + 1, "context": {"simulated": "1"}})
    path = Path(shop.home) / "sim.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(x) for x in lines))
    shop.import_file("events", path)
    real = shop.experiment_report("hillstrom")
    assert real["simulated_units"] == 30 and not real["simulated"]
    assert real["metrics"] == before["metrics"]  # not mixed in
    sim = shop.experiment_report("hillstrom", traffic="simulated")
    assert sim["simulated"] and [v["units"] for v in sim["variants"]] == [0, 30]
    assert sim["metrics"]["revenue_per_user"]["means"]["mens"] == pytest.approx(1000.0)
    mixed = shop.experiment_report("hillstrom", traffic="all")
    assert mixed["mixed"] and [v["units"] for v in mixed["variants"]] == [N, N + 30] and mixed["srm"]["flag"] is False


def test_an_interleaving_is_scored_from_its_teams_and_later_clicks(hill) -> None:
    """Constructed (not real) traffic: 40 units shown [p0 p1 p2 p3] with teams [0 1 0 1]; 28 click p1 (the other arm's),
    8 click p0 (control's), 4 click nothing; clicks before the exposure do not count."""
    shop, _ = hill
    _started(shop, {"id": "il", "surface": "search", "kind": "interleave",
                    "variants": [{"name": "control", "control": True}, {"name": "other"}]}, T0)
    lines = []
    for i in range(40):
        unit = f"il{i}"
        shop.experiments.writer.log(Exposure("il", "interleaved", unit, "search", user_id=unit, ts=T0 + 10,
                                             extra={"ids": ["p0", "p1", "p2", "p3"], "teams": [0, 1, 0, 1]}))
        item = "p1" if i < 28 else "p0" if i < 36 else None
        if item:
            lines.append({"id": f"ilc{i}", "type": "click", "user_id": unit, "item_id": item, "timestamp": T0 + 11})
        lines.append({"id": f"ilearly{i}", "type": "click", "user_id": unit, "item_id": "p0", "timestamp": T0 + 1})
    path = Path(shop.home) / "il.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(x) for x in lines))
    shop.import_file("events", path)
    r = shop.experiment_report("il")["interleaving"]
    assert r["impressions"] == 40 and (r["control"], r["other"]) == ("control", "other") and r["effect_label"] == "B-wins share − 0.5"
    want = interleaving_test(np.array([-1] * 28 + [1] * 8 + [0] * 4))
    _same(r["test"], want)
    assert r["test"]["effect"] == pytest.approx(28 / 36 - 0.5)


def test_an_optimized_interleaving_is_scored_from_its_credits(hill) -> None:
    """Constructed (not real) traffic: 30 units shown [p0 p1 p2] with credits [-0.5 0.5 0.25]; 12 click p1 twice, 6 click
    p1 and p2, 9 click p0, 3 click nothing (a repeated click counts once): the t-test and the always-valid test of each
    unit's summed credit."""
    shop, _ = hill
    _started(shop, {"id": "oi", "surface": "recommend:home", "kind": "interleave", "method": "optimized",
                    "variants": [{"name": "control", "control": True}, {"name": "other"}]}, T0)
    credit = {"p0": -0.5, "p1": 0.5, "p2": 0.25}
    lines, want = [], []
    for i in range(30):
        unit = f"oi{i}"
        shop.experiments.writer.log(Exposure("oi", "interleaved", unit, "recommend:home", user_id=unit, ts=T0 + 10,
                                             extra={"ids": list(credit), "credits": list(credit.values()), "method": "optimized"}))
        items = ["p1", "p1"] if i < 12 else ["p1", "p2"] if i < 18 else ["p0"] if i < 27 else []
        want.append(sum(credit[x] for x in set(items)))
        lines += [{"id": f"oic{i}-{n}", "type": "click", "user_id": unit, "item_id": x, "timestamp": T0 + 11 + n} for n, x in enumerate(items)]
    path = Path(shop.home) / "oi.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(x) for x in lines))
    shop.import_file("events", path)
    r = shop.experiment_report("oi")["interleaving"]
    assert r["impressions"] == 30 and r["method"] == "optimized" and r["effect_label"] == "mean click credit per unit (B − A)"
    _same(r["test"], interleaving_t_test(np.array(want)))
    _same(r["always_valid"], stats.msprt_mean(np.array(want)))
    assert r["test"]["effect"] == pytest.approx((12 * 0.5 + 6 * 0.75 - 9 * 0.5) / 30)

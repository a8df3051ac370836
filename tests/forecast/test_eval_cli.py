"""`shopmind eval forecast`: the contract (last JSON line) and selection that never reads the test window."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner

from shopmind.cli import app as cli
from shopmind.forecast.data import Panel
from shopmind.forecast.selection import evaluate

pytestmark = pytest.mark.integration  # model selection by rolling origin on real series


def test_eval_forecast_prints_the_contract_last(tmp_path, oj_frame):
    path = tmp_path / "oj.csv"
    oj_frame.to_csv(path, index=False)
    args = ["eval", "forecast", "--sales", str(path), "--id-cols", "store,brand", "--time-col", "week", "--target", "units",
            "--test-from", "127", "--horizon", "2", "--models", "naive,lightgbm", "--validation", "6", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    out = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert {"mape", "wape", "smape", "coverage", "model"} <= set(out)
    assert out["model"] == "lightgbm" and out["validation"]["lightgbm"]["mape"] < out["validation"]["naive"]["mape"]
    # every target week 127–136 scored from the origins 1 and 2 weeks before it
    observed = int(oj_frame[oj_frame.week >= 127].shape[0])
    assert observed * 2 - 5 <= out["rows"] <= observed * 2
    assert 0 < out["mape"] < 100 and 60 <= out["coverage"] <= 95


def test_eval_forecast_names_bad_arguments(tmp_path, oj_frame):
    path = tmp_path / "oj.csv"
    oj_frame.head(500).to_csv(path, index=False)
    base = ["eval", "forecast", "--sales", str(path), "--time-col", "week", "--target", "units", "--test-from", "60"]
    missing = CliRunner().invoke(cli, [*base, "--id-cols", "store,shelf"])
    assert missing.exit_code == 2 and "shelf" in missing.output
    unknown = CliRunner().invoke(cli, [*base, "--id-cols", "store,brand", "--models", "naive,prophet"])
    assert unknown.exit_code == 2 and "prophet" in unknown.output
    late = CliRunner().invoke(cli, [*base, "--id-cols", "store,brand", "--test-from", "999"])
    assert late.exit_code == 2 and "999" in late.output


def test_selection_never_reads_the_test_window(oj_panel):
    """Scrambling every week from T on changes the test score, never the validation scores, choice or shrink."""
    kwargs = {"test_from": 131, "horizon": 1, "models": ("naive", "seasonal_naive", "lightgbm"), "validation": 4}
    clean = evaluate(oj_panel, **kwargs)
    y = oj_panel.y.copy()
    y[:, oj_panel.index_of(131):] = np.round(y[:, oj_panel.index_of(131):] * 7 + 3)
    scrambled = evaluate(Panel(**{**oj_panel.__dict__, "y": y}), **kwargs)
    assert scrambled["validation"] == clean["validation"]
    assert scrambled["model"] == clean["model"] and scrambled["lightgbm_shrink"] == clean["lightgbm_shrink"]
    assert scrambled["mape"] != clean["mape"]

"""Calibration on real scores: a relevance classifier trained on Home Depot judgments, its map fitted on held-out
queries and checked on others."""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.ranking import calibration as cal
from shopmind.ranking.gbm import GBM
from tests.ranking.conftest import HD_FEATURES


@pytest.fixture(scope="module")
def scored(hd_ltr):
    """Raw scores and labels (grade ≥ 2) of the valid and test queries, from a classifier fitted on train only."""
    tr = hd_ltr["train"]
    clf = GBM.train(tr.X, (tr.y >= 2).astype(float), features=HD_FEATURES, params={"num_leaves": 15, "learning_rate": 0.1},
                    objective="binary", rounds=80)
    return {k: (clf.predict(hd_ltr[k].X, raw_score=True), (hd_ltr[k].y >= 2).astype(float)) for k in ("valid", "test")}


@pytest.mark.parametrize(("min_pos", "method"), [(10, "isotonic"), (10**9, "platt")])
def test_maps_are_monotone_and_match_held_out_rates(scored, min_pos, method):
    (sv, yv), (st, yt) = scored["valid"], scored["test"]
    m = cal.fit_calibration(sv, yv, isotonic_min_positives=min_pos)
    assert m["method"] == method
    grid = np.linspace(st.min() - 1, st.max() + 1, 500)
    p = cal.calibrate(m, grid)
    assert np.all(np.diff(p) >= 0) and p.min() >= 0 and p.max() <= 1
    pt = cal.calibrate(m, st)
    assert abs(pt.mean() - yt.mean()) < 0.03  # the test queries' relevant share, from a map fitted on others
    weighted, _ = cal.calibration_error(pt, yt, bins=5)
    assert weighted < 0.1


def test_calibration_table_counts_every_positive(scored):
    st, yt = scored["test"]
    p = cal.calibrate(cal.fit_calibration(*scored["valid"]), st)
    table = cal.calibration_table(p, yt, bins=5)
    assert sum(r["n"] for r in table) == len(yt) and sum(r["clicks"] for r in table) == int(yt.sum())
    assert [r["predicted"] for r in table] == sorted(r["predicted"] for r in table)
    assert table[-1]["observed"] > table[0]["observed"]  # higher scores are relevant more often


def test_unknown_method_is_an_error():
    with pytest.raises(ValueError, match="sigmoid"):
        cal.calibrate({"method": "sigmoid"}, np.zeros(3))


def test_ads_keeps_the_names_it_imported_from_here():
    import shopmind.ads.ctr as ctr
    from shopmind.ranking import metrics

    for name in ("isotonic_fit", "platt_fit", "wilson_interval", "calibration_table", "calibration_error", "hosmer_lemeshow"):
        assert getattr(ctr, name) is getattr(cal, name)
    assert ctr.auc is metrics.auc

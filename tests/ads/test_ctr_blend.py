"""pCTR calibration sanity (isotonic, Platt, end to end on draws from a known model) and blending."""

from __future__ import annotations

import numpy as np
import pytest

from shopmind.ads.blend import blend
from shopmind.ads.ctr import (
    N_FEATURES,
    CtrModel,
    auc,
    calibration_error,
    calibration_table,
    hosmer_lemeshow,
    isotonic_fit,
    platt_fit,
)
from shopmind.ads.models import AdSlot


def test_isotonic_is_monotone_and_matches_rates():
    rng = np.random.default_rng(0)
    s = rng.random(20_000)
    y = (rng.random(len(s)) < 0.2 * s).astype(float)  # true CTR rises linearly with the score
    kx, ky = isotonic_fit(s, y)
    assert np.all(np.diff(ky) >= 0) and np.all(np.diff(kx) >= 0)
    pred = np.interp(s, kx, ky)
    assert abs(pred.mean() - y.mean()) < 0.01 * y.mean()  # block means keep the overall rate
    assert abs(float(np.interp(0.5, kx, ky)) - 0.1) < 0.02  # and track the true curve


def test_platt_recovers_a_known_logistic_map():
    rng = np.random.default_rng(1)
    s = rng.normal(size=50_000)
    y = (rng.random(len(s)) < 1 / (1 + np.exp(-(1.5 * s - 3.0)))).astype(float)
    a, b = platt_fit(s, y)
    assert abs(a - 1.5) < 0.1 and abs(b + 3.0) < 0.1


@pytest.mark.integration
def test_ctr_model_is_calibrated_on_fresh_draws():
    rng = np.random.default_rng(2)

    def draw(n):
        X = rng.normal(size=(n, N_FEATURES))
        p = 1 / (1 + np.exp(-(X[:, 2] + 0.5 * X[:, 9] - 3.5)))  # ~4 % CTR, two informative features
        return X, (rng.random(n) < p).astype(float), p

    X, y, _ = draw(40_000)
    model = CtrModel.fit(X, y, groups=np.arange(len(y)) % 997, rounds=80)
    Xt, yt, pt = draw(40_000)
    pred = model.predict(Xt)
    assert auc(pred, yt) > 0.75
    weighted, _ = calibration_error(pred, yt)
    assert weighted < 0.15
    assert abs(pred.mean() - pt.mean()) / pt.mean() < 0.1


def test_calibration_table_counts_clicks_and_flags_gaps_beyond_noise():
    """Per decile: clicks add up, a calibrated model sits inside the 95 % intervals, a 2x overestimate does not."""
    rng = np.random.default_rng(3)
    p = np.exp(rng.normal(np.log(0.01), 1.0, 60_000)).clip(0, 0.5)
    y = (rng.random(len(p)) < p).astype(float)
    users = rng.integers(0, 2_000, len(p))
    good = calibration_table(p, y, groups=users)
    assert sum(r["clicks"] for r in good) == int(y.sum()) and all("ci95_users" in r for r in good)
    assert sum(r["within_ci"] for r in good) >= 8  # 95 % intervals: one or two misses by chance at most
    assert all(r["noise_rel"] > 0 for r in good) and good[0]["noise_rel"] > good[-1]["noise_rel"]  # few clicks, wide
    bad = calibration_table(2 * p, y)
    assert not any(r["within_ci"] for r in bad[5:])  # where clicks are plenty, a 2x error is no noise


@pytest.mark.integration
def test_hosmer_lemeshow_passes_calibrated_draws_and_rejects_a_bias():
    """Labels drawn from the predictions pass (chi-square and bootstrap p-values agree); a 1.5x bias does not."""
    rng = np.random.default_rng(4)
    p = np.exp(rng.normal(np.log(0.01), 1.0, 60_000)).clip(0, 0.5)
    y = (rng.random(len(p)) < p).astype(float)
    good = hosmer_lemeshow(p, y, boot=500)
    assert good["df"] == 10 and good["bins"] == 10 and good["bootstrap_draws"] == 500
    assert good["p_value"] > 0.01 and good["p_value_bootstrap"] > 0.01
    assert abs(good["p_value"] - good["p_value_bootstrap"]) < 0.15  # plenty of expected clicks per bin: χ² holds
    bad = hosmer_lemeshow(1.5 * p, y, boot=500)
    assert bad["p_value"] < 1e-3 and bad["p_value_bootstrap"] <= 2 / 501
    assert hosmer_lemeshow(p, y, fitted=2, boot=10)["df"] == 8


def _ad(item: str, pos: int) -> AdSlot:
    return AdSlot(campaign_id="c", advertiser="a", item_id=item, position=pos, bid_type="cpc", bid=1.0, price=0.5,
                  pctr=0.01, ecpm=10.0, relevance=0.9, token="t", reason="r")


def test_blend_puts_labelled_ads_at_fixed_slots():
    organic = [{"item_id": f"m{i}"} for i in range(1, 7)]
    out = blend(organic, [_ad("m9", 0), _ad("m3", 1), _ad("m8", 2)], slots=(0, 3))
    assert [(b.item_id, b.sponsored) for b in out] == [
        ("m9", True), ("m1", False), ("m2", False), ("m3", True), ("m4", False), ("m5", False), ("m6", False)]
    assert [b.position for b in out] == list(range(7))  # m3's organic copy is gone; the third ad has no slot
    assert out[0].ad is not None and out[1].organic == {"item_id": "m1"}
    assert len(blend(organic, [_ad("m9", 0)], slots=(10,))) == 6  # a slot past the end is not padded with ads
    assert [b.sponsored for b in blend(organic, [_ad("m9", 0)], slots=(2,), limit=3)] == [False, False, True]

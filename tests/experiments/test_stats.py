"""shopmind.experiments.stats checked against tea-tasting and scipy on the real Hillstrom e-mail experiment, and the
mSPRT's error rate under peeking on A/A tests resampled from Hillstrom's real spend (simulated experiments, real data)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import tea_tasting as tt  # the test extra installs it: these checks are the point of this file
from scipy import integrate
from scipy import stats as sps

from shopmind.evaluation.experiments_data import hillstrom_arm, load_hillstrom
from shopmind.experiments import stats as st

CONTROL, MENS, WOMENS = "No E-Mail", "Mens E-Mail", "Womens E-Mail"


@pytest.fixture(scope="module")
def hill(shared_data):
    return load_hillstrom(shared_data / "experiments" / "hillstrom" / "hillstrom.csv")


def _arms(hill, treatment: str, rows: int | None):
    """Control and treatment slices of every column; rows = the first N customers of each arm (a real slice)."""
    pick = lambda arm: {k: v[hill["segment"] == arm][:rows] for k, v in hill.items()}
    return pick(CONTROL), pick(treatment)


def _tea(metric, a: dict, b: dict):
    cols = {k: np.concatenate([a[k], b[k]]) for k in ("visit", "conversion", "spend", "history")}
    cols["variant"] = np.r_[np.zeros(len(a["spend"]), int), np.ones(len(b["spend"]), int)]
    # A pandas frame: through narwhals, a pyarrow table's per-group `mean().over()` (tea-tasting's demeaning step)
    # gave variances that changed from run to run (seen with tea-tasting 1.12-1.14 and narwhals 2.29).
    return tt.Experiment(m=metric).analyze(pd.DataFrame(cols), control=0)["m"]


def _close(ours: float | None, theirs: float) -> None:
    assert ours is not None
    assert math.isclose(ours, theirs, rel_tol=1e-6, abs_tol=1e-12), (ours, theirs)


def _same(res: st.TestResult, ref) -> None:
    _close(res.effect, ref.effect_size)
    _close(res.ci_low, ref.effect_size_ci_lower)
    _close(res.ci_high, ref.effect_size_ci_upper)
    _close(res.p_value, ref.pvalue)
    _close(res.rel_effect, ref.rel_effect_size)
    _close(res.rel_ci_low, ref.rel_effect_size_ci_lower)
    _close(res.rel_ci_high, ref.rel_effect_size_ci_upper)
    _close(res.mean_a, ref.control)
    _close(res.mean_b, ref.treatment)


# Full arms (p-values near 0) and the first 3,000 customers of each arm (moderate p-values: a sharper check).
SLICES = [(MENS, None), (WOMENS, None), (MENS, 3000), (WOMENS, 3000)]


@pytest.mark.parametrize("metric", ["visit", "conversion", "spend"])
@pytest.mark.parametrize(("treatment", "rows"), SLICES)
def test_mean_test_matches_tea_tasting(hill, metric, treatment, rows):
    a, b = _arms(hill, treatment, rows)
    _same(st.mean_test(a[metric], b[metric]), _tea(tt.Mean(metric), a, b))


@pytest.mark.parametrize(("num", "den"), [("spend", "visit"), ("conversion", "visit"), ("spend", "conversion")])
@pytest.mark.parametrize(("treatment", "rows"), SLICES)
def test_ratio_test_matches_tea_tasting_ratio_of_means(hill, num, den, treatment, rows):
    """Spend per visit, conversions per visit, spend per order: ratios of per-customer sums, delta method."""
    a, b = _arms(hill, treatment, rows)
    _same(st.ratio_test(a[num], a[den], b[num], b[den]), _tea(tt.RatioOfMeans(num, den), a, b))


@pytest.mark.parametrize("metric", ["visit", "conversion", "spend"])
@pytest.mark.parametrize(("treatment", "rows"), SLICES)
def test_cuped_test_matches_tea_tasting_cuped(hill, metric, treatment, rows):
    a, b = _arms(hill, treatment, rows)
    res = st.cuped_test(a[metric], a["history"], b[metric], b["history"])
    _same(res, _tea(tt.Mean(metric, covariate="history"), a, b))
    plain = st.mean_test(a[metric], b[metric])
    assert res.ci_high - res.ci_low < plain.ci_high - plain.ci_low  # history explains a little: a narrower interval


def test_cuped_keeps_the_mean_and_removes_explained_variance(hill):
    y, x = hill["visit"], hill["history"]
    adj, theta = st.cuped(y, x)
    assert math.isclose(adj.mean(), y.mean(), rel_tol=1e-12)
    assert math.isclose(theta, np.cov(y, x)[0, 1] / x.var(ddof=1), rel_tol=1e-12)
    assert math.isclose(st.variance_reduction(y, x), np.corrcoef(y, x)[0, 1] ** 2, rel_tol=1e-9)
    multi, thetas = st.cuped_multi(y, x[:, None])  # one column: the same as the single-covariate form
    assert np.allclose(multi, adj) and math.isclose(float(thetas[0]), theta, rel_tol=1e-9)


def test_srm_pvalue_matches_scipy_on_hillstrom_arms(hill):
    counts = [int((hill["segment"] == arm).sum()) for arm in (CONTROL, MENS, WOMENS)]
    assert counts == [21306, 21307, 21387]
    p = st.srm_pvalue(counts, [1, 1, 1])
    assert math.isclose(p, sps.chisquare(counts).pvalue, rel_tol=1e-12)
    assert p > 0.05  # randomised in thirds: no mismatch (p ≈ 0.91)
    # Losing 5 % of one arm's non-visitors (say, a logging bug on one variant) is a mismatch the check must catch.
    lost = np.flatnonzero((hill["segment"] == MENS) & (hill["visit"] == 0))[:: 20].size
    assert st.srm_pvalue([counts[0], counts[1] - lost, counts[2]], [1, 1, 1]) < 1e-3
    assert math.isclose(st.srm_pvalue([900, 100], [0.9, 0.1]), 1.0) and st.srm_pvalue([0, 0], [1, 1]) == 1.0


@pytest.mark.parametrize(("d", "v", "tau2"), [(0.3, 0.02, 0.5), (-0.05, 0.01, 0.01), (0.0, 1.0, 4.0), (1.2, 0.3, 0.09)])
def test_msprt_statistic_equals_the_mixture_integral(d, v, tau2):
    """Λ in closed form equals ∫ N(d; θ, V) / N(d; 0, V) dN(θ; 0, τ²) computed numerically."""
    sd, width = math.sqrt(v), 12 * (math.sqrt(v) + math.sqrt(tau2)) + abs(d)
    integrand = lambda t: sps.norm.pdf(d, t, sd) / sps.norm.pdf(d, 0, sd) * sps.norm.pdf(t, 0, math.sqrt(tau2))
    lam = integrate.quad(integrand, -width, width, points=[0, d], limit=200)[0]
    p, half = st._msprt_core(np.array(d), np.array(v), tau2, 0.05)
    assert math.isclose(float(p), min(1.0, 1 / lam), rel_tol=1e-6)
    # the interval's edges are where the statistic for the shifted null reaches 1/alpha
    edge = st._msprt_core(np.array(float(half)), np.array(v), tau2, 0.05)[0]
    assert math.isclose(float(edge), 0.05, rel_tol=1e-9)


def _peeking_rates(pop_a: np.ndarray, pop_b: np.ndarray, runs: int, n: int, looks: int, seed: int):
    """Resample `runs` experiments of n units per arm from real populations; reject if any look rejects."""
    rng = np.random.default_rng(seed)
    rej_m = rej_t = rej_final = 0
    for chunk in range(0, runs, 250):
        r = min(250, runs - chunk)
        a, b = rng.choice(pop_a, (r, n)), rng.choice(pop_b, (r, n))
        path = st.msprt_path(a, b, looks=looks)
        assert np.all(path.p_value[:, 1:] <= path.p_value[:, :-1])  # never increases; the interval never widens
        assert np.all(path.ci_low[:, 1:] >= path.ci_low[:, :-1]) and np.all(path.ci_high[:, 1:] <= path.ci_high[:, :-1])
        rej_m += int((path.p_value[:, -1] <= 0.05).sum())
        # naive fixed-horizon Welch t-test at every look (the peeking the mSPRT is for)
        ma, va = st._cum_moments(a, path.n_a)
        mb, vb = st._cum_moments(b, path.n_b)
        se2a, se2b = va / path.n_a, vb / path.n_b
        with np.errstate(divide="ignore", invalid="ignore"):  # no purchase yet in either arm: NaN, no rejection
            df = (se2a + se2b) ** 2 / (se2a**2 / (path.n_a - 1) + se2b**2 / (path.n_b - 1))
            p_t = 2 * sps.t.sf(np.abs(mb - ma) / np.sqrt(se2a + se2b), df)
        rej_t += int((p_t <= 0.05).any(axis=1).sum())
        rej_final += int((p_t[:, -1] <= 0.05).sum())
    return rej_m / runs, rej_t / runs, rej_final / runs


def test_msprt_aa_peeking_keeps_alpha_where_the_t_test_does_not(hill):
    """1,000 simulated A/A tests resampled from the real no-e-mail customers' spend, 20 looks of 250 per arm."""
    spend = hillstrom_arm(hill, CONTROL, "spend")
    runs = 1000
    msprt_rate, t_rate, _ = _peeking_rates(spend, spend, runs, n=5000, looks=20, seed=17)
    mc = 3 * math.sqrt(0.05 * 0.95 / runs)
    assert msprt_rate <= 0.05 + mc, msprt_rate
    assert t_rate > 0.05 + mc, t_rate  # peeking at a t-test inflates the error


def test_msprt_detects_the_real_mens_email_effect_on_spend(hill):
    """Power on a real shift: experiments resampled from the Mens and no-e-mail arms at their real size."""
    a, b = hillstrom_arm(hill, CONTROL, "spend"), hillstrom_arm(hill, MENS, "spend")
    power, _, fixed = _peeking_rates(a, b, runs=100, n=a.size, looks=20, seed=3)
    assert power >= 0.8, (power, fixed)
    res = st.msprt(a, b)
    assert res.p_value < 0.05 and res.ci_low > 0 and res.ci_low <= res.effect <= res.ci_high
    fixed_h = st.mean_test(a, b)
    assert res.ci_high - res.ci_low > fixed_h.ci_high - fixed_h.ci_low  # always-valid intervals are wider


def test_degenerate_inputs_give_no_nans():
    empty = st.mean_test([], [])
    assert (empty.effect, empty.p_value, empty.ci_low, empty.ci_high) == (0.0, 1.0, -math.inf, math.inf)
    assert empty.to_dict()["ci_low"] is None
    one = st.mean_test([3.0], [1.0, 2.0])
    assert one.p_value == 1.0 and one.effect == -1.5
    zeros = st.mean_test(np.zeros(50), np.zeros(40))
    assert (zeros.effect, zeros.p_value, zeros.ci_low, zeros.ci_high, zeros.rel_effect) == (0.0, 1.0, 0.0, 0.0, None)
    const = st.mean_test(np.ones(5), np.full(5, 2.0))
    assert const.p_value == 0.0 and const.rel_effect == 1.0
    no_den = st.ratio_test(np.zeros(10), np.zeros(10), np.ones(10), np.ones(10))
    assert no_den.p_value == 1.0 and no_den.n_a == 0
    for res in (st.msprt([], []), st.msprt(np.zeros(30), np.zeros(30)), st.cuped_test([1.0], [2.0], [1.0], [3.0])):
        assert not any(isinstance(v, float) and math.isnan(v) for v in res.to_dict().values())
    path = st.msprt_path(np.zeros(100), np.zeros(100), looks=10)
    assert np.all(path.p_value == 1.0) and not np.isnan(path.ci_low).any()
    with pytest.raises(ValueError):
        st.mean_test([1.0, math.nan], [1.0, 2.0])
    with pytest.raises(ValueError):
        st.ratio_test([1, 2], [1], [1, 2], [1, 2])
    with pytest.raises(ValueError):
        st.srm_pvalue([10, 10], [1, 0])


def test_guardrail_verdicts(hill):
    a, b = _arms(hill, MENS, None)
    up = st.mean_test(a["visit"], b["visit"])  # the Mens e-mail raises visits by ~7.7 points
    assert st.guardrail_check(up, max_harm=0.0) == "pass"
    down = st.mean_test(b["visit"], a["visit"])  # the same comparison read the other way: a large harm
    assert st.guardrail_check(down, max_harm=0.01) == "fail"
    assert st.guardrail_check(down, max_harm=0.2) == "pass"  # harm certainly below 20 points
    assert st.guardrail_check(down, max_harm=0.01, higher_is_better=False) == "pass"
    assert st.guardrail_check(down, max_harm=0.05, relative=True) == "fail"  # ~−42 % relative
    small = st.mean_test(a["conversion"][:500], b["conversion"][:500])
    assert st.guardrail_check(small, max_harm=0.001) == "inconclusive"


def test_each_vs_control_adjusts_for_several_variants(hill):
    a, b = _arms(hill, MENS, 3000)
    _, w = _arms(hill, WOMENS, 3000)
    single = {name: st.mean_test(a["spend"], v["spend"]) for name, v in (("mens", b), ("womens", w))}
    res = st.each_vs_control(a["spend"], {"mens": b["spend"], "womens": w["spend"]})
    assert np.allclose([res[k].p_value for k in single], st.holm([single[k].p_value for k in single]))
    for k in single:  # Bonferroni intervals: wider than one comparison's
        assert res[k].ci_low < single[k].ci_low and res[k].ci_high > single[k].ci_high and res[k].alpha == 0.05
    ratio = st.each_vs_control((a["spend"], a["visit"]), {"mens": (b["spend"], b["visit"])}, test=st.ratio_test)
    assert ratio["mens"] == st.ratio_test(a["spend"], a["visit"], b["spend"], b["visit"])
    assert np.allclose(st.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])


def test_power_sample_size_matches_tea_tasting(hill):
    a, _ = _arms(hill, MENS, None)
    sd = float(a["visit"].std(ddof=1))
    n = st.power_sample_size(0.01, sd)
    cols = {"visit": a["visit"], "variant": np.zeros(a["visit"].size, int)}
    ref = tt.Mean("visit", effect_size=0.01, use_t=False).solve_power(pd.DataFrame(cols), "n_obs")[0].n_obs
    assert abs(2 * n - ref) <= 2, (n, ref)


def test_one_sample_msprt_is_the_mixture_statistic_and_keeps_alpha_under_peeking(hill):
    """msprt_mean is the same mixture statistic on a mean and its standard error; peeking at it every 100 units of
    1,000 resampled zero-mean draws (real pre-period spend, centred) keeps the error at alpha, where a t-test at each
    look does not."""
    spend = hillstrom_arm(hill, CONTROL, "history")
    x = np.random.default_rng(5).choice(spend, 800)
    res = st.msprt_mean(x, tau2=0.2)
    p, half = st._msprt_core(np.array(x.mean()), np.array(x.var(ddof=1) / x.size), 0.2, 0.05)
    assert math.isclose(res.p_value, float(p)) and math.isclose(res.ci_high - res.effect, float(half))
    assert res.p_value >= sps.ttest_1samp(x, 0.0).pvalue  # always valid costs power at a fixed look
    rng = np.random.default_rng(9)
    runs, looks = 400, range(100, 1001, 100)
    centred = spend - spend.mean()
    rej_m = rej_t = 0
    for _ in range(runs):
        draw = rng.choice(centred, 1000)
        tau2 = 0.01 * centred.var()  # fixed up front, as a strict guarantee needs
        rej_m += any(st.msprt_mean(draw[:n], tau2=tau2).p_value <= 0.05 for n in looks)
        rej_t += any(sps.ttest_1samp(draw[:n], 0.0).pvalue <= 0.05 for n in looks)
    mc = 3 * math.sqrt(0.05 * 0.95 / runs)
    assert rej_m / runs <= 0.05 + mc and rej_t / runs > 0.05 + mc, (rej_m, rej_t)

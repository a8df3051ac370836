"""Off-policy estimators on real logs: the Open Bandit Dataset sample and the Hillstrom randomised e-mail experiment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyarrow import csv

from shopmind.experiments import ope


def _obd(root: Path, policy: str, campaign: str) -> ope.LoggedBandit:
    base = root / "experiments" / "obd" / policy / campaign
    n_items = csv.read_csv(base / "item_context.csv").num_rows
    return ope.from_obd_frame(csv.read_csv(base / f"{campaign}.csv.gz"), n_actions=n_items)


@pytest.fixture(scope="module")
def hillstrom(shared_data: Path) -> ope.LoggedBandit:
    """Hillstrom as a logged bandit: arm 0 none / 1 mens / 2 womens e-mail, assigned uniformly (propensity 1/3), reward visit."""
    t = csv.read_csv(shared_data / "experiments" / "hillstrom" / "hillstrom.csv")
    arm = np.asarray(t["segment"]).astype(str)
    actions = np.select([arm == "Mens E-Mail", arm == "Womens E-Mail"], [1, 2], 0)
    hist = np.asarray(t["history"]).astype(float)
    ctx = np.column_stack([np.log1p(hist), np.asarray(t["recency"]) / 12.0, np.asarray(t["mens"]), np.asarray(t["womens"]),
                           np.asarray(t["newbie"])]).astype(float)
    n = len(actions)
    return ope.LoggedBandit(actions, np.zeros(n, np.int64), np.asarray(t["visit"]).astype(float), np.full(n, 1 / 3), 3, 1, ctx)


def _close(est: ope.OPEEstimate, truth: ope.OPEEstimate, z: float = 1.96) -> bool:
    """The estimate agrees with an on-policy value measured on its own (noisy) log, within both standard errors."""
    return abs(est.value - truth.value) <= z * float(np.hypot(est.se, truth.se))


def test_uniform_policy_on_its_own_log_is_the_on_policy_ctr(shared_data: Path) -> None:
    log = _obd(shared_data, "random", "all")
    truth = ope.on_policy(log.rewards)
    uniform = ope.uniform_policy(log.n_actions, log.n_positions)
    est = ope.evaluate(log, uniform)
    assert est["ips"].value == pytest.approx(truth.value, rel=1e-12)  # weights are exactly 1: IPS is the log's mean
    assert est["snips"].value == pytest.approx(truth.value, rel=1e-12)
    assert est["ips"].ess == pytest.approx(log.n) and est["ips"].max_weight == pytest.approx(1.0)
    assert est["dr"].ci_low <= truth.value <= est["dr"].ci_high
    assert est["ips"].ci_low < truth.value < est["ips"].ci_high and est["ips"].se > 0


@pytest.mark.parametrize("campaign", ["men", "women"])
def test_uniform_policy_from_the_bts_log_matches_the_random_log(shared_data: Path, campaign: str) -> None:
    """Real logging propensities: the uniform policy's CTR estimated from the Thompson-sampling log (weights up to
    hundreds) agrees with the CTR the uniform policy really had in its own log."""
    bts, rnd = _obd(shared_data, "bts", campaign), _obd(shared_data, "random", campaign)
    truth = ope.on_policy(rnd.rewards)
    est = ope.evaluate(bts, ope.uniform_policy(bts.n_actions, bts.n_positions), estimators=("ips", "snips"))
    for e in est.values():
        assert _close(e, truth), (campaign, e, truth)
        assert e.ess < bts.n / 5  # uneven weights: far fewer effective rounds than logged


def test_snips_normalisation(hillstrom: ope.LoggedBandit) -> None:
    """SNIPS of 'always send the mens e-mail' is that arm's mean exactly; scaling the target leaves SNIPS unchanged."""
    always_mens = np.zeros(3)
    always_mens[1] = 1.0
    mens_mean = float(hillstrom.rewards[hillstrom.actions == 1].mean())
    s = ope.snips(hillstrom, always_mens)
    assert s.value == pytest.approx(mens_mean, rel=1e-12)
    i = ope.ips(hillstrom, always_mens)
    share = float((hillstrom.actions == 1).mean())
    assert i.value == pytest.approx(mens_mean * share * 3, rel=1e-12)  # IPS carries the arm's realised share (≈ 1/3)
    assert ope.snips(hillstrom, 0.5 * always_mens).value == pytest.approx(s.value, rel=1e-12)
    assert ope.ips(hillstrom, 0.5 * always_mens).value == pytest.approx(0.5 * i.value, rel=1e-12)
    assert s.ci_low < mens_mean < s.ci_high and s.se < i.se


def test_dr_with_the_true_reward_model_has_lower_variance(hillstrom: ope.LoggedBandit) -> None:
    """Semi-synthetic (labelled): real customers and real random arms, visits drawn from a known model q; DR given q
    itself is unbiased with a smaller standard error than IPS, for a targeting policy."""
    q = ope.fit_reward_model(hillstrom, folds=2)
    rng = np.random.default_rng(0)
    visits = (rng.random(hillstrom.n) < q[np.arange(hillstrom.n), hillstrom.actions]).astype(float)
    sim = ope.LoggedBandit(hillstrom.actions, hillstrom.positions, visits, hillstrom.pscore, 3, 1, hillstrom.context)
    target = np.zeros((sim.n, 3))  # mens e-mail to past mens buyers, womens e-mail to the others
    target[np.arange(sim.n), np.where(sim.context[:, 2] > 0, 1, 2)] = 1.0
    truth = float((target * q).sum(axis=1).mean())
    d, i = ope.dr(sim, target, q_hat=q), ope.ips(sim, target)
    assert d.ci_low <= truth <= d.ci_high and i.ci_low <= truth <= i.ci_high
    assert d.se < 0.97 * i.se
    bad = ope.dr(sim, target, q_hat=np.zeros_like(q))  # a useless model: DR falls back to IPS exactly
    assert bad.value == pytest.approx(i.value) and bad.se == pytest.approx(i.se)


def test_clipping_and_effective_sample_size(shared_data: Path) -> None:
    bts = _obd(shared_data, "bts", "men")
    uniform = ope.uniform_policy(bts.n_actions, bts.n_positions)
    w, clipped = ope.importance_weights(bts, uniform)
    assert clipped == 0 and ope.effective_sample_size(np.ones(50)) == pytest.approx(50)
    c = ope.ips(bts, uniform, clip=10.0)
    assert c.max_weight == 10.0 and c.clipped == int((w > 10).sum()) > 0
    assert c.ess > ope.effective_sample_size(w)  # clipping trades bias for a larger effective sample
    with pytest.raises(ValueError):
        ope.LoggedBandit(bts.actions, bts.positions, bts.rewards, np.zeros(bts.n), bts.n_actions, 3)

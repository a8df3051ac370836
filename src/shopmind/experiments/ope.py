"""Off-policy evaluation: the value (e.g. CTR) a target policy would have had, from a log of another policy's choices.

Input is a logged bandit (`LoggedBandit`): per round the action shown, its slot, the reward and the logging policy's
propensity of that action in that slot. Slates are handled position-wise, as obp does for the Open Bandit Dataset:
each (impression, slot) is one round, the propensity is the probability of that item in that slot, the target
policy gives a distribution over items per slot, and the value is the mean reward per slot (CTR). Estimators
(Dudík et al. 2011; Swaminathan & Joachims 2015): IPS, self-normalised IPS and doubly robust, each with an
asymptotic normal (1 − alpha) interval from its per-round contributions (SNIPS: delta method), optional weight
clipping, and the effective sample size of the weights. The DR reward model (`fit_reward_model`) is an L2 logistic
regression, additive in context, action, slot and an optional per-action affinity, cross-fitted over folds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import optimize
from scipy import stats as sps


@dataclass(frozen=True)
class LoggedBandit:
    """Logged rounds: action index, slot (0-based), reward, propensity of the action in that slot, optional features."""

    actions: np.ndarray
    positions: np.ndarray
    rewards: np.ndarray
    pscore: np.ndarray
    n_actions: int
    n_positions: int = 1
    context: np.ndarray | None = None  # (n, d) features of the round, for the reward model
    affinity: np.ndarray | None = None  # (n, n_actions) per-action features of the round (e.g. past clicks on the item)

    def __post_init__(self) -> None:
        n = len(self.actions)
        for name in ("positions", "rewards", "pscore"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} rows for {n} actions")
        if n and (np.any(self.pscore <= 0) or np.any(self.pscore > 1)):
            raise ValueError("propensities must lie in (0, 1]")
        if n and (self.actions.min() < 0 or self.actions.max() >= self.n_actions):
            raise ValueError("an action index is outside 0..n_actions-1")

    @property
    def n(self) -> int:
        return len(self.actions)

    def subset(self, rows: np.ndarray) -> LoggedBandit:
        """The rounds at `rows` (an index or boolean mask)."""
        pick = (lambda a: None if a is None else a[rows])
        return LoggedBandit(self.actions[rows], self.positions[rows], self.rewards[rows], self.pscore[rows], self.n_actions,
                            self.n_positions, pick(self.context), pick(self.affinity))


@dataclass(frozen=True)
class OPEEstimate:
    """One estimate of the target policy's value with its interval and weight diagnostics."""

    estimator: str
    value: float
    ci_low: float
    ci_high: float
    se: float
    n: int
    ess: float  # effective sample size of the importance weights, (Σw)² / Σw²
    max_weight: float
    clipped: int  # rounds whose weight was clipped

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 8) if isinstance(v, float) else v) for k, v in asdict(self).items()}


# ------------------------------------------------------------------------------------------- weights
def target_probs(data: LoggedBandit, action_dist: np.ndarray) -> np.ndarray:
    """π_e(logged action | round, slot) from an action distribution of shape (A,), (A, K), (n, A) or (n, A, K)."""
    d = np.asarray(action_dist, np.float64)
    a, k, rows = data.actions, data.positions, np.arange(data.n)
    if d.ndim == 1:
        return d[a]
    if d.ndim == 2 and d.shape == (data.n_actions, data.n_positions) and d.shape[0] != data.n:
        return d[a, k]
    if d.ndim == 2:
        return d[rows, a]
    return d[rows, a, k]


def dist_at_slot(data: LoggedBandit, action_dist: np.ndarray) -> np.ndarray:
    """The target's (n, A) distribution over actions in each round's logged slot."""
    d = np.asarray(action_dist, np.float64)
    if d.ndim == 1:
        return np.broadcast_to(d, (data.n, data.n_actions))
    if d.ndim == 2 and d.shape == (data.n_actions, data.n_positions) and d.shape[0] != data.n:
        return d[:, data.positions].T
    if d.ndim == 2:
        return d
    return d[np.arange(data.n), :, data.positions]


def importance_weights(data: LoggedBandit, action_dist: np.ndarray, clip: float | None = None) -> tuple[np.ndarray, int]:
    """w = π_e / π_0 per round, clipped at `clip` when given (bias for variance); also how many were clipped."""
    w = target_probs(data, action_dist) / data.pscore
    if clip is None:
        return w, 0
    return np.minimum(w, clip), int((w > clip).sum())


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective sample size of importance weights: n when all weights are equal, small when a few dominate."""
    s2 = float(np.square(w).sum())
    return float(w.sum()) ** 2 / s2 if s2 > 0 else 0.0


def _interval(value: float, contrib: np.ndarray, alpha: float) -> tuple[float, float, float]:
    n = len(contrib)
    se = float(contrib.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    z = float(sps.norm.ppf(1 - alpha / 2))
    return value - z * se, value + z * se, se


def _estimate(name: str, value: float, contrib: np.ndarray, w: np.ndarray, clipped: int, alpha: float) -> OPEEstimate:
    lo, hi, se = _interval(value, contrib, alpha)
    return OPEEstimate(name, float(value), float(lo), float(hi), se, len(w), effective_sample_size(w),
                       float(w.max()) if len(w) else 0.0, clipped)


# ------------------------------------------------------------------------------------------- estimators
def ips(data: LoggedBandit, action_dist: np.ndarray, *, clip: float | None = None, alpha: float = 0.05,
        q_hat: np.ndarray | None = None) -> OPEEstimate:
    """Inverse propensity scoring: mean of w·r (unbiased without clipping when π_0 > 0 wherever π_e > 0)."""
    w, clipped = importance_weights(data, action_dist, clip)
    contrib = w * data.rewards
    return _estimate("ips", float(contrib.mean()), contrib, w, clipped, alpha)


def snips(data: LoggedBandit, action_dist: np.ndarray, *, clip: float | None = None, alpha: float = 0.05,
          q_hat: np.ndarray | None = None) -> OPEEstimate:
    """Self-normalised IPS: Σw·r / Σw (small bias, much less variance when weights are uneven); delta-method interval."""
    w, clipped = importance_weights(data, action_dist, clip)
    mw = float(w.mean())
    value = float((w * data.rewards).sum() / w.sum()) if mw > 0 else 0.0
    contrib = value + w * (data.rewards - value) / max(mw, 1e-300)  # influence function around the estimate
    return _estimate("snips", value, contrib, w, clipped, alpha)


def dr(data: LoggedBandit, action_dist: np.ndarray, *, q_hat: np.ndarray | None = None, clip: float | None = None,
       alpha: float = 0.05) -> OPEEstimate:
    """Doubly robust: the reward model's value under π_e plus the IPS-weighted residual of the logged reward.

    `q_hat`: (n, A) predicted reward of every action in each round's logged slot, cross-fitted (`fit_reward_model`)."""
    if q_hat is None:
        q_hat = fit_reward_model(data)
    w, clipped = importance_weights(data, action_dist, clip)
    dist = dist_at_slot(data, action_dist)
    direct = np.einsum("na,na->n", dist, q_hat)
    contrib = direct + w * (data.rewards - q_hat[np.arange(data.n), data.actions])
    return _estimate("dr", float(contrib.mean()), contrib, w, clipped, alpha)


Estimator = Callable[..., OPEEstimate]
ESTIMATORS: dict[str, Estimator] = {"ips": ips, "snips": snips, "dr": dr}


def evaluate(data: LoggedBandit, action_dist: np.ndarray, *, estimators: tuple[str, ...] = ("ips", "snips", "dr"),
             q_hat: np.ndarray | None = None, clip: float | None = None, alpha: float = 0.05) -> dict[str, OPEEstimate]:
    """Every named estimator on one log and target (the DR reward model is fitted once, cross-fitted, if not given)."""
    if "dr" in estimators and q_hat is None:
        q_hat = fit_reward_model(data)
    return {name: ESTIMATORS[name](data, action_dist, q_hat=q_hat, clip=clip, alpha=alpha) for name in estimators}


def on_policy(rewards: np.ndarray, alpha: float = 0.05) -> OPEEstimate:
    """The plain mean reward of a policy's own log with its normal interval (the ground truth OPE is checked against)."""
    r = np.asarray(rewards, np.float64)
    w = np.ones(len(r))
    return _estimate("on_policy", float(r.mean()), r, w, 0, alpha)


# ------------------------------------------------------------------------------------------- policies
def empirical_policy(data: LoggedBandit) -> np.ndarray:
    """(A, K) share of each action among a log's rounds in each slot: a context-free policy's average action distribution."""
    counts = np.zeros((data.n_actions, data.n_positions))
    np.add.at(counts, (data.actions, data.positions), 1.0)
    return counts / np.maximum(counts.sum(axis=0, keepdims=True), 1.0)


def uniform_policy(n_actions: int, n_positions: int = 1) -> np.ndarray:
    """(A, K) uniform choice in every slot."""
    return np.full((n_actions, n_positions), 1.0 / n_actions)


# ------------------------------------------------------------------------------------------- reward model
def _design(data: LoggedBandit) -> np.ndarray:
    """Logged-round design: [1, context, one-hot action (first dropped), one-hot slot (first dropped), affinity of the action]."""
    n = data.n
    parts = [np.ones((n, 1))]
    if data.context is not None:
        parts.append(np.asarray(data.context, np.float64))
    act = np.zeros((n, max(data.n_actions - 1, 0)))
    sel = data.actions > 0
    act[np.flatnonzero(sel), data.actions[sel] - 1] = 1.0
    pos = np.zeros((n, max(data.n_positions - 1, 0)))
    selp = data.positions > 0
    pos[np.flatnonzero(selp), data.positions[selp] - 1] = 1.0
    parts += [act, pos]
    if data.affinity is not None:
        parts.append(np.asarray(data.affinity, np.float64)[np.arange(n), data.actions][:, None])
    return np.hstack(parts)


def _fit_logistic(X: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """L2-penalised logistic regression (intercept unpenalised) by L-BFGS."""
    pen = np.full(X.shape[1], l2)
    pen[0] = 0.0

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        z = X @ beta
        ll = np.logaddexp(0.0, z) - y * z
        p = 1.0 / (1.0 + np.exp(-z))
        return float(ll.sum() + 0.5 * (pen * beta * beta).sum()), X.T @ (p - y) + pen * beta

    beta0 = np.zeros(X.shape[1])
    rate = float(np.clip(y.mean(), 1e-4, 1 - 1e-4))
    beta0[0] = np.log(rate / (1 - rate))
    return np.asarray(optimize.minimize(loss, beta0, jac=True, method="L-BFGS-B").x)


def _predict_all(data: LoggedBandit, beta: np.ndarray) -> np.ndarray:
    """(n, A) predicted reward of every action in each round's logged slot (the model is additive in the action)."""
    n, d = data.n, 0 if data.context is None else data.context.shape[1]
    base = np.full(n, beta[0])
    if d:
        base = base + np.asarray(data.context, np.float64) @ beta[1 : 1 + d]
    i = 1 + d
    b_act = np.concatenate([[0.0], beta[i : i + data.n_actions - 1]])
    i += data.n_actions - 1
    b_pos = np.concatenate([[0.0], beta[i : i + data.n_positions - 1]])
    i += data.n_positions - 1
    z = base[:, None] + b_act[None, :] + b_pos[data.positions][:, None]
    if data.affinity is not None:
        z = z + beta[i] * np.asarray(data.affinity, np.float64)
    return 1.0 / (1.0 + np.exp(-z))


def fit_reward_model(data: LoggedBandit, *, folds: int = 5, l2: float = 1.0, seed: int = 0) -> np.ndarray:
    """Cross-fitted (n, A) reward predictions: each fold's rounds are predicted by a model fitted on the other folds.

    Logistic rather than LightGBM: clicks are rare (≈ 40 in 10,000 OBD rounds), a convex L2 model does not overfit
    them, and being additive in the action it predicts all actions of a round in one vectorised step."""
    X, y = _design(data), np.asarray(data.rewards, np.float64)
    out = np.empty((data.n, data.n_actions))
    fold = np.random.default_rng(seed).permutation(data.n) % max(folds, 2)
    for f in range(max(folds, 2)):
        test = fold == f
        beta = _fit_logistic(X[~test], y[~test], l2)
        out[test] = _predict_all(data.subset(test), beta)
    return out


# ------------------------------------------------------------------------------------------- OBD
def from_obd_frame(frame: Any, item_context: Any = None, *, n_actions: int | None = None) -> LoggedBandit:
    """A LoggedBandit from an Open Bandit Dataset table (pyarrow or pandas): item_id, position 1..3, click,
    propensity_score, user_feature_0..3 (hashed, one-hot encoded here), user-item_affinity_<item> (per-action affinity)."""
    columns = [str(c) for c in (getattr(frame, "column_names", None) or list(frame.columns))]

    def col(name: str, dtype: Any = np.float64) -> np.ndarray:
        return np.asarray(frame[name]).astype(dtype)

    items = col("item_id", np.int64)
    n_actions = int(n_actions if n_actions is not None else (len(item_context) if item_context is not None else items.max() + 1))
    onehots = []
    for c in (c for c in columns if c.startswith("user_feature_")):
        codes, uniq = _factorize(np.asarray(frame[c]))
        m = np.zeros((len(codes), max(len(uniq) - 1, 0)))
        sel = codes > 0
        m[np.flatnonzero(sel), codes[sel] - 1] = 1.0
        onehots.append(m)
    aff_cols = [f"user-item_affinity_{i}" for i in range(n_actions)]
    affinity = np.column_stack([col(c) for c in aff_cols]) if set(aff_cols) <= set(columns) else None
    return LoggedBandit(items, col("position", np.int64) - 1, col("click"), col("propensity_score"), n_actions, 3,
                        np.hstack(onehots) if onehots else None, affinity)


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes by descending frequency (code 0 = the most common value, the one-hot baseline)."""
    uniq, inv, counts = np.unique(values.astype(str), return_inverse=True, return_counts=True)
    rank = np.empty(len(uniq), np.int64)
    rank[np.argsort(-counts, kind="stable")] = np.arange(len(uniq))
    return rank[inv], uniq


def summary(estimates: Mapping[str, OPEEstimate], truth: float | None = None) -> dict[str, dict[str, Any]]:
    """Estimates as dicts, with the relative error against a known on-policy value when given."""
    out = {}
    for name, e in estimates.items():
        row = e.to_dict()
        if truth:
            row["rel_error"] = round((e.value - truth) / truth, 6)
            row["covers_truth"] = bool(e.ci_low <= truth <= e.ci_high)
        out[name] = row
    return out

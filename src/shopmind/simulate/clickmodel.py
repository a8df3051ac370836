"""The simulated shopper's click model: a position-based model (PBM) on graded judgements, plus a stated funnel.

P(click at rank r) = examination(r) × attraction(grade). Examination is (1/r)^η with η = 1, the form and default of
Joachims, Swaminathan and Schnabel, "Unbiased Learning-to-Rank with Biased Feedback" (WSDM 2017), whose simulations
use exactly this propensity curve. Attraction follows their noise model on a graded scale: an unjudged or grade-0
result is clicked with ε = 0.1 once examined, grade g with ε + (1 − ε)(2^g − 1)/(2^3 − 1) (grade 3 always). After a
click, add-to-cart and purchase happen with the probabilities stated in `Funnel` — assumptions, not measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ClickModel", "Funnel", "clicks_pmf"]

MAX_GRADE = 3.0


@dataclass(frozen=True)
class Funnel:
    """Stated funnel probabilities after a click (assumptions, labelled as such wherever they are reported)."""

    cart_given_click: float = 0.10  # grade-0 / unjudged item; rises linearly to `cart_given_click_top` at grade 3
    cart_given_click_top: float = 0.35
    purchase_given_cart: float = 0.50
    noise_click: float = 0.02  # recommendations: a click on a random shown item although the next item is not there

    def cart_probability(self, grades: np.ndarray) -> np.ndarray:
        """P(add to cart | click) per clicked result's grade."""
        g = np.clip(np.asarray(grades, np.float64), 0.0, MAX_GRADE) / MAX_GRADE
        return self.cart_given_click + (self.cart_given_click_top - self.cart_given_click) * g


@dataclass(frozen=True)
class ClickModel:
    """PBM with (1/r)^eta examination and graded attraction; `k` results are shown."""

    eta: float = 1.0
    epsilon: float = 0.1
    k: int = 10

    def describe(self) -> str:
        """The model in words, for reports."""
        return (f"PBM: P(click at r) = (1/r)^{self.eta:g} x ({self.epsilon:g} + {1 - self.epsilon:g} (2^g - 1)/7), g = graded judgement, "
                f"unjudged g = 0 (Joachims, Swaminathan, Schnabel, WSDM 2017); top {self.k} shown")

    def examination(self, k: int | None = None) -> np.ndarray:
        """Examination probability of ranks 1..k."""
        return 1.0 / np.arange(1, (k or self.k) + 1, dtype=np.float64) ** self.eta

    def attraction(self, grades: np.ndarray) -> np.ndarray:
        """Click probability of an examined result from its grade (NaN or negative = unjudged = 0)."""
        g = np.clip(np.nan_to_num(np.asarray(grades, np.float64), nan=0.0), 0.0, MAX_GRADE)
        return self.epsilon + (1.0 - self.epsilon) * (2.0**g - 1.0) / (2.0**MAX_GRADE - 1.0)

    def click_probs(self, grades: np.ndarray) -> np.ndarray:
        """P(click) per position for lists of grades (..., k); positions past a short list are padded with NaN → 0."""
        grades = np.asarray(grades, np.float64)
        k = grades.shape[-1]
        p = self.examination(k) * self.attraction(grades)
        return np.where(np.isnan(grades), 0.0, p) if np.isnan(grades).any() else p

    def sample_clicks(self, grades: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Boolean clicks (..., k): each position independently, as the PBM says."""
        p = self.click_probs(grades)
        return rng.random(p.shape) < p


def clicks_pmf(probs: np.ndarray) -> np.ndarray:
    """Distribution of the number of clicks (Poisson-binomial) per row of click probabilities: (n, k) → (n, k + 1).

    Sampling a session's click count from this is exact under the PBM and needs one uniform instead of k."""
    probs = np.atleast_2d(np.asarray(probs, np.float64))
    n, k = probs.shape
    pmf = np.zeros((n, k + 1))
    pmf[:, 0] = 1.0
    for j in range(k):
        p = probs[:, j : j + 1]
        pmf = pmf * (1.0 - p) + np.pad(pmf[:, :-1], ((0, 0), (1, 0))) * p
    return pmf

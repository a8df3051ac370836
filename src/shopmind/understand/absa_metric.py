"""ABSA metrics: aspect-term F1 on exact character spans, polarity accuracy and macro F1 on the gold aspects.

Aspect F1 counts a predicted span as right only when its start and end both equal a gold span's (micro over every
sentence; the gold of a sentence is every annotated occurrence of its terms). Polarity is judged on the gold aspects
(one prediction per gold aspect entry), as LCF-ATEPC's Acc_apc / F1_apc are; macro F1 averages the F1 of the
polarity classes that occur in the gold or the predictions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass
class AbsaScores:
    """Running counts; `result()` gives the figures."""

    tp: int = 0
    n_pred: int = 0
    n_gold: int = 0
    pairs: list[tuple[str, str]] | None = None

    def add_spans(self, gold: Iterable[tuple[int, int]], predicted: Iterable[tuple[int, int]]) -> None:
        """One sentence's gold and predicted aspect spans (duplicates count once)."""
        g, p = set(gold), set(predicted)
        self.tp += len(g & p)
        self.n_pred += len(p)
        self.n_gold += len(g)

    def add_polarities(self, gold: Sequence[str], predicted: Sequence[str]) -> None:
        """Gold and predicted polarities of one sentence's gold aspects, in the same order."""
        if len(gold) != len(predicted):
            raise ValueError(f"{len(gold)} gold polarities but {len(predicted)} predictions")
        self.pairs = (self.pairs or []) + list(zip(gold, predicted, strict=True))

    def result(self) -> dict[str, float | int]:
        """aspect precision/recall/F1, polarity accuracy and macro F1 (fractions 0–1), and the counts behind them."""
        precision = self.tp / self.n_pred if self.n_pred else 0.0
        recall = self.tp / self.n_gold if self.n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        pairs = self.pairs or []
        return {"aspect_precision": precision, "aspect_recall": recall, "aspect_f1": f1,
                "polarity_accuracy": polarity_accuracy(pairs), "polarity_macro_f1": macro_f1(pairs),
                "gold_aspects": self.n_gold, "predicted_aspects": self.n_pred, "polarity_judged": len(pairs)}


def polarity_accuracy(pairs: Sequence[tuple[str, str]]) -> float:
    """Share of (gold, predicted) pairs that agree; 0.0 for none."""
    return sum(g == p for g, p in pairs) / len(pairs) if pairs else 0.0


def macro_f1(pairs: Sequence[tuple[str, str]]) -> float:
    """Mean over classes (in gold or predicted) of per-class F1; 0.0 for none."""
    classes = sorted({c for pair in pairs for c in pair})
    if not classes:
        return 0.0
    scores = []
    for c in classes:
        tp = sum(g == c and p == c for g, p in pairs)
        fp = sum(g != c and p == c for g, p in pairs)
        fn = sum(g == c and p != c for g, p in pairs)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)

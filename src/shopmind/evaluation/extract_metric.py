"""The published attribute-value extraction metric (ExtractGPT's `pieutils/evaluation.py`, also used for WDC-PAVE).

Per category-attribute slot, each offer whose gold lists the attribute is one case: gold "n/a" and no prediction
(nn), gold "n/a" but a prediction (nv), a gold value but no prediction (vn), a prediction equal to one of the gold
values after stripping (vc, correct) or another value (vw). P = vc / (nv + vc + vw), R = vc / (vn + vc + vw),
F1 per slot; micro over the summed counts, macro the mean of the per-slot figures. Predictions for attributes the
gold does not list are not counted. Figures are fractions (0–1), not the paper's percentages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

NA = "n/a"
KINDS = ("nn", "nv", "vn", "vc", "vw")


def case(gold: Sequence[str], prediction: str | None) -> str:
    """The outcome of one slot: nn, nv, vn, vc or vw."""
    values = [v.strip() for v in gold if v != NA]
    pred = None if prediction in (None, NA, "None", "") else prediction
    if not values:
        return "nn" if pred is None else "nv"
    if pred is None:
        return "vn"
    return "vc" if pred in values else "vw"


def prf(counts: Mapping[str, int]) -> tuple[float, float, float]:
    """Precision, recall, F1 of summed outcome counts (0 where undefined)."""
    predicted = counts.get("nv", 0) + counts.get("vc", 0) + counts.get("vw", 0)
    relevant = counts.get("vn", 0) + counts.get("vc", 0) + counts.get("vw", 0)
    p = counts.get("vc", 0) / predicted if predicted else 0.0
    r = counts.get("vc", 0) / relevant if relevant else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def score(golds: Sequence[Mapping[str, Sequence[str]]], predictions: Sequence[Mapping[str, str | None]],
          categories: Sequence[str]) -> dict[str, Any]:
    """Micro and macro precision/recall/F1 plus per-slot ('attribute | category') and per-attribute figures."""
    if not len(golds) == len(predictions) == len(categories):
        raise ValueError("golds, predictions and categories must have the same length")
    slots: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS, 0))
    for gold, pred, cat in zip(golds, predictions, categories, strict=True):
        for attr, values in gold.items():
            slots[(cat, attr)][case(values, pred.get(attr))] += 1
    per_slot: dict[str, dict[str, Any]] = {}
    total: dict[str, int] = dict.fromkeys(KINDS, 0)
    per_attr: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS, 0))
    for (cat, attr), counts in sorted(slots.items()):
        if counts["nv"] + counts["vc"] + counts["vw"] + counts["vn"] == 0:
            continue  # only n/a cases correctly left empty: the slot is not scored (as in the published code)
        p, r, f = prf(counts)
        per_slot[f"{attr} | {cat}" if cat else attr] = {"precision": p, "recall": r, "f1": f, "support": counts["vn"] + counts["vc"] + counts["vw"]}
        for k in KINDS:
            total[k] += counts[k]
            per_attr[attr][k] += counts[k]
    p, r, f = prf(total)
    n = len(per_slot)
    macro = {m: (sum(s[m] for s in per_slot.values()) / n if n else 0.0) for m in ("precision", "recall", "f1")}
    attrs = {a: dict(zip(("precision", "recall", "f1"), prf(c), strict=True)) for a, c in sorted(per_attr.items())}
    return {"offers": len(golds), "slots": n, "counts": total, "macro": macro, "per_slot": per_slot, "per_attribute": attrs,
            "precision": p, "recall": r, "f1": f}

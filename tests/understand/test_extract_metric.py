"""The published extraction metric on hand-made cases (counts worked out by hand)."""

from __future__ import annotations

import pytest

from shopmind.evaluation.extract_metric import case, prf, score


def test_case_outcomes() -> None:
    assert case(["n/a"], None) == "nn"
    assert case(["n/a"], "Metal") == "nv"
    assert case(["Red"], None) == "vn"
    assert case(["Red", "Crimson "], "Crimson") == "vc"  # gold values are stripped; any accepted value counts
    assert case(["Red"], "red") == "vw"  # exact match: case matters
    assert case(["Red"], "n/a") == "vn"  # a predicted "n/a" is no prediction


def test_prf_of_counts() -> None:
    p, r, f = prf({"nn": 5, "nv": 1, "vn": 1, "vc": 2, "vw": 1})
    assert p == pytest.approx(2 / 4) and r == pytest.approx(2 / 4) and f == pytest.approx(0.5)
    assert prf({"nn": 3}) == (0.0, 0.0, 0.0)


def test_score_micro_macro_and_ignored_attributes() -> None:
    golds = [
        {"Brand": ["Crocs"], "Color": ["Navy"]},
        {"Brand": ["Timberland"], "Material": ["n/a"]},
        {"Brand": ["Acme"]},
    ]
    preds = [
        {"Brand": "Crocs", "Color": "Nautical Navy", "Size": "4 M US"},  # Size is not in the gold: not counted
        {"Brand": "Timberland", "Material": "Leather"},  # n/a predicted: a false positive
        {},
    ]
    cats = ["Shoes", "Shoes", "Tools"]
    r = score(golds, preds, cats)
    # Brand|Shoes: vc 2 -> P 1, R 1; Color|Shoes: vw -> 0/0; Material|Shoes: nv -> P 0, R 0; Brand|Tools: vn -> P 0, R 0
    assert r["counts"] == {"nn": 0, "nv": 1, "vn": 1, "vc": 2, "vw": 1}
    assert r["precision"] == pytest.approx(2 / 4)
    assert r["recall"] == pytest.approx(2 / 4)
    assert r["slots"] == 4
    assert r["macro"]["f1"] == pytest.approx(1 / 4)
    assert set(r["per_slot"]) == {"Brand | Shoes", "Color | Shoes", "Material | Shoes", "Brand | Tools"}
    assert r["per_attribute"]["Brand"]["precision"] == pytest.approx(1.0) and r["per_attribute"]["Brand"]["recall"] == pytest.approx(2 / 3)


def test_slot_with_only_correct_na_is_not_scored() -> None:
    r = score([{"Material": ["n/a"]}, {"Material": ["n/a"]}], [{}, {}], ["Lure", "Lure"])
    assert r["slots"] == 0 and r["f1"] == 0.0 and r["counts"]["nn"] == 0  # a skipped slot adds nothing to the totals


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="same length"):
        score([{}], [], ["x"])

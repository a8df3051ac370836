"""The ABSA metric on hand-made cases whose figures are worked out by hand."""

from __future__ import annotations

import pytest

from shopmind.understand.absa_metric import AbsaScores, macro_f1, polarity_accuracy


def test_exact_spans_only_count() -> None:
    s = AbsaScores()
    s.add_spans({(0, 7), (20, 32)}, {(0, 7), (21, 32), (40, 45)})  # one exact, one off by a character, one spurious
    r = s.result()
    assert r["aspect_precision"] == pytest.approx(1 / 3)
    assert r["aspect_recall"] == pytest.approx(1 / 2)
    assert r["aspect_f1"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))


def test_micro_over_sentences_and_empty_cases() -> None:
    s = AbsaScores()
    s.add_spans([(0, 4)], [(0, 4)])
    s.add_spans([], [(3, 5)])  # a sentence without aspects: a prediction is a false positive
    s.add_spans([(1, 2), (5, 9)], [])
    r = s.result()
    assert (r["aspect_precision"], r["aspect_recall"]) == (pytest.approx(0.5), pytest.approx(1 / 3))
    assert AbsaScores().result()["aspect_f1"] == 0.0


def test_polarity_accuracy_and_macro_f1() -> None:
    pairs = [("Positive", "Positive"), ("Positive", "Negative"), ("Negative", "Negative"), ("Neutral", "Positive")]
    assert polarity_accuracy(pairs) == pytest.approx(0.5)
    # Positive: tp1 fp1 fn1 → 0.5; Negative: tp1 fp1 fn0 → 2/3; Neutral: tp0 → 0
    assert macro_f1(pairs) == pytest.approx((0.5 + 2 / 3 + 0.0) / 3)
    s = AbsaScores()
    s.add_polarities(["Positive", "Positive"], ["Positive", "Negative"])
    s.add_polarities(["Negative", "Neutral"], ["Negative", "Positive"])
    assert s.result()["polarity_accuracy"] == pytest.approx(0.5)
    assert s.result()["polarity_judged"] == 4


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="2 gold polarities but 1"):
        AbsaScores().add_polarities(["Positive", "Negative"], ["Positive"])

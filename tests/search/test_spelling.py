"""Spelling correction (symspellpy, up to two edits) on the vocabulary of real Home Depot titles."""

from __future__ import annotations

import json

import pytest
from symspellpy import Verbosity

from shopmind.search.spelling import Speller

TWO_EDITS = {  # real misspellings two edits from a word of the slice (two deletions each: the old one-delete index missed them)
    "refrigratr": "refrigerator",
    "micrwav": "microwave",
    "dehumdifer": "dehumidifier",
    "scrwdrivr": "screwdriver",
}
ONE_EDIT = {"cordles": "cordless", "baterry": "battery", "refrigerater": "refrigerator", "micowave": "microwave"}


@pytest.fixture(scope="module")
def speller(hd_slice) -> Speller:
    return Speller.from_texts(p.title for p in hd_slice)


@pytest.mark.parametrize(("typo", "word"), [*TWO_EDITS.items(), *ONE_EDIT.items()])
def test_misspellings_within_two_edits_are_corrected(speller: Speller, typo: str, word: str) -> None:
    assert word in speller.counts
    assert speller.correct_word(typo) == word
    assert speller.correct(f"{typo} 36in") == (f"{word} 36in", {typo: word})


def test_known_short_and_foreign_words_are_left_alone(speller: Speller) -> None:
    assert speller.correct_word("drill") is None  # in the vocabulary
    assert speller.correct_word("drl") is None  # under four letters
    assert speller.correct_word("dril") == "drill"  # ≤ 5 letters: one edit only
    assert speller.correct_word("drxyl") is None
    assert speller.correct_word("x" * 2000) is None and speller.correct_word("冰箱") is None


def test_english_words_missing_from_the_catalog_are_not_typos(speller: Speller) -> None:
    """Two edits reach a catalog word from many real words; a word of the language is left as typed."""
    for word in ("replace", "gallon"):
        assert word not in speller.counts
        assert speller.correct_word(word) is None
    # the same words would be "corrected" without the dictionary check: the test can fail
    found = [s.term for w in ("replace", "gallon") for s in speller.symspell.lookup(w, Verbosity.CLOSEST, max_edit_distance=2)]
    assert found


def test_saved_as_plain_json_and_rebuilt(speller: Speller) -> None:
    data = json.loads(json.dumps(speller.to_json()))
    again = Speller.from_json(data)
    assert again.counts == speller.counts
    assert {t: again.correct_word(t) for t in TWO_EDITS} == TWO_EDITS


def test_distance_zero_corrects_nothing(hd_slice) -> None:
    assert Speller.from_texts((p.title for p in hd_slice[:200]), max_distance=0).correct_word("cordles") is None

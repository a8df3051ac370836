"""`shopmind eval absa`: the shipped models on real labelled slices, the JSON contract, and bad input named."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest
from typer.testing import CliRunner

from shopmind.cli.main import app
from shopmind.understand.absa import Absa, default_absa, split_sentences
from shopmind.understand.absa_data import read_jsonl


@pytest.fixture(scope="module")
def slices(shared_data, tmp_path_factory):
    """The first 60 sentences of two test_dev files (English laptops, Chinese phones)."""
    out = {}
    for name in ("laptop14", "phone"):
        lines = (shared_data / "reviews-absa" / name / "test_dev.jsonl").read_bytes().splitlines(keepends=True)[:60]
        path = tmp_path_factory.mktemp(name) / "slice.jsonl"
        path.write_bytes(b"".join(lines))
        out[name] = path
    return out


@pytest.mark.parametrize("name", ["laptop14", "phone"])
def test_cli_last_line_and_figures_beat_trivial_baselines(slices, name):
    res = CliRunner().invoke(app, ["eval", "absa", "--data", str(slices[name]), "--json"])
    assert res.exit_code == 0, res.output
    result = orjson.loads(res.stdout.strip().splitlines()[-1])
    assert {"aspect_f1", "polarity_accuracy", "polarity_macro_f1"} <= set(result)
    gold = [a.polarity for s in read_jsonl(slices[name]) for a in s.aspects]
    assert result["sentences"] == 60 and result["polarity_judged"] == len(gold)
    majority = Counter(gold).most_common(1)[0][1] / len(gold)
    assert result["polarity_accuracy"] > majority  # better than always answering the most common polarity
    assert result["aspect_f1"] > 0.5


def test_bad_records_are_named(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"sentence": "The battery is great", "aspects": [{"term": "battery", "from": 4, "to": 11, "polarity": "Positive"}]}\n'
                   '{"sentence": "Screen dim", "aspects": [{"term": "Screen", "from": 0, "to": 60}]}\n')
    res = CliRunner().invoke(app, ["eval", "absa", "--data", str(bad), "--json"])
    assert res.exit_code == 2 and f"{bad}:2" in res.output and "aspects.from/to" in res.output
    res = CliRunner().invoke(app, ["eval", "absa", "--data", str(tmp_path / "nope.jsonl")])
    assert res.exit_code == 2 and "--data" in res.output


def test_analyse_finds_aspects_with_polarity_in_both_languages():
    absa = default_absa()
    en = absa.analyse("The battery life is excellent. But the keyboard feels cheap and flimsy.", "en")
    by_term = {m.term.lower(): m.polarity for m in en}
    assert by_term.get("battery life") == "Positive" and by_term.get("keyboard") == "Negative", en
    zh = absa.analyse("屏幕很清晰。电池太差了", "zh")
    assert {m.term: m.polarity for m in zh} == {"屏幕": "Positive", "电池": "Negative"}, zh
    assert split_sentences("Good.  Bad!\nOk") == ["Good.", "Bad!", "Ok"]


def test_missing_model_files_are_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="missing"):
        Absa(tmp_path).analyse("The screen is great", "en")

"""The feature registry: every model's columns come from it, and the trained and shipped models carry exactly them."""

from __future__ import annotations

import importlib
import json
from importlib.resources import files

import numpy as np
import pytest

from shopmind.ranking import features as reg
from tests.ranking.conftest import HD_FEATURES


def _resolve(computed_by: str) -> object:
    module, _, qual = computed_by.partition(":")
    obj: object = importlib.import_module(module)
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("name", ["search", "ads_ctr", "assistant_attribute"])
def test_every_feature_says_what_it_is_and_where_it_is_computed(name):
    fs = reg.feature_set(name)
    assert len(fs.names) == len(set(fs.names)) >= 10
    assert all(f.description and "\n" not in f.description for f in fs.features)
    for f in fs.features:
        assert callable(_resolve(f.computed_by)), f"{f.name}: {f.computed_by} is not code that exists"
    assert list(fs.describe()) == fs.names


def test_registering_another_layout_under_a_taken_name_fails():
    same = [(f.name, f.description) for f in reg.feature_set("ads_ctr").features]
    assert reg.register("ads_ctr", reg.feature_set("ads_ctr").features[0].computed_by, same) is not None
    with pytest.raises(ValueError, match="already registered"):
        reg.register("ads_ctr", "shopmind.ads.model:AdsModel.features", same[::-1])
    with pytest.raises(ValueError, match="repeats"):
        reg.register("dupes", "x:y", [("a", "one"), ("a", "two")])
    with pytest.raises(KeyError, match="search"):
        reg.feature_set("nope")


def test_search_ranker_is_trained_and_saved_on_the_registry_columns(tmp_path, hd_ltr):
    from shopmind.search.config import SearchConfig
    from shopmind.search.ranker import FEATURES, Ranker

    assert reg.feature_names("search") == FEATURES
    cols = [FEATURES.index(f) for f in HD_FEATURES[:5]]  # the slice's columns are search features by name

    def widen(X: np.ndarray) -> np.ndarray:
        out = np.zeros((len(X), len(FEATURES)), np.float32)
        out[:, cols] = X[:, :5]
        return out

    tr, va, te = hd_ltr["train"], hd_ltr["valid"], hd_ltr["test"]
    r = Ranker.fit(widen(tr.X), tr.y, tr.groups, dict(SearchConfig().ranker_params), valid=(widen(va.X), va.y, va.groups))
    assert r.booster.feature_name() == r.features == [f for f in FEATURES if f not in r.dropped]  # constant columns dropped
    assert set(r.dropped) == set(FEATURES) - set(HD_FEATURES[:5])
    r.save(tmp_path)
    loaded = Ranker.load(tmp_path)
    assert loaded is not None and np.array_equal(loaded.predict(widen(te.X)), r.predict(widen(te.X)))
    # a sidecar with the column names alone (no params or metrics) still loads
    (tmp_path / "ranker.json").write_text(json.dumps({"features": r.features, "dropped": r.dropped}))
    assert np.array_equal(Ranker.load(tmp_path).predict(widen(te.X)), r.predict(widen(te.X)))
    # a model of another layout is not served: the next build retrains it
    (tmp_path / "ranker.json").write_text(json.dumps({"features": r.features[::-1], "dropped": r.dropped}))
    assert Ranker.load(tmp_path) is None


def test_ctr_model_is_trained_and_saved_on_the_registry_columns(tmp_path):
    from shopmind.ads.ctr import FEATURES, N_FEATURES, CtrModel

    assert reg.feature_names("ads_ctr") == list(FEATURES)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(6000, N_FEATURES))
    y = (rng.random(len(X)) < 1 / (1 + np.exp(-(1.2 * X[:, 2] - 3.0)))).astype(float)
    m = CtrModel.fit(X, y, groups=rng.integers(0, 500, len(y)), rounds=40)
    assert m.booster.feature_name() == list(FEATURES)
    m.save(tmp_path)
    back = CtrModel.load(tmp_path)
    assert np.array_equal(back.predict(X[:500]), m.predict(X[:500])) and back.metrics == m.metrics
    assert max(m.explain(X[:50], top=1)[0], key=str) in FEATURES
    side = json.loads((tmp_path / "ctr_calibration.json").read_text())
    side["features"] = side["features"][::-1]
    (tmp_path / "ctr_calibration.json").write_text(json.dumps(side))
    with pytest.raises(ValueError, match="trained on features"):
        CtrModel.load(tmp_path)


def test_shipped_attribute_ranker_carries_the_registry_columns_and_round_trips():
    from shopmind.assistant.attrank import FEATURES, AttributeRanker

    d = json.loads((files("shopmind.assistant") / "attr_ranker.json").read_text(encoding="utf-8"))
    r = AttributeRanker.from_json(d)
    assert reg.feature_names("assistant_attribute") == list(FEATURES) == r.booster.feature_name() == d["features"]
    X = np.random.default_rng(0).normal(size=(200, len(FEATURES)))
    again = AttributeRanker.from_json(json.loads(json.dumps(r.to_json())))
    assert np.array_equal(again.model.predict(X), r.model.predict(X))
    bare = AttributeRanker(r.booster, r.stats, r.threshold, r.meta)  # what scripts/train_attr_ranker.py constructs
    assert np.array_equal(bare.model.predict(X), r.model.predict(X))
    with pytest.raises(ValueError, match="trained on features"):
        AttributeRanker.from_json({**d, "features": list(FEATURES)[::-1]})

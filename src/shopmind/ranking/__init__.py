"""Learned ranking shared by search, ads, the assistant and forecasting: one gradient-boosting wrapper
(`gbm.GBM`: train, predict, save/load, explain), probability calibration (`calibration`), the feature registry
(`features`) and the pure ranking metrics (`metrics`). Sits below search/recommend/ads/assistant; imports none of them."""

from __future__ import annotations

from shopmind.ranking.features import FeatureSet, feature_names, feature_set
from shopmind.ranking.gbm import GBM

__all__ = ["GBM", "FeatureSet", "feature_names", "feature_set"]

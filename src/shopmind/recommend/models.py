"""Importing this module registers every built-in recommender (name → class in `base.REGISTRY`).

SASRec (torch) is registered lazily, see LAZY.
"""

from __future__ import annotations

from shopmind.recommend import blend, content, ease, factor, itemknn, popular, rules  # noqa: F401

LAZY: dict[str, str] = {"sasrec": "shopmind.recommend.sasrec"}
"""Models whose module needs an optional package (torch: `pip install shopmind[seq]`), imported on first use."""

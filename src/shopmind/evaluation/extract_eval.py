"""`shopmind eval extract`: run a trained extractor over a labelled file and score it with the published metric."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from shopmind.evaluation.extract_metric import score
from shopmind.understand.datasets import Offer, read_offers
from shopmind.understand.extractor import MODELS_DIR, Extractor

SPECIFIC = ("oa-mine", "ae-110k", "wdc", "zh")  # per-set models, matched to a file by the categories they were trained on


def pick_model(offers: list[Offer]) -> Extractor:
    """The shipped model whose training categories cover most of the file's offers (Chinese files: 'zh')."""
    if offers and all(o.language == "zh" for o in offers):
        return Extractor.load("zh")
    best, best_hits = None, -1
    for name in SPECIFIC:
        if not (MODELS_DIR / f"{name}.crfsuite").is_file():
            continue
        model = Extractor.load(name)
        hits = sum(o.category in model.attributes for o in offers)
        if hits > best_hits:
            best, best_hits = model, hits
    if best is None:
        raise FileNotFoundError(f"no extraction models in {MODELS_DIR}")
    return best


def predict(model: Extractor, offers: list[Offer], threshold: float | None = None) -> list[dict[str, str | None]]:
    """Per offer, attribute → the extracted value (one value per attribute, as the metric expects)."""
    return [{a: ex.value for a, ex in model.extract(o.title, o.description, o.category, threshold).items()} for o in offers]


def evaluate_extraction(path: str | Path, model: str = "auto", threshold: float | None = None) -> dict[str, Any]:
    """P/R/F1 micro, macro, per attribute and per slot; MEPAVE files are scored on their test part only."""
    offers = list(read_offers(path, part="test"))
    if not offers:
        raise ValueError(f"{path}: no labelled offers")
    extractor = pick_model(offers) if model == "auto" else Extractor.load(model)
    started = time.perf_counter()
    preds = predict(extractor, offers, threshold)
    seconds = time.perf_counter() - started
    out = score([o.gold for o in offers], preds, [o.category for o in offers])
    fmt = offers[0].fmt
    note = f"MEPAVE test part only ({len(offers)} of the file's rows, fixed md5 split)" if fmt == "mepave" else ""
    head = {"data": str(path), "format": fmt, "model": extractor.name, "threshold": extractor.threshold if threshold is None else threshold,
            "offers_per_second": round(len(offers) / seconds, 1) if seconds else None}
    if note:
        head["note"] = note
    return {**head, **out}

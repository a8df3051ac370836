"""Training of the attribute-value CRF: gold values located in the text as BIO labels, a jackknifed value dictionary.

Gold values are found in the title (then the description) at token boundaries, exact case first; values that
cannot be found are left unlabelled. The dictionary features of a training offer come from the values of the
*other* fold (two folds), so the CRF learns how far to trust a dictionary hit on text it has not seen; the
shipped dictionary holds every training value.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from shopmind.understand.datasets import NA, Offer
from shopmind.understand.features import MAX_DICT_TOKENS, Gazetteer, Token, features, tokenize

log = logging.getLogger(__name__)
_SYNONYMS = {"brand_name": "brand", "colour": "color", "manufacturer": "brand"}


def canonical(attr: str) -> str:
    """A cross-set attribute key: lower case, '(s)' dropped, spaces → '_', a few synonyms merged ('Brand Name' → 'brand')."""
    key = re.sub(r"[^\w]+", "_", attr.lower().replace("(s)", "")).strip("_")
    return _SYNONYMS.get(key, key)


def _find(text: str, value: str, toks: Sequence[Token]) -> tuple[int, int] | None:
    starts = {s: i for i, (_, s, _) in enumerate(toks)}
    ends = {e: i for i, (_, _, e) in enumerate(toks)}
    for hay, needle in ((text, value), (text.lower(), value.lower())):
        pos = hay.find(needle)
        while pos >= 0:
            a, b = starts.get(pos), ends.get(pos + len(needle))
            if a is not None and b is not None:
                return a, b + 1
            pos = hay.find(needle, pos + 1)
    return None


def labelled(offer: Offer, language: str, rename: Callable[[str], str] = str) -> list[tuple[str, list[Token], list[str]]]:
    """(source, tokens, BIO labels) for the title and, when present, the description."""
    out = []
    for source, text in (("title", offer.title), ("description", offer.description)):
        if not text:
            continue
        toks = tokenize(text, language)
        labels = ["O"] * len(toks)
        for attr, values in offer.gold.items():
            for value in sorted({v.strip() for v in values if v != NA and v.strip()}, key=len, reverse=True):
                hit = _find(text, value, toks)
                if hit is None or any(lab != "O" for lab in labels[hit[0]:hit[1]]):
                    continue
                name = rename(attr)
                labels[hit[0]] = f"B-{name}"
                for j in range(hit[0] + 1, hit[1]):
                    labels[j] = f"I-{name}"
        out.append((source, toks, labels))
    return out


def mine_gazetteer(offers: Sequence[Offer], language: str, rename: Callable[[str], str] = str, min_chars: int = 2) -> dict[tuple[str, ...], list[str]]:
    """Lower-cased token tuples of gold values → the attributes they were gold for."""
    gaz: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for o in offers:
        for attr, values in o.gold.items():
            for v in values:
                v = v.strip()
                if v == NA or len(v) < min_chars:
                    continue
                key = tuple(t[0].lower() for t in tokenize(v, language))
                if 0 < len(key) <= MAX_DICT_TOKENS:
                    gaz[key].add(rename(attr))
    return {k: sorted(v) for k, v in gaz.items()}


def train_crf(offers: Sequence[Offer], out_path: Path, *, name: str, language: str, use_category: bool = True, canonical_names: bool = False,
              use_dictionary: bool = True, c1: float = 0.05, c2: float = 0.05, max_iterations: int = 150, threshold: float = 0.0, fallback: float = 0.0,
              extra_meta: dict[str, Any] | None = None) -> Path:
    """Train on `offers`, write OUT.crfsuite and OUT.json; returns the model path."""
    import pycrfsuite  # type: ignore[import-untyped]

    rename: Callable[[str], str] = canonical if canonical_names else str
    started = time.perf_counter()
    folds = [[o for i, o in enumerate(offers) if i % 2 == k] for k in (0, 1)]
    fold_gaz: list[Gazetteer] = [mine_gazetteer(folds[1 - k], language, rename) if use_dictionary else {} for k in (0, 1)]
    trainer = pycrfsuite.Trainer(verbose=False)
    attributes: dict[str, set[str]] = defaultdict(set)
    n_seq = 0
    for i, o in enumerate(offers):
        gaz = fold_gaz[i % 2]
        cat = o.category if use_category else ""
        attributes[o.category].update(rename(a) for a in o.gold)
        for source, toks, labels in labelled(o, language, rename):
            if toks:
                trainer.append(features(toks, cat, source, gaz, language), labels)
                n_seq += 1
    trainer.set_params({"c1": c1, "c2": c2, "max_iterations": max_iterations, "feature.possible_transitions": True})
    out_path = Path(out_path).with_suffix(".crfsuite")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    trainer.train(str(out_path))
    full_gaz = mine_gazetteer(offers, language, rename) if use_dictionary else {}
    meta = {
        "name": name, "language": language, "use_category": use_category, "canonical_names": canonical_names, "threshold": threshold, "fallback": fallback,
        "params": {"c1": c1, "c2": c2, "max_iterations": max_iterations, "dictionary": use_dictionary},
        "offers": len(offers), "sequences": n_seq, "train_seconds": round(time.perf_counter() - started, 1),
        "attributes": {c: sorted(a) for c, a in sorted(attributes.items())},
        "gazetteer": {"\t".join(k): v for k, v in sorted(full_gaz.items())},
        **(extra_meta or {}),
    }
    out_path.with_suffix(".json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    log.info("trained %s on %d offers (%d sequences) in %.1fs", name, len(offers), n_seq, time.perf_counter() - started)
    return out_path

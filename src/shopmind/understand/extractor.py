"""Attribute-value extractor: a linear-chain CRF (python-crfsuite) over token features plus a value dictionary.

A model is two small files under `understand/models/`: `NAME.crfsuite` (the learned weights) and `NAME.json`
(language, the attributes seen per category, the value dictionary mined from training data, the confidence
threshold chosen on a validation split). `extract` tags the title and the description separately and keeps, per
attribute, the span with the highest confidence (mean CRF marginal of its labels), title before description on ties.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson

from shopmind.understand.features import MAX_DICT_TOKENS, Gazetteer, features, language_of, tokenize

log = logging.getLogger(__name__)
MODELS_DIR = Path(str(files("shopmind.understand") / "models"))


@dataclass(frozen=True, slots=True)
class Extraction:
    """One extracted value with where it came from: `text[start:end]` of the `source` field."""

    attribute: str
    value: str
    confidence: float
    start: int
    end: int
    source: str

    def to_json(self) -> dict[str, Any]:
        """The stored form (Product.attributes_extracted[attribute])."""
        return {"value": self.value, "confidence": round(self.confidence, 4), "span": [self.start, self.end], "source": self.source}


def spans_of(labels: list[str]) -> list[tuple[str, int, int]]:
    """BIO labels → (attribute, first token, end token exclusive); a stray I- opens a span."""
    out: list[tuple[str, int, int]] = []
    cur: str | None = None
    start = 0
    for i, lab in enumerate([*labels, "O"]):
        kind, _, attr = lab.partition("-")
        if cur is not None and not (kind == "I" and attr == cur):
            out.append((cur, start, i))
            cur = None
        if kind in ("B", "I") and cur is None and attr:
            cur, start = attr, i
    return out


class Extractor:
    """A trained CRF with its metadata; thread-safe (one tagger per thread)."""

    def __init__(self, model_path: Path, meta: dict[str, Any]) -> None:
        self.model_path = model_path
        self.meta = meta
        self.name: str = meta["name"]
        self.language: str = meta.get("language", "en")
        self.use_category: bool = bool(meta.get("use_category", True))
        self.threshold: float = float(meta.get("threshold", 0.0))
        self.fallback: float = float(meta.get("fallback", 0.0))  # > 0: dictionary values fill attributes the CRF left empty
        self.attributes: dict[str, set[str]] = {c: set(a) for c, a in meta.get("attributes", {}).items()}
        self.gazetteer: Gazetteer = {tuple(k.split("\t")): v for k, v in meta.get("gazetteer", {}).items()}
        self._local = threading.local()

    @classmethod
    def load(cls, name_or_path: str | Path) -> Extractor:
        """A shipped model by name ('en', 'zh', 'oa-mine', …) or a path to NAME.crfsuite."""
        path = Path(name_or_path)
        if path.suffix != ".crfsuite":
            path = MODELS_DIR / f"{name_or_path}.crfsuite"
        meta_path = path.with_suffix(".json")
        if not path.is_file() or not meta_path.is_file():
            raise FileNotFoundError(f"no extraction model at {path} (+ .json): train one with scripts/train_extractor.py")
        return cls(path, orjson.loads(meta_path.read_bytes()))

    def _tagger(self) -> Any:
        tagger = getattr(self._local, "tagger", None)
        if tagger is None:
            import pycrfsuite  # type: ignore[import-untyped]

            tagger = pycrfsuite.Tagger()
            tagger.open(str(self.model_path))
            self._local.tagger = tagger
        return tagger

    def tag_field(self, text: str, category: str = "", source: str = "title") -> list[Extraction]:
        """Every span the CRF labels in one text field, with its confidence (before any threshold)."""
        if not text:
            return []
        toks = tokenize(text, self.language)
        if not toks:
            return []
        tagger = self._tagger()
        tagger.set(features(toks, category if self.use_category else "", source, self.gazetteer, self.language))
        labels = tagger.tag()
        out = []
        for attr, a, b in spans_of(labels):
            conf = sum(tagger.marginal(labels[t], t) for t in range(a, b)) / (b - a)
            s, e = toks[a][1], toks[b - 1][2]
            out.append(Extraction(attr, text[s:e], float(conf), s, e, source))
        return out

    def extract(self, title: str, description: str = "", category: str = "", threshold: float | None = None) -> dict[str, Extraction]:
        """Best value per attribute (confidence ≥ threshold); attributes never seen for a known category are dropped."""
        limit = self.threshold if threshold is None else threshold
        allowed = self.attributes.get(category) if self.use_category and category else None
        best: dict[str, Extraction] = {}
        for ex in [*self.tag_field(title, category, "title"), *self.tag_field(description, category, "description")]:
            if ex.confidence < limit or (allowed is not None and ex.attribute not in allowed):
                continue
            cur = best.get(ex.attribute)
            if cur is None or ex.confidence > cur.confidence + 1e-9:
                best[ex.attribute] = ex
        if self.fallback:
            for ex in self.dictionary_hits(title, allowed):
                if ex.attribute not in best and ex.confidence >= limit:
                    best[ex.attribute] = ex
        return best

    def dictionary_hits(self, title: str, allowed: set[str] | None) -> list[Extraction]:
        """Known values of one attribute only (longest match first), for attributes the CRF left empty; confidence = `fallback`."""
        toks = tokenize(title, self.language)
        words = [t[0].lower() for t in toks]
        out: list[Extraction] = []
        i = 0
        while i < len(words):
            step = 1
            for length in range(min(MAX_DICT_TOKENS, len(words) - i), 0, -1):
                key = tuple(words[i:i + length])
                attrs = [a for a in self.gazetteer.get(key, ()) if allowed is None or a in allowed]
                if attrs:
                    # without a known category, a value known for several attributes, or a bare number, says too little
                    if allowed is not None or (len(attrs) == 1 and not all(w.isdigit() for w in key)):
                        s, e = toks[i][1], toks[i + length - 1][2]
                        out += [Extraction(a, title[s:e], self.fallback, s, e, "title") for a in attrs]
                    step = length
                    break
            i += step
        return out


@cache
def shipped(name: str) -> Extractor:
    """A shipped model, loaded once per process."""
    return Extractor.load(name)


def model_for(text: str, language: str | None = None) -> Extractor:
    """The shipped general model for a product's language ('zh' for Chinese text, else 'en')."""
    lang = (language or language_of(text))[:2].lower()
    return shipped("zh" if lang == "zh" else "en")

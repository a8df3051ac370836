"""Aspect-based sentiment of review text, English and Chinese: which aspects a sentence names and how it judges each.

`Absa.analyse(text)` splits a review into sentences, finds aspect terms with the language's CRF and gives each a
polarity from the language's regression model; both ship in `understand/models/` (trained by scripts/train_absa.py
on the reviews-absa TRAIN files). Models load on first use, per language, through `MODELS` (language → files).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import orjson

from shopmind.understand.absa_data import language_of
from shopmind.understand.absa_extract import AspectTagger
from shopmind.understand.absa_lexicon import load as load_lexicon
from shopmind.understand.absa_polarity import PolarityModel, aspect_features

MODEL_DIR = Path(__file__).resolve().parent / "models"
# language → (aspect CRF, polarity model, opinion lexicon (optional), settings (`crf_lexicon`: the CRF reads the lexicon too))
MODELS: dict[str, tuple[str, str, str, str]] = {
    lang: (f"absa_{lang}.crf", f"absa_{lang}_polarity.npz", f"absa_{lang}_lexicon.json", f"absa_{lang}_meta.json") for lang in ("en", "zh")
}
MAX_TEXT = 20_000  # characters of one review that are analysed (a review is bounded at the door too)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？；;])\s*|\n+")


@dataclass(frozen=True, slots=True)
class AspectMention:
    """One aspect named in a sentence: the term, its span in the sentence, polarity and the model's confidence."""

    term: str
    start: int
    end: int
    polarity: str
    confidence: float
    sentence: str


class AbsaModelMissing(RuntimeError):
    """The model files for a language are not installed."""


class Absa:
    """The shipped ABSA models, loaded per language on first use (thread-safe)."""

    def __init__(self, model_dir: Path = MODEL_DIR) -> None:
        self.model_dir = Path(model_dir)
        self._loaded: dict[str, tuple[AspectTagger, PolarityModel, dict[str, float]]] = {}
        self._lock = threading.Lock()

    def _models(self, language: str) -> tuple[AspectTagger, PolarityModel, dict[str, float]]:
        if language not in MODELS:
            raise ValueError(f"language: {language!r} has no ABSA model; known: {', '.join(MODELS)}")
        with self._lock:
            if language not in self._loaded:
                crf, pol, lex, meta = (self.model_dir / name for name in MODELS[language])
                if not crf.is_file() or not pol.is_file():
                    raise AbsaModelMissing(f"ABSA model files for {language!r} are missing in {self.model_dir}: run scripts/train_absa.py")
                lexicon = load_lexicon(lex)
                settings = orjson.loads(meta.read_bytes()) if meta.is_file() else {}
                self._loaded[language] = (AspectTagger(crf, language, lexicon if settings.get("crf_lexicon") else None),
                                          PolarityModel.load(pol), lexicon if settings.get("polarity_lexicon", True) else {})
            return self._loaded[language]

    def available(self) -> list[str]:
        """Languages whose model files are installed."""
        return [lang for lang, files in MODELS.items() if all((self.model_dir / name).is_file() for name in files[:2])]

    def extract(self, sentence: str, language: str | None = None) -> list[tuple[int, int]]:
        """Aspect-term spans of one sentence."""
        return self._models(language or language_of(sentence))[0].spans(sentence)

    def polarities(self, sentence: str, spans: list[tuple[int, int]], language: str | None = None) -> list[tuple[str, float]]:
        """(polarity, confidence) of given aspect spans of one sentence."""
        if not spans:
            return []
        lang = language or language_of(sentence)
        _, model, lexicon = self._models(lang)
        return model.predict([aspect_features(sentence, lang, a, b, lexicon or None) for a, b in spans])

    def analyse_sentence(self, sentence: str, language: str | None = None) -> list[AspectMention]:
        """Aspects found in one sentence with their polarity."""
        lang = language or language_of(sentence)
        spans = self.extract(sentence, lang)
        return [AspectMention(sentence[a:b], a, b, pol, round(conf, 4), sentence)
                for (a, b), (pol, conf) in zip(spans, self.polarities(sentence, spans, lang), strict=True)]

    def analyse(self, text: str, language: str | None = None) -> list[AspectMention]:
        """Aspects of a whole review, sentence by sentence (offsets are within each mention's sentence)."""
        text = text[:MAX_TEXT]
        lang = language if language in MODELS else language_of(text)
        out: list[AspectMention] = []
        for sentence in split_sentences(text):
            out.extend(self.analyse_sentence(sentence, lang))
        return out


def split_sentences(text: str) -> list[str]:
    """Sentences of a review (split after . ! ? and their Chinese forms, and at line breaks), stripped, non-empty."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


_DEFAULT: Absa | None = None


def default_absa() -> Absa:
    """The process-wide ABSA models (shipped files)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Absa()
    return _DEFAULT

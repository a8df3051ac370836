"""The ABSA harness behind `shopmind eval absa`: run the shipped models over a labelled JSONL file and score them.

Aspects are extracted from each sentence as a whole (exact-span F1 against every annotated occurrence); polarity is
predicted for each gold aspect (accuracy and macro F1), both scored by `absa_metric`, which never calls the models.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from shopmind.understand.absa import Absa, default_absa
from shopmind.understand.absa_data import gold_spans, read_jsonl
from shopmind.understand.absa_metric import AbsaScores

MAX_SENTENCES = 200_000  # a file longer than this is refused (no evaluation runs unbounded)


def evaluate_absa(path: str | Path, absa: Absa | None = None) -> dict[str, Any]:
    """Scores of the models on a reviews-absa JSONL file: aspect_f1, polarity_accuracy, polarity_macro_f1 (0–1) and counts."""
    absa = absa or default_absa()
    started = time.perf_counter()
    scores, n, languages = AbsaScores(), 0, set()
    for s in read_jsonl(path):
        n += 1
        if n > MAX_SENTENCES:
            raise ValueError(f"{path}: more than {MAX_SENTENCES} sentences; split the file")
        languages.add(s.language)
        scores.add_spans(gold_spans(s), absa.extract(s.text, s.language))
        judged = [a for a in s.aspects if a.polarity]
        predicted = absa.polarities(s.text, [(a.start, a.end) for a in judged], s.language)
        scores.add_polarities([a.polarity or "" for a in judged], [p for p, _ in predicted])
    out: dict[str, Any] = {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.result().items()}
    out.update({"sentences": n, "languages": sorted(languages), "data": str(path), "seconds": round(time.perf_counter() - started, 2)})
    return out

"""Section `absa` of bench/understanding.py: aspect-term extraction and aspect polarity per reviews-absa set.

Each set's test_dev.jsonl (half of the published test set; the other half is held back) goes through
`evaluate_absa` with the shipped models (trained on TRAIN only; settings chosen on a validation split of TRAIN by
scripts/train_absa.py --select). Aspect F1 is on exact character spans; polarity accuracy and macro F1 are on the gold
aspects. Anchors: LCF-ATEPC (Yang et al. 2021) on the full published test sets; BERT-class models on a GPU.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

SETS = ("phone", "camera", "notebook", "car", "television", "tshirt", "laptop14")
# set → (aspect F1, polarity accuracy) of LCF-ATEPC's best published row, in per cent (README of reviews-absa/)
ANCHORS = {"phone": (92.55, 97.38), "camera": (88.47, 98.16), "notebook": (89.16, 94.31), "car": (88.0, 98.26), "laptop14": (85.29, 83.02)}
QUICK_SENTENCES = 40


def _slice(path: Path, n: int, tmp: Path) -> Path:
    lines = path.read_bytes().splitlines(keepends=True)[:n]
    out = tmp / f"{path.parent.name}.jsonl"
    out.write_bytes(b"".join(lines))
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    import tempfile

    from shopmind.understand.absa import default_absa
    from shopmind.understand.absa_eval import evaluate_absa

    absa = default_absa()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in SETS:
            path = Path(args.data) / "reviews-absa" / name / "test_dev.jsonl"
            if args.quick:
                path = _slice(path, QUICK_SENTENCES, Path(tmp))
            t0 = time.perf_counter()
            r = evaluate_absa(path, absa)
            prefix = f"absa.{name}"
            out[f"{prefix}.aspect_f1"] = round(100 * r["aspect_f1"], 2)
            out[f"{prefix}.polarity_accuracy"] = round(100 * r["polarity_accuracy"], 2)
            out[f"{prefix}.polarity_macro_f1"] = round(100 * r["polarity_macro_f1"], 2)
            out[f"{prefix}.sentences"] = r["sentences"]
            out[f"{prefix}.gold_aspects"] = r["gold_aspects"]
            out[f"{prefix}.sentences_per_second"] = round(r["sentences"] / max(time.perf_counter() - t0, 1e-9), 1)
            if name in ANCHORS:
                out[f"{prefix}.anchor_lcf_atepc_f1_acc"] = f"{ANCHORS[name][0]} / {ANCHORS[name][1]}"
    out["absa.models"] = "CRF (python-crfsuite) aspect tagger + sparse logistic regression polarity, per language, CPU"
    out["absa.protocol"] = "test_dev half of each published test set; trained on TRAIN, settings chosen on a 15% validation split of TRAIN"
    return out

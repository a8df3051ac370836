"""Train the shipped attribute-value extractors (src/shopmind/understand/models/) from the shared training files.

Per set: a validation split carved from TRAIN by a fixed hash (20 %) picks the confidence threshold (and, with
--ablate, shows what the value dictionary adds); then the model is retrained on the whole train file. test_dev is
never read here. MEPAVE (Chinese) trains on the train part of its fixed md5 split (understand.datasets.mepave_part).
Usage: python scripts/train_extractor.py [--sets oa-mine,ae-110k,wdc,zh,en] [--data /work/shared/data] [--ablate]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path

import orjson

from shopmind.evaluation.extract_eval import predict
from shopmind.evaluation.extract_metric import score
from shopmind.understand.datasets import NA, Offer, read_offers
from shopmind.understand.extractor import MODELS_DIR, Extractor
from shopmind.understand.train import canonical, train_crf

log = logging.getLogger("train_extractor")
MEPAVE = "ecomgpt/data__ecom_instruct_v1__MEPAVE__tasks__ZH-MEPAVE-NER-attribute_value_extraction__test.json"
TRAIN = {
    "oa-mine": ["extraction/extractgpt/oa-mine/train.jsonl"],
    "ae-110k": ["extraction/extractgpt/ae-110k/train.jsonl"],
    "wdc": ["extraction/wdc-pave/wdc_with_all_attributes/train_large.jsonl"],
    "zh": [MEPAVE],
}
TRAIN["en"] = TRAIN["oa-mine"] + TRAIN["ae-110k"] + TRAIN["wdc"]  # the general English model used for enrichment
THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
FALLBACK = 0.5  # the confidence given to a dictionary value that fills an attribute the CRF left empty
ITERATIONS = 100
EN_ATTRIBUTES = 24  # tagging costs grow with the square of the label count: the general model keeps the most frequent names


def is_validation(o: Offer) -> bool:
    """A fixed 20 % of TRAIN offers, by a hash of the title."""
    return int(hashlib.md5(o.title.encode("utf-8")).hexdigest()[:6], 16) % 5 == 0


def load(name: str, data: Path) -> list[Offer]:
    offers = [o for f in TRAIN[name] for o in read_offers(data / f, part="train")]
    if name == "en":  # one schema across sets: category dropped, attribute names made canonical, the most frequent kept
        for o in offers:
            o.gold = {canonical(a): v for a, v in o.gold.items()}
            o.category = ""
        freq = Counter(a for o in offers for a, v in o.gold.items() if any(x != NA for x in v))
        keep = {a for a, _ in freq.most_common(EN_ATTRIBUTES)}
        for o in offers:
            o.gold = {a: v for a, v in o.gold.items() if a in keep}
    return offers


def choose(offers: list[Offer], val_model: Path) -> dict:
    """Threshold and dictionary fallback (off / FALLBACK) by micro F1 of the validation-split model on the validation offers."""
    val = [o for o in offers if is_validation(o)]
    model = Extractor.load(val_model)
    rows = {}
    for fb in (0.0, FALLBACK):
        model.fallback = fb
        for th in THRESHOLDS:
            r = score([o.gold for o in val], predict(model, val, th), [o.category for o in val])
            rows[f"{th:.1f}/{fb}"] = {"precision": round(r["precision"], 4), "recall": round(r["recall"], 4), "f1": round(r["f1"], 4),
                                      "macro_f1": round(r["macro"]["f1"], 4)}
    best = max(rows, key=lambda k: (rows[k]["f1"], -float(k.split("/")[0])))
    th, fb = best.split("/")
    return {"validation_offers": len(val), "fit_offers": len(offers) - len(val), "by_threshold_fallback": rows, "threshold": float(th),
            "fallback": float(fb), "f1": rows[best]["f1"]}


def validate(name: str, offers: list[Offer], lang: str, out: Path, **kw: object) -> dict:
    fit = [o for o in offers if not is_validation(o)]
    path = train_crf(fit, out / f"{name}-val", name=f"{name}-val", language=lang, max_iterations=ITERATIONS, **kw)  # type: ignore[arg-type]
    return choose(offers, path)


def calibrate(name: str, data: Path, out: Path, scratch: Path) -> dict:
    """Re-choose threshold and fallback for an already trained model from its kept validation model; rewrite its .json."""
    val = choose(load(name, data), scratch / f"{name}-val.crfsuite")
    meta_path = out / f"{name}.json"
    meta = orjson.loads(meta_path.read_bytes())
    meta.update(threshold=val["threshold"], fallback=val["fallback"], validation=val)
    meta_path.write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    return val


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="oa-mine,ae-110k,wdc,zh,en")
    ap.add_argument("--data", default="/work/shared/data")
    ap.add_argument("--out", default=str(MODELS_DIR))
    ap.add_argument("--scratch", default="/tmp/shopmind-extractor-val")
    ap.add_argument("--ablate", action="store_true", help="also validate without the value dictionary")
    ap.add_argument("--calibrate", action="store_true", help="only re-choose threshold/fallback of trained models from their validation models")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    data, out, scratch = Path(args.data), Path(args.out), Path(args.scratch)
    report = {}
    for name in args.sets.split(","):
        started = time.perf_counter()
        if args.calibrate:
            print(json.dumps({name: calibrate(name, data, out, scratch)}), flush=True)
            continue
        lang = "zh" if name == "zh" else "en"
        offers = load(name, data)
        kw = {"use_category": name != "en", "canonical_names": name == "en"}
        val = validate(name, offers, lang, scratch, **kw)
        if args.ablate:
            val["no_dictionary"] = validate(name + "-nodict", offers, lang, scratch, use_dictionary=False, **kw)
        log.info("%s validation: %s", name, json.dumps(val))
        train_crf(offers, out / name, name=name, language=lang, max_iterations=ITERATIONS, threshold=val["threshold"], fallback=val["fallback"],
                  extra_meta={"validation": val, "trained_on": TRAIN[name], "licence": "learned weights and a value dictionary from "
                              "research-use data (see the data README); the training data is not shipped"}, **kw)  # type: ignore[arg-type]
        report[name] = {**val, "seconds": round(time.perf_counter() - started, 1)}
        print(json.dumps({name: report[name]}), flush=True)


if __name__ == "__main__":
    main()

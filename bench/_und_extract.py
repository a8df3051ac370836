"""Section `extract` of bench/understanding.py: attribute-value extraction quality, enrichment speed and facet coverage.

Quality: each set's test_dev file (never used for training or tuning: thresholds come from a validation split of
TRAIN, see scripts/train_extractor.py) through `evaluate_extraction`, the published metric. MEPAVE (Chinese) has
only one file: scored on the test part of its fixed md5 split (the model trained on the other part).
Home Depot: 54,667 real titles without attributes, enriched with the general English model; facet coverage = share
of products with at least one attribute usable as a facet (a key on >= 1 % of the catalog, with a value that at
least one other product shares), before and after enrichment.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Any

import orjson

SETS = {
    "oa-mine": "extraction/extractgpt/oa-mine/test_dev.jsonl",
    "ae-110k": "extraction/extractgpt/ae-110k/test_dev.jsonl",
    "wdc-pave": "extraction/wdc-pave/wdc_with_all_attributes/test_dev.jsonl",
    "mepave-zh": "ecomgpt/data__ecom_instruct_v1__MEPAVE__tasks__ZH-MEPAVE-NER-attribute_value_extraction__test.json",
}
MIN_KEY_SHARE = 0.01


def facet_coverage(attr_dicts: list[dict[str, Any]]) -> tuple[float, dict[str, float]]:
    """Share of products with >= 1 usable facet value, and the usable keys' coverage."""
    n = len(attr_dicts)
    key_count: Counter[str] = Counter(k for a in attr_dicts for k in a)
    value_count: Counter[tuple[str, str]] = Counter((k, str(v)) for a in attr_dicts for k, v in a.items())
    usable = {k for k, c in key_count.items() if c >= MIN_KEY_SHARE * n}
    covered = sum(any(k in usable and value_count[(k, str(v))] >= 2 for k, v in a.items()) for a in attr_dicts)
    return (covered / n if n else 0.0), {k: round(key_count[k] / n, 4) for k in sorted(usable, key=lambda k: -key_count[k])}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from shopmind.domain import Product
    from shopmind.evaluation.extract_eval import evaluate_extraction
    from shopmind.understand.enrich import EnrichStats, enrich, facet_attributes
    from shopmind.understand.extractor import Extractor

    out: dict[str, Any] = {}
    for name, rel in SETS.items():
        r = evaluate_extraction(args.data / rel)
        model = Extractor.load(r["model"])
        out |= {f"extract.{name}.{k}": round(v, 4) for k, v in (("precision", r["precision"]), ("recall", r["recall"]), ("f1", r["f1"]),
                                                                 ("macro_f1", r["macro"]["f1"]))}
        out[f"extract.{name}.offers"] = r["offers"]
        out[f"extract.{name}.model"] = r["model"]
        out[f"extract.{name}.language"] = "zh" if name.endswith("-zh") else "en"
        out[f"extract.{name}.validation_f1"] = model.meta.get("validation", {}).get("f1")
        out[f"extract.{name}.offers_per_second"] = r["offers_per_second"]
    limit = 3000 if args.quick else None
    products = []
    with (args.data / "search/homedepot/products.jsonl").open("rb") as fh:
        for line in fh:
            products.append(Product.model_validate(orjson.loads(line)))
            if limit and len(products) >= limit:
                break
    before, _ = facet_coverage([p.attributes for p in products])
    stats = EnrichStats()
    Extractor.load("en")  # model load not timed
    t0 = time.perf_counter()
    enrich(products, stats=stats)
    seconds = time.perf_counter() - t0
    after, keys = facet_coverage([facet_attributes(p) for p in products])
    confident = sum(any(v["confidence"] >= 0.8 for v in p.attributes_extracted.values()) for p in products)
    out |= {"extract.hd_products": len(products), "extract.hd_products_per_second": round(len(products) / seconds, 1),
            "extract.hd_enrich_seconds": round(seconds, 1), "extract.hd_values_per_product": round(stats.values / len(products), 2),
            "extract.hd_facet_coverage_before": round(before, 4), "extract.hd_facet_coverage_after": round(after, 4),
            "extract.hd_share_with_value_conf_0.8": round(confident / len(products), 4),
            "extract.hd_facet_keys": dict(list(keys.items())[:12])}
    return out

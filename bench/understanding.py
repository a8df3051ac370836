"""Product-understanding bench (issue 19): extraction, review aspects (ABSA), one section module each.

Sections (--sections, default all), each `bench/_und_<name>.py` with `run(args) -> dict` (flat keys):
  extract   attribute-value extraction P/R/F1 (micro, macro) per set and language on test_dev (OA-Mine, AE-110k,
            WDC-PAVE all attributes; MEPAVE's test part, Chinese), enrichment throughput and facet coverage
            before/after enrichment on the Home Depot catalog                                  -> extract.*
  search    Home Depot search nDCG@10 (dev queries of bench/search.py's split) without enrichment, with it, and with
            extracted values as a lexical field; paired bootstrap intervals of the differences  -> search.*
  ratings   item ratings as a recommendation signal: EASE vs EASE + smoothed mean rating on MovieLens-100K
            (leave-last-out; weight chosen on validation, test reported once)                   -> ratings.*
  absa      aspect extraction and aspect sentiment per set                                     -> absa.*
  images    image embeddings (EfficientNet-Lite0): images/s, P@10 same category/domain, near-duplicate P/R  -> images.*
  generation  query rewriting on zero/low-result Home Depot queries (train+valid "fit", dev reported apart; never final)
            and generated descriptions under the fact check (extracted values, review figures)  -> rewrite.*, generation.*
A missing or failing section is reported as such (`<name>.status`) and the others still run. The last line (with
--json) is one JSON object with every key; also written to --out (default bench/results/understanding.json).

    nice python bench/understanding.py --json
    python bench/understanding.py --quick --json     # smoke sizes (numbers mean nothing)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
from _common import data_dir, machine, report, require

REPO = Path(__file__).resolve().parents[1]
SECTIONS = ("extract", "search", "ratings", "absa", "images", "generation")
BARS = {
    "extract.oa-mine.f1": "pre-LLM ~0.80 (GPT-4 ~0.86 avg with AE-110k)", "extract.ae-110k.f1": "pre-LLM ~0.80",
    "extract.wdc-pave.f1": "pre-LLM ~0.81 (GPT-4 0.91)", "extract.mepave-zh.f1": "quote",
    "extract.hd_products_per_second": "quote", "extract.hd_facet_coverage_after": "> before",
    "search.ndcg_with_enrichment": ">= search.ndcg_without (Home Depot dev queries)", "ratings.supports_signal": "wired only if true",
    "images.p_at_10_same_category": "> chance (images.p_at_10_same_category_chance)", "images.dup.combined.recall": "quote",
}


def run_section(name: str, args: argparse.Namespace, result: dict[str, Any]) -> None:
    """Run section `name` (bench/_und_<name>.py); a missing or failing one is recorded, the next still runs."""
    _common.run_section("_und_", name, args, result)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke sizes (numbers mean nothing)")
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    ap.add_argument("--json", action="store_true", help="print the result as one JSON line last (the table goes to stderr)")
    ap.add_argument("--data", type=Path, default=None, help="the shared data folder (default $SHOPMIND_SHARED_DATA or ../shared/data)")
    ap.add_argument("--out", type=Path, default=None, help="default bench/results/understanding.json (understanding_quick.json with --quick)")
    ap.add_argument("--load-note", default="", help="what else ran on the machine meanwhile (recorded with the figures)")
    args = ap.parse_args()
    wanted = [s.strip() for s in args.sections.split(",") if s.strip()]
    bad = [s for s in wanted if s not in SECTIONS]
    if bad:
        ap.error(f"--sections: unknown section(s) {bad}; known: {', '.join(SECTIONS)}")
    require("rich", "orjson")
    args.data = data_dir(args.data)
    out = args.out or REPO / "bench" / "results" / ("understanding_quick.json" if args.quick else "understanding.json")
    result: dict[str, Any] = {"mode": "quick (smoke sizes: numbers mean nothing)" if args.quick else "full"}
    if out.is_file() and set(wanted) != set(SECTIONS):  # a subset run keeps the other sections' figures of the last run
        import orjson

        kept = {k: v for k, v in orjson.loads(out.read_bytes()).items() if k.split(".", 1)[0] in set(SECTIONS) - set(wanted)}
        result.update(kept)
    result["loadavg_start"] = [round(x, 2) for x in os.getloadavg()]
    for name in SECTIONS:
        if name in wanted:
            run_section(name, args, result)
    result["machine"] = machine()
    result["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.load_note:
        result["load_note"] = args.load_note
    result["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report(result, title="product understanding (bench/understanding.py)", bars=BARS, out=out, as_json=args.json)


if __name__ == "__main__":
    main()

"""Experimentation bench (issue 17): every figure of the experiment machinery, one section module each.

Sections (--sections, default all), each `bench/_exp_<name>.py` with `run(args) -> dict` (flat keys):
  aa        A/A tests from simulated sessions on real Home Depot queries: false-positive rate over >= 1,000 runs at
            alpha 0.05 (fixed horizon; peeking with mSPRT and with a naive t-test)           -> aa_false_positive_rate, aa_runs
  sim       a known-better ranker (hybrid + ranker vs BM25 only): power of A/B vs team-draft interleaving against the
            number of sessions, sessions for 80 % power each and their ratio                -> interleaving_sensitivity_ratio
  personal  personalised vs non-personalised search nDCG@10 on held-out MovieLens users        -> personalised_ndcg_gain
  ope       off-policy estimators on the Open Bandit sample; CUPED on Hillstrom               -> cuped_variance_reduction
  served    the served recommendation pipeline vs the evaluated one                           -> served_vs_eval.*
A missing or failing section is reported as such (`<name>.status`) and the others still run. Simulated figures are
labelled simulated. The last line (with --json) is one JSON object with every key; also written to --out.

    nice python bench/experiments.py --json                 # full sizes
    python bench/experiments.py --quick --json              # smoke sizes (numbers mean nothing)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
from _common import data_dir, machine, require

REPO = Path(__file__).resolve().parents[1]
SECTIONS = ("aa", "sim", "personal", "ope", "served")
HEADLINE = ("aa_false_positive_rate", "aa_runs", "interleaving_sensitivity_ratio", "cuped_variance_reduction", "personalised_ndcg_gain")
BARS = {"aa_false_positive_rate": "in [0.03, 0.07]", "aa_runs": ">= 1000", "interleaving_sensitivity_ratio": ">= 10",
        "personalised_ndcg_gain": "> 0 (CI above 0)", "cuped_variance_reduction": "quote"}


def run_section(name: str, args: argparse.Namespace, result: dict[str, Any]) -> None:
    """Run section `name` (bench/_exp_<name>.py); a missing or failing one is recorded, the next still runs."""
    _common.run_section("_exp_", name, args, result)


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    text = str(value)
    return text if len(text) <= 90 else text[:87] + "…"


def report(result: dict[str, Any], out: Path, as_json: bool) -> None:
    """Write the JSON, print a table (headline first; to stderr with --json) and, with --json, the JSON line last."""
    import orjson
    from rich.console import Console
    from rich.table import Table

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    table = Table(title="experiments (bench/experiments.py)")
    for col in ("metric", "value", "bar"):
        table.add_column(col)
    for key in [*HEADLINE, *(k for k in result if k not in HEADLINE)]:
        table.add_row(key, _cell(result.get(key)), BARS.get(key, ""))
    Console(stderr=as_json).print(table)
    if as_json:
        print(orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY).decode(), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke sizes: every section in a minute or two (numbers mean nothing)")
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    ap.add_argument("--json", action="store_true", help="print the result as one JSON line last (the table goes to stderr)")
    ap.add_argument("--data", type=Path, default=None, help="the shared data folder (default $SHOPMIND_SHARED_DATA or ../shared/data)")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one, removed at the end)")
    ap.add_argument("--out", type=Path, default=None, help="default bench/results/experiments.json (experiments_quick.json with --quick)")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--aa-runs", type=int, default=None, help="A/A experiments (default 2,000; 200 with --quick)")
    ap.add_argument("--hd-queries", type=int, default=None, help="aa/sim on a slice: the first N judged Home Depot queries and "
                    "their products + 20,000 random titles (default: the whole set; 600 and 4,000 with --quick)")
    args = ap.parse_args()
    wanted = [s.strip() for s in args.sections.split(",") if s.strip()]
    bad = [s for s in wanted if s not in SECTIONS]
    if bad:
        ap.error(f"--sections: unknown section(s) {bad}; known: {', '.join(SECTIONS)}")
    require("rich", "orjson", "scipy")
    args.data = data_dir(args.data)
    tmp = tempfile.TemporaryDirectory(prefix="shopmind-exp-") if args.work is None else None
    args.work = Path(tmp.name) if tmp else args.work
    args.work.mkdir(parents=True, exist_ok=True)
    out = args.out or REPO / "bench" / "results" / ("experiments_quick.json" if args.quick else "experiments.json")
    result: dict[str, Any] = dict.fromkeys(HEADLINE)
    result["mode"] = "quick (smoke sizes: numbers mean nothing)" if args.quick else "full"
    try:
        for name in SECTIONS:
            if name in wanted:
                run_section(name, args, result)
    finally:
        if tmp:
            tmp.cleanup()
    result["machine"] = machine()
    result["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    result["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report(result, out, args.json)


if __name__ == "__main__":
    main()

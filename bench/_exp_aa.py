"""Section `aa` of bench/experiments.py: A/A tests reject at the nominal rate — SIMULATED sessions on real queries.

Each A/A experiment: `users` simulated shoppers (one session each, a real Home Depot test query drawn uniformly, the same
ranker in both arms: BM25 only), split 50/50 by the experiment assignment itself (experiments.assign: blake2b keyed by
a fresh salt per run, as a live experiment would), clicks per session from the click model (see _exp_sim.py). Tests
at alpha 0.05: Welch at the fixed horizon (the bar: rate in [0.03, 0.07] over >= 1,000 runs), mSPRT looked at 10 times
(always valid: should stay <= alpha) and a naive Welch test looked at as often (the inflation peeking causes).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from _exp_sim import Sizes, lab


def salted_split(ids: Sequence[str], salt: str) -> np.ndarray:
    """0/1 arm of each unit: the experiment service's own salted hash (experiments.assign), two equal weights."""
    from shopmind.experiments.assign import buckets, uniform

    return buckets([1.0, 1.0], np.fromiter((uniform(salt, u) for u in ids), np.float64, len(ids)))


def run(args: Any) -> dict[str, Any]:
    """The A/A false-positive rates (fixed horizon, mSPRT with peeking, naive peeking)."""
    sizes = Sizes(bool(args.quick))
    runs = int(getattr(args, "aa_runs", None) or (200 if args.quick else 2000))
    the_lab, notes = lab(args)
    t0 = time.perf_counter()
    res = the_lab.aa(runs, sizes.aa_users, salted_split, alpha=0.05, looks=10, seed=int(getattr(args, "seed", 17)))
    print(f"[aa] {runs} A/A runs: fixed {res['false_positive_rate']:.4f}, mSPRT peeking {res['msprt_peeking_false_positive_rate']:.4f}, "
          f"naive peeking {res['naive_peeking_false_positive_rate']:.4f}", file=sys.stderr, flush=True)
    return {
        **notes,
        "aa_false_positive_rate": res["false_positive_rate"],
        "aa_runs": runs,
        "aa.simulated": "yes: sessions drawn from the click model on real queries and judgements",
        "aa.false_positive_ci95": res["false_positive_ci95"],
        "aa.msprt_peeking_false_positive_rate": res["msprt_peeking_false_positive_rate"],
        "aa.naive_peeking_false_positive_rate": res["naive_peeking_false_positive_rate"],
        "aa.looks": res["looks"],
        "aa.users_per_run": res["users_per_run"],
        "aa.alpha": res["alpha"],
        "aa.share_in_b": res["share_b_mean"],
        "aa.srm_flags_at_0.001": res["srm_flags_at_0.001"],
        "aa.split": "experiments.assign (blake2b keyed by a fresh salt per run), weights 1:1",
        "aa.simulate_seconds": round(time.perf_counter() - t0, 1),
    }

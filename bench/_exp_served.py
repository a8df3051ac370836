"""Section of bench/experiments.py: serve what you measure — the served recommend pipeline vs the model `eval` measures.

Per set (ML-100K with its real timestamps; Amazon Beauty, whose sequences have no time, each user's sequence ending on
one day so the time cut holds out each user's last items): the events are cut at the 80 % time quantile, a shop is
built on the past through the facade (selection, card), and every sampled held-out user is asked `shop.recommend`
for the home placement — what `/recommend` serves — and scored against the new items they took after the cut.
Beside it: the chosen blend applied offline to the same histories (`eval`'s figure on this split), and the
leave-one-out `eval recs --model auto` figure quoted from bench/results/recs_<set>.json where that bench has run
(another protocol: for orientation only). Keys `served_vs_eval.<set>.*`.
Run alone: `python bench/_exp_served.py [--quick] [--data ../shared/data] [--json]`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from shopmind.evaluation.served import evaluate_served
from shopmind.recommend.datasets import ml100k, seqrec

REPO = Path(__file__).resolve().parents[1]


def _settings(quick: bool) -> dict[str, Any]:
    """A build-sized budget; SASRec joins in the full run when torch is there (the selection says so in the card)."""
    select: dict[str, Any] = {"budget_s": 60.0 if quick else 900.0, "max_train_s": 300.0}
    if quick:
        select["candidates"] = ["popular", "itemknn", "rules", "als", "ease"]
    return {"recommend": {"content_encoder": "none", "rising": False, "select": select}, "search": {"stages": {"dense": False}}}


def _loo_auto(name: str) -> float | None:
    """The `auto` leave-one-out test NDCG@10 from bench/recs.py's result file for the set, when present."""
    f = REPO / "bench" / "results" / f"recs_{name}.json"
    if not f.is_file():
        return None
    rows = json.loads(f.read_text()).get("rows", [])
    auto = [r for r in rows if r.get("model") == "auto"]
    return float(auto[0]["ndcg@10"]) if auto and "ndcg@10" in auto[0] else None


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Served vs offline NDCG@10 (and HR@10) of the home placement on ML-100K and Beauty."""
    quick = bool(getattr(args, "quick", False))
    data = Path(getattr(args, "data", None) or os.environ.get("SHOPMIND_SHARED_DATA", REPO.parent / "shared" / "data"))
    work = getattr(args, "work", None)
    sets = {
        "ml-100k": (lambda: ml100k(data / "ml-100k", max_users=300 if quick else None), "ml-100k"),
        "beauty": (lambda: seqrec(data / "seqrec" / "Beauty.txt", align="end", max_users=2000 if quick else None), "Beauty"),
    }
    out: dict[str, Any] = {"served_vs_eval.protocol": "temporal 80/20 cut; home placement; served = shop.recommend through the facade; "
                           "offline = the chosen blend on the same histories, all items, history excluded"}
    for name, (load, recs_name) in sets.items():
        t0 = time.perf_counter()
        products, events = load()
        res = evaluate_served(products, events, settings=_settings(quick), max_users=300 if quick else 3000,
                              seed=int(getattr(args, "seed", 0) or 0), workdir=work)
        p = f"served_vs_eval.{name}"
        served, offline = res["served"], res["offline"] or {}
        out[f"{p}.served_model"] = res["served_model"]
        out[f"{p}.users"] = res["users"]
        for key in ("ndcg@10", "hr@10", "recall@20"):
            out[f"{p}.served_{key}"] = served[key]
            out[f"{p}.offline_{key}"] = offline.get(key)
        out[f"{p}.served_over_offline_ndcg@10"] = round(served["ndcg@10"] / offline["ndcg@10"], 4) if offline.get("ndcg@10") else None
        out[f"{p}.card_val_ndcg@10"] = res["card_val_ndcg@10"]
        out[f"{p}.loo_auto_ndcg@10"] = _loo_auto(recs_name)
        out[f"{p}.build_s"] = res["build_s"]
        out[f"{p}.recommend_ms_mean"] = res["recommend_ms_mean"]
        out[f"{p}.seconds"] = round(time.perf_counter() - t0, 1)
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    result = run(a)
    print(json.dumps(result) if a.json else "\n".join(f"{k}: {v}" for k, v in result.items()))

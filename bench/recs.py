"""Recommendation bench: every model on Beauty, Sports and ML-100k, leave-one-out, full ranking.

Per set: each model tuned on the validation item only (grids in shopmind.evaluation.recs_eval.GRIDS), then
scored on the test item; plus blends chosen on validation, plain `implicit` ALS (its own user factors,
untuned) and a reference SASRec (original BCE loss, one negative). Quality, training time and single-user
`recommend` latency (p50/p99). Table on stdout, last line one JSON object, also bench/results/recs.json.

    nice python bench/recs.py --json [--quick] [--sets Beauty,Sports,ml-100k]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np

from shopmind.evaluation.recs_eval import GRIDS, LOOSplit, blend_on_validation, refit_for_test, sequences_from_inter, tune
from shopmind.recommend.base import Recommender, create

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SHOPMIND_SHARED_DATA", ROOT.parent / "shared" / "data"))


def load_split(name: str, max_users: int | None) -> LOOSplit:
    """Beauty/Sports from seqrec/, ml-100k from its .inter (sequences by timestamp)."""
    if name == "ml-100k":
        seqs, n_items, users = sequences_from_inter(DATA / "ml-100k" / "ml-100k.inter")
    else:
        from shopmind.recommend.base import read_seqrec

        seqs, users = read_seqrec(DATA / "seqrec" / f"{name}.txt")
        n_items = int(max(s.max() for s in seqs)) + 1
    if max_users:
        seqs, users = seqs[:max_users], users[:max_users]
    return LOOSplit(seqs, n_items, users)


def latency(model: Recommender, split: LOOSplit, n: int = 200) -> tuple[float, float]:
    """p50/p99 milliseconds of a single-user recommend(k=20) call over test histories."""
    rng = np.random.default_rng(0)
    idx = rng.choice(len(split.test_hist), min(n, len(split.test_hist)), replace=False)
    times = []
    model.recommend([split.test_hist[idx[0]]], k=20)
    for i in idx:
        t0 = time.perf_counter()
        model.recommend([split.test_hist[i]], k=20)
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


class PlainALS(Recommender):
    """Reference: implicit ALS (64 factors, 15 iterations, defaults), its own user factors, no tuning."""

    name = "implicit-als"

    def fit(self, interactions):  # type: ignore[override]
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        self.x = interactions.csr()
        self.m = AlternatingLeastSquares(factors=64, iterations=15, random_state=0, num_threads=2)
        with threadpool_limits(1, "blas"):
            self.m.fit(self.x, show_progress=False)
        self.n_items = interactions.n_items
        return self

    def score(self, histories):  # type: ignore[override]
        from shopmind.recommend.base import histories_csr

        h = histories_csr(histories, self.n_items)
        h.data[:] = 1.0
        uf = self.m.recalculate_user(np.arange(len(histories)), h)
        return np.asarray(uf, dtype=np.float32) @ np.asarray(self.m.item_factors, dtype=np.float32).T


def run_set(name: str, args: argparse.Namespace, log) -> list[dict]:
    """All models on one set."""
    split = load_split(name, 3000 if args.quick else None)
    rows = []
    fitted: dict[str, Recommender] = {}
    for_test: dict[str, Recommender] = {}
    models = args.models.split(",")
    for mname in models:
        grid = GRIDS.get(mname, [{}])
        if mname == "sasrec-bce":
            grid = [{"loss": "bce", "lr": 1e-3, "dropout": 0.5, "max_train_s": args.ref_budget, "eval_every": 5,
                     "patience": 2}]
        if mname.startswith("sasrec"):
            grid = [{**g, "max_train_s": g.get("max_train_s", args.sasrec_budget)} for g in grid]
            if args.quick:
                grid = [{**g, "epochs": 2, "eval_every": 1} for g in grid]
        if args.quick:
            grid = grid[:2]
        real = "sasrec" if mname.startswith("sasrec") else mname
        if mname == "implicit-als":
            t0 = time.perf_counter()
            model = PlainALS().fit(split.train)
            train_s, params, val = time.perf_counter() - t0, {"factors": 64, "iterations": 15}, split.val_metric(model)
        else:
            model, params, val, train_s = tune(real, split, grid=grid, log=log)
            if real == "sasrec":
                train_s = model.train_s  # type: ignore[attr-defined]
        fitted[mname] = model
        if mname == "implicit-als":
            t0 = time.perf_counter()
            test_model, refit_s = PlainALS().fit(split.train_test), 0.0
            refit_s = time.perf_counter() - t0
        else:
            test_model, refit_s = refit_for_test(model, split)
        for_test[mname] = test_model
        test = split.evaluate(test_model)
        p50, p99 = latency(test_model, split)
        row = {"set": name, "model": mname, "params": params, "val_ndcg@10": round(val, 5), **test,
               "train_s": round(train_s, 2), "refit_s": round(refit_s, 2), "p50_ms": round(p50, 3),
               "p99_ms": round(p99, 3)}
        if real == "sasrec":
            row["epochs"] = len(model.history)  # type: ignore[attr-defined]
        log(json.dumps(row))
        rows.append(row)
    for base, others in [("sasrec", ["itemknn", "ease"]), ("itemknn", ["ease"])]:
        if base in fitted and all(o in fitted for o in others):
            t0 = time.perf_counter()
            blended, val = blend_on_validation(fitted[base], [fitted[o] for o in others], split)
            from shopmind.recommend.blend import Blend

            blended = Blend().with_models([for_test[base], *[for_test[o] for o in others]], blended.params["weights"])
            test = split.evaluate(blended)
            p50, p99 = latency(blended, split)
            row = {"set": name, "model": "blend:" + "+".join([base, *others]), "params": {"weights": blended.params["weights"]},
                   "val_ndcg@10": round(val, 5), **test,
                   "train_s": round(sum(r["train_s"] for r in rows if r["model"] in [base, *others]) + time.perf_counter() - t0, 2),
                   "p50_ms": round(p50, 3), "p99_ms": round(p99, 3)}
            log(json.dumps(row))
            rows.append(row)
    return rows


def service_latency(name: str, log, n: int = 300) -> dict:
    """Build a RecommendService on a whole set (ids as titles, no text model) and time placements."""
    import tempfile

    from shopmind.recommend.datasets import seqrec
    from shopmind.recommend.service import RecommendConfig, RecommendService

    products, events = seqrec(DATA / "seqrec" / f"{name}.txt")
    cfg = RecommendConfig(models=["popular", "trending", "itemknn", "rules", "als"], content_encoder="none", evaluate=False)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        svc = RecommendService.build(products, events, Path(tmp), cfg)
        build_s = time.perf_counter() - t0
        users = list(svc.user_index)[:n]
        out = {"set": name, "items": svc.n_items, "users": len(svc.user_index), "build_s": round(build_s, 2)}
        for placement in ("home", "product", "cart"):
            times = []
            for i, u in enumerate(users):
                item = svc.item_ids[int(svc.user_items[svc.user_indptr[svc.user_index[u]]])]
                t1 = time.perf_counter()
                svc.recommend(user_id=u, placement=placement, item_id=item, cart=[item], k=20)
                times.append((time.perf_counter() - t1) * 1000)
            out[placement] = {"p50_ms": round(float(np.percentile(times, 50)), 3),
                              "p99_ms": round(float(np.percentile(times, 99)), 3)}
        log(json.dumps(out))
        return out


def main() -> None:
    """Run the bench and print the table and the JSON line."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="first 3,000 users, 2 grid points, 2 SASRec epochs")
    ap.add_argument("--sets", default="Beauty,Sports,ml-100k")
    ap.add_argument("--models", default="popular,itemknn,rules,als,bpr,ease,implicit-als,sasrec,sasrec-bce")
    ap.add_argument("--sasrec-budget", type=float, default=1200.0, help="seconds of SASRec training per set")
    ap.add_argument("--ref-budget", type=float, default=600.0, help="seconds for the BCE reference SASRec")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "recs.json"))
    ap.add_argument("--service", action="store_true", help="only the RecommendService latency on Beauty")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if args.service:
        res = service_latency("Beauty", log)
        path = Path(args.out).with_name("recs_service.json")
        path.write_text(json.dumps(res, indent=1))
        print(json.dumps(res))
        return
    rows = []
    t0 = time.perf_counter()
    out = Path(args.out)
    previous = json.loads(out.read_text()).get("rows", []) if out.exists() and not args.quick else []
    for name in args.sets.split(","):
        rows += run_set(name, args, log)
        if not args.quick:  # keep partial results (and other sets' earlier rows) after every set
            done = {r["set"] for r in rows}
            merged = [r for r in previous if r["set"] not in done] + rows
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"bench": "recs", "partial": True, "rows": merged}, indent=1))
    header = f"{'set':9} {'model':28} {'HR@10':>7} {'NDCG@10':>8} {'HR@20':>7} {'cov@10':>7} {'train_s':>8} {'p50ms':>7} {'p99ms':>7}"
    print(header)
    for r in rows:
        print(f"{r['set']:9} {r['model']:28} {r['hr@10']:7.4f} {r['ndcg@10']:8.4f} {r['hr@20']:7.4f} "
              f"{r['coverage@10']:7.4f} {r['train_s']:8.1f} {r['p50_ms']:7.2f} {r['p99_ms']:7.2f}")
    result = {
        "bench": "recs",
        "protocol": ("loo-full: tuned on the second-to-last item (trained on all but the last two); test = last "
                     "item, chosen config retrained on all but the last (SASRec reused, validation item as input)"),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "shared": True,
                    "python": platform.python_version(), "torch_threads": torch.get_num_threads()},
        "quick": args.quick,
        "total_s": round(time.perf_counter() - t0, 1),
        "rows": rows,
    }
    if not args.quick:
        done = {r["set"] for r in rows}
        result["rows"] = [r for r in previous if r["set"] not in done] + rows
        out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

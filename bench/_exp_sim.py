"""Section `sim` of bench/experiments.py: a known-better ranker found by A/B and by interleaving, from SIMULATED sessions.

Real data, simulated shoppers: the Home Depot catalog and queries (../shared/data/search/homedepot) are built into a shop
through the facade (`shop.build(["search"])`); its search part is tuned and its LambdaMART ranker trained on the train
and validation queries of the same frozen hash split bench/search.py uses (`split_of`: 50 / 15 / 35 %, fixed by query
id before any result is seen). On the TEST queries only, the top 10 of BM25 only (A) and of hybrid + ranker (B) are
computed once (per-request stage switches of the built part); sessions are then drawn in numpy under the click model of
`shopmind.simulate.clickmodel` (PBM, examination (1/rank)^1, graded attraction with epsilon 0.1 for unjudged).
A/B: clicks per session, Welch test (experiments.stats.mean_test), n/2 sessions per arm. Interleaving: team draft
(experiments.interleave), one outcome per session, its binomial test. Power at each n from repeated simulated
experiments; sessions for 80 % power interpolated on that curve; the ratio is A/B sessions / interleaving sessions.
"""

from __future__ import annotations

import random
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from scipy import stats as sps

K = 10


class Sizes:
    """What --quick shrinks."""

    def __init__(self, quick: bool, queries: int | None = None) -> None:
        self.quick = quick
        self.queries = queries or (600 if quick else None)  # None: all judged queries (train+valid+test by the frozen split)
        self.distractors = (4000 if quick else 20_000) if self.queries else None  # a slice: products beyond the judged ones
        self.power_reps = 60 if quick else 300
        self.draws = 8 if quick else 32
        self.aa_users = 1000 if quick else 2000


def _log(msg: str) -> None:
    print(f"[sim] {msg}", file=sys.stderr, flush=True)


@cache
def _lab(data: str, work: str, quick: bool, seed: int, n_queries: int | None = None) -> tuple[Any, dict[str, Any]]:
    """Build the shop, train, compute both rankers' top 10 for every test query; the OfflineLab and build notes."""
    from shopmind.engine import ShopMind
    from shopmind.evaluation.search_eval import load_products, load_qrels, load_queries, split_of
    from shopmind.search.training import train_ranker, tune_fusion
    from shopmind.simulate.clickmodel import ClickModel
    from shopmind.simulate.offline import OfflineLab, ranked_lists

    sizes = Sizes(quick, n_queries)
    folder = Path(data) / "search" / "homedepot"
    queries, qrels = load_queries(folder / "queries.tsv"), load_qrels(folder / "qrels.tsv")
    queries = {q: t for q, t in queries.items() if q in qrels}
    products = load_products(folder / "products.jsonl")
    if sizes.queries is not None:  # a real slice: the first queries, their judged products and random real titles
        queries = dict(list(queries.items())[: sizes.queries])
        keep = {p for q in queries for p in qrels[q]}
        rest = [p for p in products if p.id not in keep]
        random.Random(seed).shuffle(rest)
        products = [p for p in products if p.id in keep] + rest[: sizes.distractors]
    split = {q: split_of(q) for q in queries}
    part = {s: {q: t for q, t in queries.items() if split[q] == s} for s in ("train", "valid", "test")}
    saved = Path(work) / f"lists-{sizes.queries}-{seed}.json"  # a rerun with the same --work reuses the computed lists
    if saved.is_file():
        lists_a, lists_b, notes = orjson.loads(saved.read_bytes())
        ids = list(lists_a)
        lab = OfflineLab([lists_a[q] for q in ids], [lists_b[q] for q in ids], [qrels[q] for q in ids], ClickModel(k=K), draws=sizes.draws, seed=seed)
        return lab, {**notes, "setup.lists_reused_from": str(saved)}
    t0 = time.perf_counter()
    shop = ShopMind.open(Path(work) / "hd-shop")
    shop.catalog.upsert(products)
    shop.build(["search"])
    svc = shop.service("search")  # the facade's built search part: per-request switches mode= / use_ranker=
    build_s = time.perf_counter() - t0
    _log(f"built {len(products)} products in {build_s:.0f}s; training on {len(part['train'])} + {len(part['valid'])} queries")
    memo: dict = {}
    tuned = tune_fusion(svc, {**part["train"], **part["valid"]}, qrels, memo)
    ranker = train_ranker(svc, part["train"], qrels, part["valid"], memo)
    test = part["test"]
    t1 = time.perf_counter()
    lists_a = ranked_lists(svc.search, test, K, mode="bm25", use_ranker=False)
    lists_b = ranked_lists(svc.search, test, K, mode="hybrid", use_ranker=True)
    _log(f"top {K} of both rankers for {len(test)} test queries in {time.perf_counter() - t1:.0f}s")
    shop.close()
    ids = list(test)
    lab = OfflineLab([lists_a[q] for q in ids], [lists_b[q] for q in ids], [qrels[q] for q in ids], ClickModel(k=K), draws=sizes.draws, seed=seed)
    from shopmind.ranking.metrics import ndcg_at_k

    notes = {
        "setup.simulated": True, "setup.products": len(products),
        "setup.slice": f"first {sizes.queries} judged queries, their products + {sizes.distractors} random real titles" if sizes.queries else "whole set",
        "setup.queries": {s: len(v) for s, v in part.items()},
        "setup.split": "frozen: sha1(query id) -> train 50 % / valid 15 % / test 35 % (bench/search.py's split); sessions on test only",
        "setup.build_s": round(build_s, 1), "setup.ranker_trained": ranker is not None, "setup.fusion": tuned.get("fusion"),
        "setup.dense_weight": tuned.get("dense_weight"),
        "setup.ndcg10_a_bm25": round(float(np.mean([ndcg_at_k(lists_a[q], qrels[q], K) for q in ids])), 4),
        "setup.ndcg10_b_hybrid_ranker": round(float(np.mean([ndcg_at_k(lists_b[q], qrels[q], K) for q in ids])), 4),
        "setup.click_model": "PBM: P(click at r) = (1/r)^1 x (0.1 + 0.9 (2^g - 1)/7), g = graded judgement, unjudged g = 0 "
                             "(Joachims, Swaminathan, Schnabel, WSDM 2017); top 10 shown",
    }
    saved.write_bytes(orjson.dumps([lists_a, lists_b, notes], default=float))
    return lab, notes


def lab(args: Any) -> tuple[Any, dict[str, Any]]:
    """The shared lab of sections aa and sim (built once per bench run)."""
    return _lab(str(args.data), str(args.work), bool(args.quick), int(getattr(args, "seed", 17)), getattr(args, "hd_queries", None))


def _analytic(eff: dict[str, float], alpha: float = 0.05, power: float = 0.8) -> dict[str, float | None]:
    """Normal-approximation sessions for the same power (a cross-check of the simulated curve)."""
    z = sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)
    delta = eff["clicks_b"] - eff["clicks_a"]
    ab = 4 * eff["clicks_sd"] ** 2 * z**2 / delta**2 if delta > 0 else None
    decided = eff["interleaving_a_wins"] + eff["interleaving_b_wins"]
    p = eff["interleaving_b_wins"] / decided if decided else 0.5
    za, zb = sps.norm.ppf(1 - alpha / 2), sps.norm.ppf(power)
    il = ((za * 0.5 + zb * np.sqrt(p * (1 - p))) / (p - 0.5)) ** 2 / decided if p > 0.5 else None
    return {"ab_sessions_80": ab, "interleaving_sessions_80": il}


def _grid(centre: float | None, fallback: float) -> list[int]:
    c = centre if centre and np.isfinite(centre) else fallback
    return sorted({max(20, round(c * f)) for f in (0.35, 0.5, 0.71, 1.0, 1.41, 2.0, 2.83)})


def run(args: Any) -> dict[str, Any]:
    """Power of A/B vs interleaving on the known-better ranker, and the sessions each needs for 80 % power."""
    from shopmind.experiments.interleave import interleaving_test
    from shopmind.experiments.stats import mean_test, msprt
    from shopmind.simulate.offline import sessions_for_power

    sizes = Sizes(bool(args.quick))
    the_lab, notes = lab(args)
    t0 = time.perf_counter()
    eff = the_lab.effect_sizes(sessions=50_000 if args.quick else 400_000)
    guess = _analytic(eff)
    ab_grid = _grid(guess["ab_sessions_80"], 50_000)
    il_grid = _grid(guess["interleaving_sessions_80"], 2_000)
    ab_power = the_lab.ab_power(ab_grid, sizes.power_reps)
    il_power = the_lab.interleaving_power(il_grid, sizes.power_reps)
    ab_n = sessions_for_power(ab_grid, ab_power)
    il_n = sessions_for_power(il_grid, il_power)
    ratio = ab_n / il_n if ab_n and il_n else None
    rng = np.random.default_rng(int(getattr(args, "seed", 17)) + 99)
    detect: dict[str, Any] = {}
    if ab_n and il_n:  # one experiment of each kind at twice its 80 % size: is B found better, and how surely
        half = int(ab_n)
        a = the_lab.clicks("A", rng.integers(the_lab.queries, size=half), rng)
        b = the_lab.clicks("B", rng.integers(the_lab.queries, size=half), rng)
        r, s = mean_test(a, b), msprt(a, b)
        detect["ab"] = {"sessions": 2 * half, "effect_clicks_per_session": r.effect, "ci": [r.ci_low, r.ci_high], "p_value": r.p_value,
                        "msprt_p_value": s.p_value}
        o = the_lab.outcomes(rng.integers(the_lab.queries, size=int(2 * il_n)), rng)
        t = interleaving_test(o)
        detect["interleaving"] = {"sessions": int(2 * il_n), "effect_b_share_minus_half": t.effect, "ci": [t.ci_low, t.ci_high], "p_value": t.p_value}
    _log(f"A/B n80 {ab_n}, interleaving n80 {il_n}, ratio {ratio}")
    return {
        **notes,
        "interleaving_sensitivity_ratio": round(ratio, 1) if ratio else None,
        "sim.simulated": "yes: sessions drawn from the click model on real queries and judgements",
        "sim.ab_sessions_for_80pct_power": round(ab_n) if ab_n else None,
        "sim.interleaving_sessions_for_80pct_power": round(il_n) if il_n else None,
        "sim.known_better_detected": bool(ab_n and il_n and detect["ab"]["p_value"] < 0.05 and detect["interleaving"]["p_value"] < 0.05),
        "sim.detection": detect,
        "sim.ab_power_curve": dict(zip(map(str, ab_grid), ab_power, strict=True)),
        "sim.interleaving_power_curve": dict(zip(map(str, il_grid), il_power, strict=True)),
        "sim.power_reps": sizes.power_reps,
        "sim.per_session": {k: round(v, 5) for k, v in eff.items()},
        "sim.analytic_cross_check": {k: round(v) if v else None for k, v in guess.items()},
        "sim.ab_metric": "clicks per session (CTR x 10), Welch; n/2 sessions per arm; B better at alpha 0.05",
        "sim.interleaving_metric": "team draft, per-session winner by clicks, binomial test on non-ties; B better at alpha 0.05",
        "sim.seconds_simulating": round(time.perf_counter() - t0, 1),
    }

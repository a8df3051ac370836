"""Section `sim` of bench/experiments.py: a known-better ranker found by A/B and by interleaving, from SIMULATED sessions.

Real data, simulated shoppers: the Home Depot catalog and queries (../shared/data/search/homedepot) are built into a shop
through the facade (`shop.build(["search"])`); its search part is tuned and its LambdaMART ranker trained on the train
and validation queries of the same frozen hash split bench/search.py uses (`split_of`: 50 / 15 / 35 %, fixed by query
id before any result is seen). On the TEST queries only, the top 10 of BM25 only (A) and of hybrid + ranker (B) are
computed once (per-request stage switches of the built part); sessions are then drawn in numpy under the click model of
`shopmind.simulate.clickmodel` (PBM, examination (1/rank)^1, graded attraction with epsilon 0.1 for unjudged).
A/B: clicks per session, Welch test (experiments.stats.mean_test), n/2 sessions per arm. Interleaving: team draft
(experiments.interleave, every draft enumerated) with the sign test on decided sessions or the t-test of the per-session
click difference, or optimized interleaving (experiments.optimized, each query's fair design solved exactly) with the
t-test of the summed click credit (1/rank, log, rank or rank², raw or normalised per query) — which one is chosen on the VALID queries' sessions. Power at 7 sizes from repeated simulated
experiments; sessions for 80 % power from a probit curve fitted to them (the original interpolation reported beside);
the ratio = A/B sessions / interleaving sessions, with a bootstrap interval over the repetitions (docs/ab-tests.md).
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

K = 10


class Sizes:
    """What --quick shrinks."""

    def __init__(self, quick: bool, queries: int | None = None) -> None:
        self.quick = quick
        self.queries = queries or (600 if quick else None)  # None: all judged queries (train+valid+test by the frozen split)
        self.distractors = (4000 if quick else 20_000) if self.queries else None  # a slice: products beyond the judged ones
        self.power_reps = 200 if quick else 1000  # repeated experiments per size (cheap: sessions are counted, not timed)
        self.boot = 300 if quick else 1000  # bootstrap replicates over those repetitions for the ratio's interval
        self.draws = None  # every team draft of each query (exact)
        self.aa_users = 1000 if quick else 2000


def _log(msg: str) -> None:
    print(f"[sim] {msg}", file=sys.stderr, flush=True)


@cache
def _lists(data: str, work: str, quick: bool, seed: int, n_queries: int | None = None) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Build the shop, train, compute both rankers' top 10 for every train, valid and test query: (lists, qrels, notes).

    lists = {split: (ids, lists_a, lists_b)}; the VALID lists are for choosing the analysis (TRAIN's choice is shown
    beside: the ranker was fit on those queries), the TEST lists for reporting it. Saved under --work so a rerun reuses them."""
    from shopmind.engine import ShopMind
    from shopmind.evaluation.search_eval import load_products, load_qrels, load_queries, split_of
    from shopmind.search.training import train_ranker, tune_fusion
    from shopmind.simulate.offline import ranked_lists

    sizes = Sizes(quick, n_queries)
    folder = Path(data) / "search" / "homedepot"
    queries, qrels = load_queries(folder / "queries.tsv"), load_qrels(folder / "qrels.tsv")
    queries = {q: t for q, t in queries.items() if q in qrels}
    if sizes.queries is not None:
        queries = dict(list(queries.items())[: sizes.queries])
    split = {q: split_of(q) for q in queries}
    part = {s: {q: t for q, t in queries.items() if split[q] == s} for s in ("train", "valid", "test")}
    saved = Path(work) / f"lists-{sizes.queries}-{seed}-v3.json"  # a rerun with the same --work reuses the computed lists
    if saved.is_file():
        lists, notes = orjson.loads(saved.read_bytes())
        return lists, qrels, {**notes, "setup.lists_reused_from": str(saved)}
    products = load_products(folder / "products.jsonl")
    if sizes.queries is not None:  # a real slice: the first queries, their judged products and random real titles
        keep = {p for q in queries for p in qrels[q]}
        rest = [p for p in products if p.id not in keep]
        random.Random(seed).shuffle(rest)
        products = [p for p in products if p.id in keep] + rest[: sizes.distractors]
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
    t1 = time.perf_counter()
    lists: dict[str, Any] = {}
    for name in ("test", "train", "valid"):
        these = part[name]
        la = ranked_lists(svc.search, these, K, mode="bm25", use_ranker=False)
        lb = ranked_lists(svc.search, these, K, mode="hybrid", use_ranker=True)
        lists[name] = (list(these), [la[q] for q in these], [lb[q] for q in these])
    _log(f"top {K} of both rankers for {len(part['test'])} test + {len(part['train'])} train queries in {time.perf_counter() - t1:.0f}s")
    shop.close()
    from shopmind.ranking.metrics import ndcg_at_k

    def ndcg(name: str, col: int) -> float:
        ids, *both = lists[name]
        return round(float(np.mean([ndcg_at_k(ranked, qrels[q], K) for q, ranked in zip(ids, both[col], strict=True)])), 4)

    notes = {
        "setup.simulated": True, "setup.products": len(products),
        "setup.slice": f"first {sizes.queries} judged queries, their products + {sizes.distractors} random real titles" if sizes.queries else "whole set",
        "setup.queries": {s: len(v) for s, v in part.items()},
        "setup.split": "frozen: sha1(query id) -> train 50 % / valid 15 % / test 35 % (bench/search.py's split); analysis chosen on "
                       "valid-query sessions (train's choice shown beside), reported on test-query sessions",
        "setup.build_s": round(build_s, 1), "setup.ranker_trained": ranker is not None, "setup.fusion": tuned.get("fusion"),
        "setup.dense_weight": tuned.get("dense_weight"),
        "setup.ndcg10_a_bm25": ndcg("test", 0), "setup.ndcg10_b_hybrid_ranker": ndcg("test", 1),
        "setup.train_queries_ndcg10_a_b": [ndcg("train", 0), ndcg("train", 1)],
        "setup.valid_queries_ndcg10_a_b": [ndcg("valid", 0), ndcg("valid", 1)],
    }
    saved.write_bytes(orjson.dumps([lists, notes], default=float))
    return lists, qrels, notes


def lab(args: Any, split: str = "test", model: Any = None) -> tuple[Any, dict[str, Any]]:
    """An OfflineLab on one split's queries (default TEST, the reported one) under `model` (default: the stated PBM)."""
    from shopmind.simulate.clickmodel import ClickModel
    from shopmind.simulate.offline import OfflineLab

    quick, seed = bool(args.quick), int(getattr(args, "seed", 17))
    lists, qrels, notes = _lists(str(args.data), str(args.work), quick, seed, getattr(args, "hd_queries", None))
    ids, lists_a, lists_b = lists[split]
    the_lab = OfflineLab(lists_a, lists_b, [qrels[q] for q in ids], model or ClickModel(k=K), draws=Sizes(quick).draws, seed=seed)
    return the_lab, {**notes, "setup.click_model": the_lab.model.describe()}


def _grid(centre: float | None, fallback: float) -> list[int]:
    c = centre if centre and np.isfinite(centre) else fallback
    return sorted({max(20, round(c * f)) for f in (0.35, 0.5, 0.71, 1.0, 1.41, 2.0, 2.83)})


def _decomposition(m: dict[str, float]) -> dict[str, float | None]:
    """Why the t-test ratio is what it is: ratio = 4 (E[D] / delta)^2 x var(A/B clicks) / var(D) (normal approximation),
    D = B - A team clicks in one interleaved session, delta = B - A clicks per session in an A/B test."""
    delta = m["clicks_b"] - m["clicks_a"]
    var_ab = (m["clicks_var_a"] + m["clicks_var_b"]) / 2
    between = (m["clicks_var_between_queries_a"] + m["clicks_var_between_queries_b"]) / 2
    signal = m["diff_mean"] / delta if delta else None
    return {"signal_ratio_ED_over_delta": round(signal, 3) if signal is not None else None,
            "variance_ratio_ab_over_D": round(var_ab / m["diff_var"], 3) if m["diff_var"] else None,
            "ab_variance_share_between_queries": round(between / var_ab, 3) if var_ab else None,
            "implied_ratio": round(4 * signal**2 * var_ab / m["diff_var"], 2) if signal is not None and m["diff_var"] else None}


# optimized interleaving (experiments.optimized): credit c(rank_B) - c(rank_A), c = 1/r, -ln r, -r or -r^2; "_norm": each
# query's credits divided by its design's credit scale (Design.scale). Declared before any was computed (2026-12-07).
OPTIMIZED = tuple(f"optimized_{c}{n}" for c in ("inverse", "log", "negative", "squared") for n in ("", "_norm"))
STATISTICS = ("sign", "t", *OPTIMIZED)


def _optimized_lab(the_lab: Any, name: str) -> Any:
    """The OptimizedLab a statistic's name stands for ("optimized_negative_norm": credit negative, normalised)."""
    from shopmind.simulate.optimized_lab import OptimizedLab

    credit = name.removeprefix("optimized_").removesuffix("_norm")
    return OptimizedLab(the_lab, credit, normalise=name.endswith("_norm"))


def _normal_needs(the_lab: Any) -> dict[str, float | None]:
    """Sessions for 80 % power of A/B and of every interleaving statistic (normal approximation, exact moments)."""
    need = the_lab.normal_sessions_for_power()
    out = {"ab": need["ab"], "sign": need["interleaving_sign"], "t": need["interleaving_t"]}
    for name in OPTIMIZED:
        out[name] = _optimized_lab(the_lab, name).normal_sessions_for_power()
    return out


def _choose_statistic(select_lab: Any, train_lab: Any) -> tuple[str, dict[str, Any]]:
    """On VALID-query sessions only: the interleaving design and statistic that needs the fewest sessions for 80 % power
    (exact normal approximation, no Monte Carlo): team draft's sign test or t-test of the click difference, or optimized
    interleaving's t-test of the click credit (see OPTIMIZED). The ranker's trees were never fit on VALID queries (only
    its stopping round and the fusion weight were chosen with them); TRAIN's choice is shown beside, never used. Fixed
    before any test run (until 2026-12-07 the choice was made on TRAIN, where the ranker is overfit)."""
    need, need_train = _normal_needs(select_lab), _normal_needs(train_lab)
    options = {k: need[k] for k in STATISTICS}
    finite = {k: v for k, v in options.items() if v}
    chosen = min(finite, key=finite.__getitem__) if finite else "sign"
    on_train = {k: need_train[k] for k in STATISTICS if need_train[k]}
    return chosen, {"rule": "fewest sessions for 80 % power on VALID-query sessions (normal approximation from exact moments)",
                    "valid_sessions_80": {"ab": need["ab"], **options}, "chosen": chosen,
                    "train_sessions_80": {"ab": need_train["ab"], **{k: need_train[k] for k in STATISTICS}},
                    "train_would_choose": min(on_train, key=on_train.__getitem__) if on_train else None}


def _model_check(args: Any) -> dict[str, Any]:
    """Exact normal-approximation ratio on the TEST lists under other position-bias strengths (eta): a check of how much
    the figure depends on the click model's constants, reported beside the headline, never chosen from."""
    from shopmind.simulate.clickmodel import ClickModel

    out = {}
    for eta in (0.5, 1.0, 2.0):
        alt, _ = lab(args, "test", ClickModel(eta=eta, k=K))
        need = _normal_needs(alt)
        out[f"eta={eta}"] = {"ab_sessions_80": round(need["ab"]) if need["ab"] else None,
                             **{f"ratio_{k}": round(need["ab"] / need[k], 2) if need["ab"] and need[k] else None for k in STATISTICS}}
    return out


def run(args: Any) -> dict[str, Any]:
    """Power of A/B vs interleaving on the known-better ranker, and the sessions each needs for 80 % power."""
    from shopmind.experiments.interleave import interleaving_t_test, interleaving_test
    from shopmind.experiments.stats import mean_test, msprt
    from shopmind.simulate.offline import fit_sessions_for_power, ratio_interval, sessions_for_power

    sizes = Sizes(bool(args.quick))
    seed = int(getattr(args, "seed", 17))
    chosen, choice = _choose_statistic(lab(args, "valid")[0], lab(args, "train")[0])  # decided before TEST sessions are drawn
    _log(f"interleaving statistic chosen on valid queries: {chosen} ({choice['valid_sessions_80']})")
    the_lab, notes = lab(args, "test")
    t0 = time.perf_counter()
    moments = the_lab.exact_moments()
    normal = _normal_needs(the_lab)
    ab_grid = _grid(normal["ab"], 50_000)
    il_grids = {k: _grid(normal[k], 2_000) for k in STATISTICS}
    ab_rej = the_lab.ab_rejections(ab_grid, sizes.power_reps, seed=seed + 2)
    il_rej = {k: the_lab.interleaving_rejections(il_grids[k], sizes.power_reps, seed=seed + 3)[k] for k in ("sign", "t")}
    optimized = {k: _optimized_lab(the_lab, k) for k in OPTIMIZED}
    il_rej.update({k: o.rejections(il_grids[k], sizes.power_reps, seed=seed + 5) for k, o in optimized.items()})
    fit = {"ab": fit_sessions_for_power(ab_grid, ab_rej), **{k: fit_sessions_for_power(il_grids[k], il_rej[k]) for k in il_grids}}
    interp = {"ab": sessions_for_power(ab_grid, ab_rej.mean(1)), **{k: sessions_for_power(il_grids[k], il_rej[k].mean(1)) for k in il_grids}}

    def ratio(found: dict[str, float | None], stat: str) -> float | None:
        return found["ab"] / found[stat] if found["ab"] and found[stat] else None

    headline = ratio(fit, chosen)
    strict = ratio(interp, "sign")
    ci = ratio_interval(ab_grid, ab_rej, il_grids[chosen], il_rej[chosen], n_boot=sizes.boot, seed=seed, how="fit")
    ci_strict = ratio_interval(ab_grid, ab_rej, il_grids["sign"], il_rej["sign"], n_boot=sizes.boot, seed=seed, how="interp")
    rng = np.random.default_rng(seed + 99)
    detect: dict[str, Any] = {}
    if fit["ab"] and fit[chosen]:  # one experiment of each kind at twice its 80 % size: is B found better, and how surely
        half = int(fit["ab"])
        a = the_lab.clicks("A", rng.integers(the_lab.queries, size=half), rng)
        b = the_lab.clicks("B", rng.integers(the_lab.queries, size=half), rng)
        r, s = mean_test(a, b), msprt(a, b)
        detect["ab"] = {"sessions": 2 * half, "effect_clicks_per_session": r.effect, "ci": [r.ci_low, r.ci_high], "p_value": r.p_value,
                        "msprt_p_value": s.p_value}
        picked = rng.integers(the_lab.queries, size=int(2 * fit[chosen]))
        if chosen in optimized:
            t = interleaving_t_test(optimized[chosen].scores(picked, rng))
        else:
            d = the_lab.differences(picked, rng)
            t = interleaving_t_test(d) if chosen == "t" else interleaving_test(-np.sign(d))
        detect["interleaving"] = {"sessions": int(2 * fit[chosen]), "statistic": chosen, "effect": t.effect, "ci": [t.ci_low, t.ci_high],
                                  "p_value": t.p_value}
    _log(f"sessions for 80 % (probit fit) {fit}; interpolated {interp}; ratio {headline} {ci}; strict {strict} {ci_strict}")
    rounded = lambda d: {k: round(v) if v else None for k, v in d.items()}
    return {
        **notes,
        "interleaving_sensitivity_ratio": round(headline, 2) if headline else None,
        "sim.ratio_ci95": [round(ci["low"], 2), round(ci["high"], 2)] if ci["low"] else None,
        "sim.ratio_definition": f"A/B sessions / interleaving sessions for 80 % power, each from a probit curve fitted to its simulated "
                                f"power at 7 sizes; interleaving statistic: {chosen} (chosen on VALID queries); interval: bootstrap "
                                f"over repetitions ({sizes.boot})",
        "sim.ratio_strict_original": round(strict, 2) if strict else None,
        "sim.ratio_strict_original_ci95": [round(ci_strict["low"], 2), round(ci_strict["high"], 2)] if ci_strict["low"] else None,
        "sim.ratio_strict_original_definition": "sign test on decided sessions, 80 % point interpolated (log n) on the running-max power curve",
        "sim.ratio_sign_test_fit": round(ratio(fit, "sign"), 2) if ratio(fit, "sign") else None,
        "sim.ratio_t_test_fit": round(ratio(fit, "t"), 2) if ratio(fit, "t") else None,
        "sim.ratio_fit": {k: round(ratio(fit, k), 2) if ratio(fit, k) else None for k in STATISTICS},
        "sim.ratio_normal_approximation": {k: round(normal["ab"] / normal[k], 2) if normal["ab"] and normal[k] else None for k in STATISTICS},
        "sim.optimized_designs": {k: o.describe() for k, o in optimized.items()},
        "sim.interleaving_statistic": choice,
        "sim.simulated": "yes: sessions drawn from the click model on real queries and judgements",
        "sim.ab_sessions_for_80pct_power": round(fit["ab"]) if fit["ab"] else None,
        "sim.interleaving_sessions_for_80pct_power": round(fit[chosen]) if fit[chosen] else None,
        "sim.sessions_80_probit_fit": rounded(fit),
        "sim.sessions_80_interpolated": rounded(interp),
        "sim.sessions_80_normal_approximation": rounded(normal),
        "sim.known_better_detected": bool(detect and detect["ab"]["p_value"] < 0.05 and detect["interleaving"]["p_value"] < 0.05),
        "sim.detection": detect,
        "sim.ab_power_curve": dict(zip(map(str, ab_grid), ab_rej.mean(1).tolist(), strict=True)),
        **{f"sim.interleaving_power_curve_{k}": dict(zip(map(str, g), il_rej[k].mean(1).tolist(), strict=True)) for k, g in il_grids.items()},
        "sim.power_reps": sizes.power_reps,
        "sim.per_session_exact": {k: round(v, 5) for k, v in moments.items()},
        "sim.ratio_decomposition": _decomposition(moments),
        "sim.click_model_check_eta": _model_check(args),
        "sim.ab_metric": "clicks per session (CTR x 10), Welch; n/2 sessions per arm, each session its own uniform test query; B better at alpha 0.05",
        "sim.interleaving_metric": "team draft (every draft of each query enumerated: exact), clicks credited to the picking team; sign test on "
                                   "decided sessions, or t-test of the per-session click difference B - A; or optimized interleaving "
                                   "(Radlinski & Craswell 2013: the fair distribution over allowed lists solved per query, exact), "
                                   "t-test of the summed credit c(rank_B) - c(rank_A) of the clicked items, c = 1/rank (inverse), "
                                   "-ln rank (log), -rank (negative) or -rank^2 (squared), raw or divided by the query's design scale "
                                   "(_norm); B better at alpha 0.05",
        "sim.seconds_simulating": round(time.perf_counter() - t0, 1),
    }

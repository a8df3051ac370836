"""Section `generation` of bench/understanding.py (issue 19 item 4, issue 21 item 5): query rewriting on zero- and
low-result Home Depot queries, and generated descriptions under the fact check.

Rewrite. Home Depot's judged queries of the train, valid and dev parts (bench/search.py's split; the frozen `final`
half is never read, bench/search_sets/FROZEN.md) run once without the rewrite (recovery steps as before it, no
related offer) to find the zero-result queries (their own match set is empty, so recovery ran) and the low-result ones
(0 < total < rewrite.LOW_RESULTS); only those run again with it. Figures per mode (hybrid as served, bm25) and per
group: `fit` = train + valid (where rewrite.MIN_KEEP was chosen, with --parts train --set MIN_KEEP=1|2), `dev` =
reported. Zero-result queries: how many end with matches with and without the rewrite and which step ended them; on
the queries the rewrite ended, split by the step that ended them without it (the related fallback, or the
least-important-term drop), the matches-only page (related=False) of each, and the served page (related=True):
precision@10 (grade ≥ 2, unjudged = not relevant; the judged-only precision beside it, widened) and nDCG@10 (gain
2^grade − 1). Low-result queries: P@10 of the offered rows (the rewritten words searched with related=False, less
the query's own matches) against the related rows the page showed without the offer, and the served page's nDCG@10
with and without. No LLM is configured here: this is the catalog rewrite.

Generation. 2,000 Home Depot products enriched with the shipped English extractor: share of descriptions stating a
confident extracted value; values held back as unconfident. Real reviews (reviews-en, women's clothing, the first
PRODUCTS garments with ≥ 20 reviews) through the shipped ABSA models: share of descriptions with review figures. The
fact check on every template sentence (all must pass) and on perturbed copies (a stated number or percentage changed
by one unit; all must be rejected).

    nice python bench/_und_generation.py --json [--quick] [--work DIR --reuse] [--parts dev] [--skip-generation]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

QUICK_QUERIES = 600
GARMENTS = 20
HD_PRODUCTS = 2000


def _p10(ranked: list[str], judged: dict[str, float]) -> tuple[float, float | None]:
    """(precision@10 with unjudged = not relevant, precision over the judged among the top 10 or None)."""
    top = ranked[:10]
    rel = sum(1 for pid in top if judged.get(pid, 0.0) >= 2)
    n_judged = sum(1 for pid in top if pid in judged)
    return (rel / 10.0, rel / n_judged if n_judged else None)


def _mean(xs: list[float]) -> float | None:
    return round(float(np.mean(xs)), 4) if xs else None


def _run(svc: Any, text: str, mode: str) -> Any:
    return svc.search(text, per_page=10, explain=True, mode=mode)


def rewrite_section(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from shopmind.evaluation.metrics import ndcg_at_k
    from shopmind.evaluation.search_eval import final_of, load_products, load_qrels, load_queries
    from shopmind.search import SearchConfig, SearchService
    from shopmind.search.stages import retrieve
    from shopmind.search.stages import rewrite as rewrite_side

    d = Path(args.data) / "search" / "homedepot"
    queries, qrels = load_queries(d / "queries.tsv"), load_qrels(d / "qrels.tsv")
    parts = {q: final_of(q) for q in queries if q in qrels}
    wanted = [x for x in getattr(args, "parts", "train,valid,dev").split(",") if x in ("train", "valid", "dev")]
    qs = {q: queries[q] for q, p in parts.items() if p in wanted}  # never `final`
    for kv in getattr(args, "set", None) or []:  # a tuning run on train queries: rewrite constants (MIN_KEEP=2, MIN_AGREE=1)
        name, _, value = kv.partition("=")
        setattr(rewrite_side, name, int(value))
        print(f"[generation] tuning run: rewrite.{name}={value}", file=sys.stderr)
    if args.quick:
        qs = dict(list(qs.items())[:QUICK_QUERIES])
    t0 = time.perf_counter()
    built = work / "homedepot" / "bench-built.ok"
    if getattr(args, "reuse", False) and built.is_file():  # a build of this script from an earlier run (--work, --reuse)
        svc = SearchService.load(work / "homedepot")
    else:
        svc = SearchService.build(load_products(d / "products.jsonl"), None, work / "homedepot", SearchConfig())
        built.write_text("1")
    out: dict[str, Any] = {"rewrite.build_s": round(time.perf_counter() - t0, 1), "rewrite.queries": len(qs),
                           "rewrite.query_parts": dict(Counter(parts[q] for q in qs))}
    steps, low = retrieve.RECOVERY_STEPS, rewrite_side.LOW_RESULTS

    def without(fn: Any) -> Any:
        """fn() with recovery as before the rewrite (no rewrite step, no related offer)."""
        retrieve.RECOVERY_STEPS, rewrite_side.LOW_RESULTS = tuple(s for s in steps if s != "rewrite"), 0
        try:
            return fn()
        finally:
            retrieve.RECOVERY_STEPS, rewrite_side.LOW_RESULTS = steps, low

    for mode in ("hybrid", "bm25"):
        base = without(lambda m=mode: {q: _run(svc, t, m) for q, t in qs.items()})
        zero = [q for q, r in base.items() if r.query.recovery_steps]
        lows = [q for q, r in base.items() if not r.query.recovery_steps and 0 < r.total < low]
        new = {q: _run(svc, qs[q], mode) for q in zero + lows}
        ended = [q for q in zero if (new[q].query.recovery or "").startswith("rewrote query")]
        # matches only (related=False): the rewrite's match set against what the same query showed without the step
        # (the related fallback, or the least-important-term drop), each ranked by the same pipeline
        only_new = {q: svc.search(qs[q], per_page=10, explain=False, mode=mode, related=False) for q in ended}
        only_base = without(lambda m=mode, e=ended: {q: svc.search(qs[q], per_page=10, explain=False, mode=m, related=False) for q in e})
        offered = {q: _offered(svc, qs[q], mode, base[q], new[q], qrels[q]) for q in lows}
        for group, members in (("fit", ("train", "valid")), ("dev", ("dev",))):
            pre = f"rewrite.{mode}.{group}."
            z = [q for q in zero if parts[q] in members]
            e = [q for q in ended if parts[q] in members]
            lo = [q for q in lows if parts[q] in members]
            out[pre + "queries"] = sum(1 for q in qs if parts[q] in members)
            out[pre + "zero_result_queries"] = len(z)
            out[pre + "zero_with_matches_before"] = sum(1 for q in z if base[q].total > 0)
            out[pre + "zero_with_matches_after"] = sum(1 for q in z if new[q].total > 0)
            out[pre + "zero_ended_by_step_before"] = dict(Counter(_step(base[q].query.recovery) for q in z))
            out[pre + "zero_ended_by_step_after"] = dict(Counter(_step(new[q].query.recovery) for q in z))
            for instead in ("related", "term"):
                grp = [q for q in e if _step(base[q].query.recovery) == instead]
                gp = f"{pre}instead_of_{instead}."
                out[gp + "queries"] = len(grp)
                for tag, res in (("rewritten_matches", only_new), ("without_rewrite", only_base), ("served_page_rewritten", new),
                                 ("served_page_without", base)):
                    ranked = {q: [h.id for h in res[q].hits] for q in grp}
                    pr = [_p10(ranked[q], qrels[q]) for q in grp]
                    out[gp + f"{tag}.p@10"] = _mean([a for a, _ in pr])
                    out[gp + f"{tag}.p@10_judged_only"] = _mean([b for _, b in pr if b is not None])
                    out[gp + f"{tag}.ndcg@10"] = _mean([ndcg_at_k(ranked[q], qrels[q], 10) for q in grp])
            got = [offered[q] for q in lo if offered[q] is not None]
            out[pre + "low_result_queries"] = len(lo)
            out[pre + "low_offered"] = len(got)
            out[pre + "low.offered_rows.p@10"] = _mean([a for a, _ in got])
            out[pre + "low.related_rows_without_offer.p@10"] = _mean([b for _, b in got])
            served = [q for q in lo if offered[q] is not None]
            for tag, res in (("with_offer", new), ("without_offer", base)):
                out[pre + f"low.served_page_{tag}.ndcg@10"] = _mean([ndcg_at_k([h.id for h in res[q].hits], qrels[q], 10) for q in served])
            out[pre + "low.total_unchanged"] = all(new[q].total == base[q].total for q in lo)
        out[f"rewrite.{mode}.examples"] = [f"{qs[q]!r}: {new[q].query.recovery}" for q in ended[:5]]
        print(f"[generation] {mode}: {len(zero)} zero-result, {len(ended)} ended by the rewrite, {len(lows)} low-result", file=sys.stderr, flush=True)
    return out


def _offered(svc: Any, text: str, mode: str, base: Any, new: Any, judged: dict[str, float]) -> tuple[float, float] | None:
    """(P@10 of the rows a low-result query was offered, P@10 of the related rows its page showed without the offer);
    the offered rows stand as the rewritten words searched with related=False, less the query's own matches."""
    label = next((s for s in new.query.recovery_steps if s.startswith("related from rewrote")), None)
    m = re.search(r"→ '(.*?)'", label or "")
    if m is None:
        return None
    own = {h.id for h in svc.search(text, per_page=max(base.total, 1), explain=False, mode=mode, related=False).hits}
    rw = [h.id for h in svc.search(m.group(1), per_page=10 + len(own), explain=False, mode=mode, related=False).hits if h.id not in own][:10]
    rel = [h.id for h in base.hits if h.why is not None and h.why.related][:10]
    return _p10(rw, judged)[0], _p10(rel, judged)[0]


def _step(label: str | None) -> str:
    """The kind of recovery step a label names."""
    if not label:
        return "none"
    for prefix, name in (("rewrote query (LLM)", "rewrite-llm"), ("rewrote query", "rewrite"), ("dropped term", "term"),
                         ("corrected spelling", "spelling"), ("relaxed", "relaxed"), ("related", "related")):
        if label.startswith(prefix):
            return name
    return label


def _perturb(text: str) -> str | None:
    """The sentence with its last number changed by one unit (None when it states none)."""
    nums = list(re.finditer(r"\d+(?:\.\d+)?", text))
    if not nums:
        return None
    m = nums[-1]
    v = m.group(0)
    changed = str(int(v) + 1) if "." not in v else f"{float(v) + 1:.{len(v.split('.')[1])}f}"
    return text[: m.start()] + changed + text[m.end():]


def generation_section(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from shopmind.assistant.factcheck import FactChecker
    from shopmind.assistant.facts import product_facts
    from shopmind.domain import Product, Review
    from shopmind.evaluation.search_eval import load_products
    from shopmind.understand.enrich import enrich
    from shopmind.understand.review_summary import ReviewSummaries

    n_hd = 300 if args.quick else HD_PRODUCTS
    hd = load_products(Path(args.data) / "search/homedepot/products.jsonl")[:n_hd]
    t0 = time.perf_counter()
    enrich(hd)
    out: dict[str, Any] = {"generation.hd_products": len(hd), "generation.enrich_s": round(time.perf_counter() - t0, 1)}
    facts = {p.id: product_facts(p) for p in hd}
    extracted = [sum(f.source.kind == "extracted" for f in facts[p.id]) for p in hd]
    held = sum(len(p.attributes_extracted) for p in hd) - sum(extracted)
    out["generation.hd_share_with_extracted_fact"] = round(float(np.mean([e > 0 for e in extracted])), 4)
    out["generation.hd_extracted_values_stated"] = int(sum(extracted))
    out["generation.hd_extracted_values_held_back"] = int(held)
    rows = pq.read_table(Path(args.data) / "reviews-en" / "WomensClothingE-CommerceReviews.parquet.brotli").to_pylist()
    counts = Counter(r["Clothing ID"] for r in rows if r["Review Text"])
    garments = sorted(g for g, c in counts.items() if c >= 20)[: 5 if args.quick else GARMENTS]
    first = {g: next(r for r in rows if r["Clothing ID"] == g) for g in garments}
    prods = [Product(id=f"g{g}", title=f"{r['Division Name']} {r['Class Name']}", category=[r["Department Name"], r["Class Name"]],
                     language="en") for g, r in first.items()]
    reviews = [Review(id=f"r{i}", product_id=f"g{r['Clothing ID']}", user_id=f"u{i}", rating=r["Rating"], title=r["Title"] or "",
                      text=r["Review Text"], language="en") for i, r in enumerate(rows) if r["Clothing ID"] in first and r["Review Text"]]
    t0 = time.perf_counter()
    summaries = ReviewSummaries.build(reviews, work / "reviews")
    out["generation.reviews"] = len(reviews)
    out["generation.reviews_absa_s"] = round(time.perf_counter() - t0, 1)
    for p in prods:
        facts[p.id] = product_facts(p, summaries.summary(p.id))
    out["generation.garments"] = len(prods)
    out["generation.garment_share_with_review_fact"] = round(float(np.mean([any(f.source.kind == "reviews" for f in facts[p.id]) for p in prods])), 4)
    checker = FactChecker({p.brand for p in hd if p.brand})
    passed = total = caught = perturbed = 0
    for fs in facts.values():
        pairs = [(f.source.kind, f.text + " | " + f.evidence) for f in fs]
        for f in fs:
            total += 1
            passed += not checker.sourced(f.text, pairs)[1]
            bad = _perturb(f.text)
            if bad is not None and bad != f.text:
                perturbed += 1
                caught += bool(checker.sourced(bad, pairs)[1])
    out["generation.template_sentences"] = total
    out["generation.template_pass_rate"] = round(passed / max(total, 1), 4)
    out["generation.perturbed_sentences"] = perturbed
    out["generation.perturbed_rejected_rate"] = round(caught / max(perturbed, 1), 4)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both parts (the bench/understanding.py section entry point)."""
    with tempfile.TemporaryDirectory(prefix="shopmind-gen-") as tmp:
        work = Path(getattr(args, "work", None) or tmp)
        out = {} if getattr(args, "skip_generation", False) else generation_section(args, work)
        out.update(rewrite_section(args, work))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_QUERIES} queries, 300 products, 5 garments (numbers mean little)")
    ap.add_argument("--work", type=Path, default=None, help="build folder (default: a temporary one)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="load the Home Depot index an earlier run built in --work")
    ap.add_argument("--parts", default="train,valid,dev", help="query parts to run (tuning runs: train only); final is never read")
    ap.add_argument("--set", action="append", help="NAME=INT: a rewrite module constant for a tuning run (train queries only)")
    ap.add_argument("--skip-generation", action="store_true", help="only the rewrite part")
    ap.add_argument("--out", type=Path, default=None, help="default bench/results/understanding_generation.json")
    args = ap.parse_args()
    from _common import data_dir, machine, report

    args.data = data_dir(args.data)
    res: dict[str, Any] = {"loadavg_start": [round(x, 2) for x in os.getloadavg()], **run(args)}
    res["machine"] = machine()
    res["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    res["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = args.out or REPO / "bench" / "results" / ("understanding_generation_quick.json" if args.quick else "understanding_generation.json")
    report(res, title="generation and query rewriting (bench/_und_generation.py)", bars={}, out=out, as_json=args.json)


if __name__ == "__main__":
    main()

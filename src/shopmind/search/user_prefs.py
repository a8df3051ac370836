"""Per-user search preferences (share of a user's item events per brand and per category) in their own file.

Kept apart from `understand.json` so a deletion rewrites a small file atomically without touching the
speller or synonyms. Artifacts written before (preferences inside `understand.json`) are read and scrubbed too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import orjson

from shopmind.fileio import atomic_write

PREFS_FILE = "user_prefs.json"
LEGACY_FILE = "understand.json"

Prefs = dict[str, dict[str, float]]


def write(out_dir: Path, user_brand: Prefs, user_cat: Prefs) -> None:
    """Write both preference tables as one JSON file, atomically."""
    atomic_write(Path(out_dir) / PREFS_FILE, orjson.dumps({"user_brand": user_brand, "user_cat": user_cat}))


def read(out_dir: Path) -> tuple[Prefs, Prefs]:
    """(user → brand shares, user → category shares), from `user_prefs.json` or an older `understand.json`."""
    out_dir = Path(out_dir)
    path = out_dir / PREFS_FILE if (out_dir / PREFS_FILE).is_file() else out_dir / LEGACY_FILE
    data = orjson.loads(path.read_bytes()) if path.is_file() else {}
    return data.get("user_brand", {}), data.get("user_cat", {})


def scrub(out_dir: Path, remove: Iterable[str]) -> dict[str, int]:
    """Remove users from one search artifact version's preference tables in place; return how many rows went."""
    out_dir = Path(out_dir)
    gone = set(remove)
    n = 0
    for path in (out_dir / PREFS_FILE, out_dir / LEGACY_FILE):
        if not path.is_file():
            continue
        data = orjson.loads(path.read_bytes())  # orjson: a deletion at 35k users rewrites three versions in ~0.1 s
        dropped = 0
        for table in ("user_brand", "user_cat"):
            rows = data.get(table)
            if rows:
                for user in gone & rows.keys():
                    del rows[user]
                    dropped += 1
        if dropped:
            atomic_write(path, orjson.dumps(data))
            n += dropped
    return {"preference_rows": n}

"""Readers for the labelled extraction sets (ExtractGPT OA-Mine/AE-110k, WDC-PAVE, MEPAVE) as one record shape.

Each line becomes an `Offer`: title, description, category, language and the raw gold (attribute → accepted
values, "n/a" kept as written) so training and the evaluation read the files the same way. MEPAVE ships only a
500-row test file: `mepave_part` splits it by a fixed hash of the sentence into a train and a test part.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

NA = "n/a"
MEPAVE_TEST_SHARE = 30  # per cent of MEPAVE rows (by hash) held out as its test part


@dataclass(slots=True)
class Offer:
    """One labelled offer: texts, category, language and gold attribute → accepted values (["n/a"] = absent)."""

    title: str
    description: str = ""
    category: str = ""
    language: str = "en"
    gold: dict[str, list[str]] = field(default_factory=dict)
    fmt: str = ""


def mepave_part(sentence: str) -> str:
    """'test' or 'train': a fixed md5 split of MEPAVE's only file, so training never sees the test part."""
    h = int(hashlib.md5(sentence.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "test" if h < MEPAVE_TEST_SHARE else "train"


def _gold_of_targets(targets: Any, where: str) -> dict[str, list[str]]:
    if not isinstance(targets, dict):
        raise ValueError(f"{where}: target_scores must be an object")
    gold: dict[str, list[str]] = {}
    for attr, values in targets.items():
        if not isinstance(values, dict) or not values:
            raise ValueError(f"{where}: target_scores[{attr!r}] must be a non-empty object of values")
        gold[str(attr)] = [str(v) for v in values]
    return gold


def parse_line(row: Any, where: str) -> Offer:
    """One JSON record of any of the three formats → Offer; a clear error naming the record otherwise."""
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected a JSON object")
    if "spans" in row and "sentences" in row:  # MEPAVE (EcomGPT): character spans with a type and a term
        text = row["sentences"]
        labels = row.get("label_set") or []
        if not isinstance(text, str) or not isinstance(row["spans"], list):
            raise ValueError(f"{where}: 'sentences' must be a string and 'spans' a list")
        gold: dict[str, list[str]] = {str(a): [NA] for a in labels}
        for s in row["spans"]:
            if not isinstance(s, dict) or "type" not in s or "term" not in s:
                raise ValueError(f"{where}: each span needs 'type' and 'term'")
            vals = gold.get(s["type"])
            gold[s["type"]] = [s["term"]] if not vals or vals == [NA] else [*vals, s["term"]]
        return Offer(title=text, category="", language="zh", gold=gold, fmt="mepave")
    if "input_title" in row:  # WDC-PAVE: title + description, values with the part they were found in
        title = row.get("input_title") or ""
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"{where}: 'input_title' must be a non-empty string")
        return Offer(title=title, description=str(row.get("input_description") or ""), category=str(row.get("category") or ""),
                     gold=_gold_of_targets(row.get("target_scores", {}), where), fmt="wdc")
    if "input" in row:  # ExtractGPT (OA-Mine, AE-110k): a title
        if not isinstance(row["input"], str) or not row["input"].strip():
            raise ValueError(f"{where}: 'input' must be a non-empty string")
        return Offer(title=row["input"], category=str(row.get("category") or ""), gold=_gold_of_targets(row.get("target_scores", {}), where),
                     fmt="extractgpt")
    raise ValueError(f"{where}: unknown record: expected 'input' (ExtractGPT), 'input_title' (WDC-PAVE) or 'sentences'+'spans' (MEPAVE)")


def read_offers(path: str | Path, *, part: str | None = None) -> Iterator[Offer]:
    """Offers of a JSONL file; for MEPAVE, `part` ('train'/'test') keeps only that side of the fixed split."""
    path = Path(path)
    with path.open("rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path.name} line {n}"
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"{where}: not valid JSON ({exc})") from exc
            offer = parse_line(row, where)
            if part is not None and offer.fmt == "mepave" and mepave_part(offer.title) != part:
                continue
            yield offer

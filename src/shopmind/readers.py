"""File readers for bulk import: JSONL, CSV and Parquet (optionally gzipped), streamed as (line number, record).

A line that cannot be read is yielded as an Exception in place of the record, so the importer reports it with
its line number and goes on (or stops, as the caller chose).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

Row = tuple[int, Any]  # (line number, raw record or an Exception for an unreadable line)


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_jsonl(path: Path) -> Iterator[Row]:
    """One JSON object per line; blank lines are skipped."""
    with _open_text(path) as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield line_no, orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield line_no, ValueError(f"not valid JSON: {exc}")


_JSON_CELLS = ("attributes", "context")


def _csv_record(raw: dict[str, str | None]) -> dict[str, Any]:
    """Undo CSV's flatness: empty cells are absent, JSON cells parsed, `attributes.color` nested."""
    rec: dict[str, Any] = {}
    for key, value in raw.items():
        if key is None or value is None or value == "":
            continue
        if "." in key:
            head, _, tail = key.partition(".")
            if head in _JSON_CELLS:
                rec.setdefault(head, {})[tail] = value
                continue
        if key in _JSON_CELLS and value.lstrip().startswith("{"):
            value = orjson.loads(value)
        rec[key] = value
    return rec


def read_csv(path: Path) -> Iterator[Row]:
    """CSV with a header row; line numbers are the file's (header = line 1)."""
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        line_no = reader.line_num
        for raw in reader:
            line_no = reader.line_num
            if None in raw:
                yield line_no, ValueError(f"row has {len(raw) - 1 + len(raw[None])} cells, header has {len(raw) - 1}")
                continue
            try:
                yield line_no, _csv_record(raw)
            except orjson.JSONDecodeError as exc:
                yield line_no, ValueError(f"a JSON cell is not valid JSON: {exc}")


def read_parquet(path: Path, batch_rows: int = 20_000) -> Iterator[Row]:
    """Parquet read in row batches; the 'line' is the 1-based row number; nulls are absent fields."""
    import pyarrow.parquet as pq

    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
        for rec in batch.to_pylist():
            row += 1
            yield row, {k: v for k, v in rec.items() if v is not None}


READERS: dict[str, Callable[[Path], Iterator[Row]]] = {
    "jsonl": read_jsonl,
    "ndjson": read_jsonl,
    "json": read_jsonl,
    "csv": read_csv,
    "parquet": read_parquet,
    "pq": read_parquet,
}


def detect_format(path: Path) -> str:
    suffixes = [s.lstrip(".").lower() for s in path.suffixes if s.lower() != ".gz"]
    for suffix in reversed(suffixes):
        if suffix in READERS:
            return suffix
    raise ValueError(f"cannot tell the format of {path.name}; use .jsonl, .csv or .parquet (or --format)")

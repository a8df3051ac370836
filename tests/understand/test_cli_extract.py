"""`shopmind eval extract --json` on a real slice: the last line carries precision, recall, f1 and per-attribute figures."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import orjson
from typer.testing import CliRunner

from shopmind.cli.main import app


def test_eval_extract_json(shared_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "slice.jsonl"
    with (shared_data / "extraction/extractgpt/ae-110k/test_dev.jsonl").open("rb") as fh:
        data.write_bytes(b"".join(islice(fh, 60)))
    res = CliRunner().invoke(app, ["eval", "extract", "--data", str(data), "--json"])
    assert res.exit_code == 0, res.output
    out = orjson.loads(res.output.strip().splitlines()[-1])
    assert out["model"] == "ae-110k" and out["offers"] == 60
    assert 0.0 < out["precision"] <= 1.0 and 0.0 < out["recall"] <= 1.0 and 0.0 < out["f1"] <= 1.0
    assert out["per_attribute"] and "macro" in out


def test_eval_extract_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"nothing": 1}\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["eval", "extract", "--data", str(bad), "--json"])
    assert res.exit_code == 2 and "bad.jsonl line 1" in res.output
    res = CliRunner().invoke(app, ["eval", "extract", "--data", str(tmp_path / "missing.jsonl")])
    assert res.exit_code == 2

"""bench/experiments.py: the aggregator runs every section, reports a missing or failing one as such while the others
still run, and its last JSON line carries the issue's headline keys; quick mode runs the real sections at smoke sizes."""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
HEADLINE = ("aa_false_positive_rate", "aa_runs", "interleaving_sensitivity_ratio", "cuped_variance_reduction", "personalised_ndcg_gain")


@pytest.fixture
def aggregator(tmp_path, monkeypatch):
    """bench/experiments.py imported, with a folder of stand-in sections first on the path."""
    (tmp_path / "_exp_boom.py").write_text("def run(args):\n    raise RuntimeError('boom on purpose')\n")
    (tmp_path / "_exp_fine.py").write_text("def run(args):\n    return {'fine.value': 1, 'aa_runs': args.quick}\n")
    (tmp_path / "_exp_broken.py").write_text("import not_a_module_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(BENCH))
    # Loaded from its file under its own name: a plain `import experiments` can find tests/experiments instead (seen
    # under xdist, where which test module a worker imported first decides what a bare name resolves to).
    spec = importlib.util.spec_from_file_location("bench_experiments_aggregator", BENCH / "experiments.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_failing_or_missing_section_is_reported_and_the_others_still_run(aggregator):
    args = argparse.Namespace(quick=True)
    result: dict = {}
    for name in ("boom", "nothere", "broken", "fine"):
        aggregator.run_section(name, args, result)
    assert result["boom.status"].startswith("failed: RuntimeError: boom on purpose")
    assert result["nothere.status"].startswith("missing")
    assert result["broken.status"].startswith("failed: ModuleNotFoundError")  # its own import failed: not "missing"
    assert result["fine.status"] == "ok" and result["fine.value"] == 1 and result["aa_runs"] is True


def test_unknown_sections_are_refused():
    proc = subprocess.run([sys.executable, str(BENCH / "experiments.py"), "--sections", "aa,nope"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "unknown section" in proc.stderr


@pytest.mark.integration
def test_quick_run_writes_every_headline_key(tmp_path):
    """All sections at smoke sizes in one process: the last line is the JSON, equal to --out, with the headline keys."""
    out = tmp_path / "experiments.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPMIND_") or k in ("SHOPMIND_CACHE", "SHOPMIND_SHARED_DATA")}
    proc = subprocess.run([sys.executable, str(BENCH / "experiments.py"), "--quick", "--json", "--out", str(out), "--work", str(tmp_path / "w")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = orjson.loads(proc.stdout.strip().splitlines()[-1])
    assert last == orjson.loads(out.read_bytes())
    assert set(HEADLINE) <= set(last)
    assert last["aa.status"] == "ok" and last["sim.status"] == "ok", {k: v for k, v in last.items() if k.endswith(".status")}
    assert last["aa_runs"] == 200 and 0.0 <= last["aa_false_positive_rate"] <= 0.15
    assert last["aa.msprt_peeking_false_positive_rate"] <= last["aa.naive_peeking_false_positive_rate"]
    assert last["setup.split"].startswith("frozen") and last["setup.simulated"] is True
    for name, key in (("personal", "personalised_ndcg_gain"), ("ope", "cuped_variance_reduction")):
        if last.get(f"{name}.status") == "ok":  # sections owned by other helpers: when they ran, their headline is filled
            assert isinstance(last[key], float), (name, last[key])

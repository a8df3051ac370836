"""The installed `shopmind` command: import, stats --json, delete-user, errors and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

pytestmark = pytest.mark.integration  # every test runs the installed command in a subprocess

BIN = Path(sys.executable).parent / "shopmind"


def run(*args: str, home: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "SHOPMIND_HOME": str(home)}
    proc = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=120)
    if check and proc.returncode:
        raise AssertionError(f"{args} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_import_stats_delete_user(tmp_path, demo_data):
    home = tmp_path / "shop"
    out = run("import", "products", str(demo_data / "products.jsonl"), "--json", home=home)
    assert orjson.loads(out.stdout.splitlines()[-1])["stored"] == 1682
    run("import", "users", str(demo_data / "users.csv"), "--home", str(home), home=tmp_path / "ignored")
    run("import", "events", str(demo_data / "events.parquet"), home=home)
    stats = orjson.loads(run("stats", "--json", home=home).stdout.splitlines()[-1])
    assert (stats["products"], stats["users"], stats["events"]) == (1682, 943, 155_375)
    removed = orjson.loads(run("delete-user", "u1", "--json", home=home).stdout)
    assert removed["removed"]["users"] == 1 and removed["removed"]["events"] > 0
    stats = orjson.loads(run("stats", "--json", home=home).stdout)
    assert stats["events"] == 155_375 - removed["removed"]["events"]


def test_bad_file_exits_nonzero_and_names_line_and_field(tmp_path):
    bad = tmp_path / "ev.jsonl"
    bad.write_text('{"type":"view","user_id":"u1","item_id":"p1"}\n{"type":"view","user_id":"u1"}\n')
    proc = run("import", "events", str(bad), home=tmp_path / "shop", check=False)
    assert proc.returncode == 1
    assert f"{bad}:2:" in proc.stderr and "item_id" in proc.stderr
    proc = run("import", "events", str(bad), "--on-error", "skip", home=tmp_path / "shop")
    assert "rejected 1" in proc.stdout.replace("\n", " ")
    assert Path(str(bad) + ".rejected.jsonl").is_file()


def test_usage_errors(tmp_path):
    assert run("import", "orders", "x.jsonl", home=tmp_path, check=False).returncode == 2
    assert run("import", "events", str(tmp_path / "missing.jsonl"), home=tmp_path, check=False).returncode == 2


def test_eval_contracts_print_one_json_object_last(tmp_path, shared_data):
    lines = (shared_data / "seqrec" / "Beauty.txt").read_text().splitlines()[:400]
    (tmp_path / "seq.txt").write_text("\n".join(lines) + "\n")
    out = run("eval", "recs", "--sequences", str(tmp_path / "seq.txt"), "--model", "itemknn", "--protocol", "loo-full", "--json", home=tmp_path / "h")
    result = orjson.loads(out.stdout.strip().splitlines()[-1])
    assert {"hr@10", "ndcg@10", "hr@20", "ndcg@20", "coverage@10", "train_s", "users"} <= result.keys() and result["users"] == 400
    hd = shared_data / "search" / "homedepot"
    products = (hd / "products.jsonl").read_text().splitlines()[:3000]
    (tmp_path / "p.jsonl").write_text("\n".join(products) + "\n")
    ids = {orjson.loads(p)["id"] for p in products}
    qrels = [r for r in (hd / "qrels.tsv").read_text().splitlines() if r.split("\t")[1] in ids]
    qids = {r.split("\t")[0] for r in qrels}
    (tmp_path / "q.tsv").write_text("\n".join(q for q in (hd / "queries.tsv").read_text().splitlines() if q.split("\t")[0] in qids) + "\n")
    (tmp_path / "r.tsv").write_text("\n".join(qrels) + "\n")
    out = run("eval", "search", "--products", str(tmp_path / "p.jsonl"), "--queries", str(tmp_path / "q.tsv"), "--qrels", str(tmp_path / "r.tsv"),
              "--no-train", "--mode", "bm25", "--json", home=tmp_path / "h")
    result = orjson.loads(out.stdout.strip().splitlines()[-1])
    assert {"ndcg@10", "mrr@10", "recall@100", "queries", "latency_ms_p50", "latency_ms_p99", "index_s"} <= result.keys()
    assert result["queries"] == len(qids) and result["ndcg@10"] > 0.2


def test_imports_lists_runs_with_checkpoints(tmp_path, demo_data):
    home = tmp_path / "shop"
    run("import", "users", str(demo_data / "users.csv"), home=home)
    rows = orjson.loads(run("imports", "--json", home=home).stdout)
    assert rows[0]["kind"] == "users" and rows[0]["status"] == "done" and rows[0]["records_committed"] == 943

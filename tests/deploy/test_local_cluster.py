"""The compose topology as local processes (scripts/local_cluster.py --check): PostgreSQL, Redis, a Milvus server,
the migrate/seed/build jobs and two `shopmind serve` hosts behind a load balancer, smoke-tested through it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.redis]  # starts every server itself

REPO = Path(__file__).resolve().parents[2]


def test_local_cluster_check_passes_through_the_load_balancer(tmp_path):
    root = tmp_path / "cluster"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "local_cluster.py"), "--check", "--root", str(root),
                           "--products", "200", "--events", "5000", "--timeout", "240"],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.stdout.strip(), proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    failed = {k: v for k, v in result["checks"].items() if not v["ok"]}
    assert proc.returncode == 0 and result["ok"], (failed, proc.stderr[-3000:])
    assert {"search", "recommend", "event", "chat", "same_search_on_every_host", "write_via_lb_seen_by_every_host",
            "lb_spreads_over_hosts"} <= result["checks"].keys()
    assert result["hosts"] == 2 and result["milvus"] is True
    assert not (root / "cluster.json").exists()  # --check stopped everything it started
    logs = {p.name for p in (root / "logs").iterdir()}
    assert {"redis.log", "milvus.log", "migrate.log", "seed.log", "build.log", "api1.log", "api2.log", "lb.log"} <= logs

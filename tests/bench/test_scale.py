"""bench/scale.py: its quick mode really starts PostgreSQL, Redis and four API workers and writes the headline keys
(budget held under concurrent clicks, an event at one worker seen by another, a promotion seen by every worker);
and the pieces that need no server: the labelled repeated catalog and the generated wrk script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
HEADLINE = ("throughput_ratio_2v1", "overspent_clicks", "cross_worker_event_to_recs_p99_ms", "promote_visible_s")


@pytest.fixture(scope="module")
def scale_modules():
    sys.path.insert(0, str(BENCH))
    try:
        import _scale_growth
        import _scale_wrk

        yield _scale_growth, _scale_wrk
    finally:
        sys.path.remove(str(BENCH))


def test_the_catalog_beyond_the_real_titles_is_repeated_under_new_ids_and_counted(scale_modules):
    growth, _ = scale_modules
    real = [{"id": "100001", "title": "Simpson Strong-Tie 12-Gauge Angle"}, {"id": "100002", "title": "BEHR DeckOver 1-gal."}]
    products, repeated = growth.catalog(real, 5)
    assert repeated == 3
    assert [p["id"] for p in products] == ["100001", "100002", "100001-r1", "100002-r1", "100001-r2"]
    assert [p["title"] for p in products[2:]] == [real[0]["title"], real[1]["title"], real[0]["title"]]
    assert growth.catalog(real, 1) == ([real[0]], 0)


def test_the_wrk_script_mixes_40_40_20_over_the_given_queries_users_and_items(scale_modules, tmp_path):
    _, wrk = scale_modules
    script = wrk.write_script(tmp_path / "mix.lua", ["cordless drill", "deck over", "近似"], ["u1", "u2"], ["m1", "m2", "m3"], "pub-key")
    text = script.read_text()
    plan = text.split('local plan = {', 1)[1].split("}", 1)[0]
    assert [plan.count(f'"{k}"') for k in "sre"] == [4, 4, 2]
    assert '"/search?q=cordless+drill&k=10"' in text and "近似" not in text  # URL-encoded; non-ASCII queries left out
    assert '"/recommend?user_id=u1&placement=home&k=20"' in text and "item_id=m2" in text
    assert '\\"user_id\\":\\"u1\\"' in text and '"pub-key"' in text
    assert not [t for t in ("@SEARCH@", "@RECS@", "@EVENTS@", "@KEY@") if t in text]


@pytest.mark.integration
def test_quick_run_holds_the_budget_and_sees_events_and_promotions_across_workers(tmp_path):
    """Sections b, c, d at smoke sizes: 4 workers on PostgreSQL + Redis, and a second host promoting a build."""
    out = tmp_path / "scale.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPMIND_") or k == "SHOPMIND_CACHE"}
    proc = subprocess.run([sys.executable, str(BENCH / "scale.py"), "--quick", "--sections", "b,c,d", "--json", "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = orjson.loads(proc.stdout.strip().splitlines()[-1])
    assert set(HEADLINE) <= set(last), last
    assert last == orjson.loads(out.read_bytes())
    assert not [k for k in last if k.endswith(".status")], {k: v for k, v in last.items() if k.endswith(".status")}
    assert last["overspent_clicks"] == 0 and last["b.charged_equals_budget"] is True
    assert last["b.charged_clicks"] == last["b.budget"] == 5 and last["b.clicks_2xx"] == last["b.clicks_posted"] == 20
    assert isinstance(last["cross_worker_event_to_recs_p99_ms"], float) and last["c.unchanged_after_5s"] == 0
    assert last["d.workers_switched"] == 4 and isinstance(last["promote_visible_s"], float)
    assert last["throughput_ratio_2v1"] is None  # section a did not run: its key is there, empty

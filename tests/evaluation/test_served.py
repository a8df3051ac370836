"""`eval recs --served`: the served pipeline measured through the facade on a real shop, beside its offline model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from shopmind.evaluation.served import evaluate_served, heldout_users, list_metrics
from shopmind.recommend.base import Interactions
from shopmind.recommend.datasets import ml100k

pytestmark = pytest.mark.integration  # builds a shop through the facade

SETTINGS = {"recommend": {"content_encoder": "none", "rising": False, "select": {"candidates": ["popular", "itemknn", "rules", "als", "ease"]}},
            "search": {"stages": {"dense": False}}}


def test_list_metrics_on_known_lists() -> None:
    m = list_metrics([["a", "b", "c"], ["x", "y"]], [{"a"}, {"z"}])
    assert m["hr@10"] == 0.5 and m["ndcg@10"] == 0.5 and m["recall@10"] == 0.5


def test_heldout_users_are_cut_in_time(shared_data: Path) -> None:
    _, events = ml100k(shared_data / "ml-100k", max_users=100)
    inter = Interactions.from_events(events)
    cut = float(np.quantile(inter.ts, 0.8))
    ids, hist, later = heldout_users(inter, cut)
    assert ids and len(ids) == len(hist) == len(later)
    for uid, h, t in zip(ids, hist, later, strict=True):
        u = inter.user_ids.index(uid)
        ts = inter.ts[inter.indptr[u]:inter.indptr[u + 1]]
        assert len(h) == int((ts < cut).sum()) and not np.isin(t, h).any()


def test_served_pipeline_beside_its_offline_model(shared_data: Path, tmp_path: Path) -> None:
    products, events = ml100k(shared_data / "ml-100k", max_users=300)
    out = evaluate_served(products, events, settings=SETTINGS, max_users=30, workdir=tmp_path)
    assert out["users"] == 30 and out["placement"] == "home"
    chosen = out["card"]["placements"]["home"]
    assert chosen["mode"] == "chosen" and out["served_model"] == "blend:" + "+".join(chosen["sources"])
    assert out["offline"] is not None and out["card_val_ndcg@10"] == chosen["val_ndcg@10"]
    for key in ("hr@10", "ndcg@10", "recall@20"):
        assert 0 <= out["served"][key] <= 1 and 0 <= out["offline"][key] <= 1
    assert out["served"]["hr@20"] > 0 and out["offline"]["hr@20"] > 0


def test_cli_eval_recs_served(tmp_path: Path, demo_data: Path) -> None:
    from shopmind.cli.main import app
    from shopmind.engine import ShopMind

    home = tmp_path / "home"
    with ShopMind.open(home, **SETTINGS) as shop:
        shop.import_file("products", demo_data / "products.jsonl")
        events = pq.read_table(demo_data / "events.parquet").sort_by("timestamp").slice(0, 15_000)
        pq.write_table(events, tmp_path / "ev.parquet")
        shop.import_file("events", tmp_path / "ev.parquet")
    (home / "shopmind.toml").write_text('[recommend]\ncontent_encoder = "none"\nrising = false\n[recommend.select]\ncandidates = ["popular", "itemknn"]\n')
    res = CliRunner().invoke(app, ["eval", "recs", "--served", "--home", str(home), "--users", "10", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    assert out["users"] == 10 and "ndcg@10" in out["served"] and out["served_model"]

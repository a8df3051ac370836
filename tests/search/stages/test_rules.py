"""rules stage: pin, boost, bury and hide on a real ranked list."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from shopmind.search import MerchRule
from shopmind.search.stages.rules import apply_rules
from tests.search.stages.conftest import run_until


def _ranked(svc, query):
    ctx = run_until(svc, query, "rank", mode="bm25")
    return ctx, ctx.ranked_rows.copy(), ctx.final_score.copy(), ctx.tail_mask.copy()


def test_pin_hide_boost_bury(hd_svc) -> None:
    ctx, rows, score, tail = _ranked(hd_svc, "hose")
    ids = hd_svc.table.ids
    last, second, first = ids[rows[-1]], ids[rows[1]], ids[rows[0]]
    outside = next(i for i in range(len(ids)) if i not in set(rows.tolist()))
    rules = [MerchRule(name="p", query="Hose", action="pin", ids=[ids[outside], last]),
             MerchRule(name="h", query="hose", action="hide", ids=[second]),
             MerchRule(name="other", query="drill", action="hide", ids=[first])]
    notes: dict[int, list[str]] = defaultdict(list)
    out_rows, out_score, _ = apply_rules(rules, hd_svc.table, ctx.u, rows, score, tail, notes)
    assert [ids[r] for r in out_rows[:2]] == [ids[outside], last]  # pinned in the rule's order, even from outside the matches
    assert second not in {ids[r] for r in out_rows} and first in {ids[r] for r in out_rows}  # other queries' rules do not fire
    assert (np.diff(out_score) <= 0).all() and notes[outside] == ["pin:p"] and notes[rows[1]] == ["hide:h"]

    ctx, rows, score, tail = _ranked(hd_svc, "hose")
    boosted = ids[rows[-1]]
    out_rows, _, _ = apply_rules([MerchRule(query="hose", action="boost", ids=[boosted], factor=3.0)], hd_svc.table, ctx.u,
                                 rows, score, tail, defaultdict(list))
    assert list(out_rows).index(hd_svc.table.row_of[boosted]) < len(rows) - 1
    out_rows, _, _ = apply_rules([MerchRule(query="hose", action="bury", ids=[ids[rows[0]]], factor=3.0)], hd_svc.table, ctx.u,
                                 rows, score, tail, defaultdict(list))
    assert out_rows[0] != rows[0]


def test_rules_stage_is_skipped_without_rules(hd_svc) -> None:
    ctx = run_until(hd_svc, "garden hose", "rules", mode="bm25")
    assert "rules" not in ctx.stages and not ctx.rule_notes

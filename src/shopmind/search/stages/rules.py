"""Stage 6, rules: merchandising rules (shopmind.rules.MerchRule) pin, boost, bury or hide ids for a
matching query (normalised, exact) or category (path prefix); each hit names the rules that moved it."""

from __future__ import annotations

import numpy as np

from shopmind.search.catalog import ProductTable
from shopmind.search.config import MerchRule
from shopmind.search.stages.context import SearchContext
from shopmind.search.understand import Understood
from shopmind.text.normalize import normalize


def apply_rules(rules: list[MerchRule], table: ProductTable, u: Understood, rows: np.ndarray, score: np.ndarray,
                tail: np.ndarray, notes: dict[int, list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ranked (rows, score) and the tail mask after every matching rule; `notes[row]` gets "action:name"."""
    for rule in rules:
        if rule.query is not None and normalize(rule.query) != u.normalized:
            continue
        if rule.category is not None and not (u.category or "").startswith(rule.category):
            cm = table.category_mask(rule.category)
            if rule.query is None and not cm[rows].any():
                continue
        ids = [table.row_of[i] for i in rule.ids if i in table.row_of]
        if not ids:
            continue
        idset = np.array(ids, np.int64)
        inlist = np.isin(rows, idset)
        if rule.action == "hide":
            rows, score = rows[~inlist], score[~inlist]
            tail[idset] = False
        elif rule.action in ("boost", "bury"):
            f = rule.factor if rule.action == "boost" else 1.0 / rule.factor
            span = float(score.max() - score.min()) if len(score) else 1.0
            score = score.copy()
            score[inlist] += np.sign(np.log(f)) * span * min(abs(np.log(f)), 1.0)
            o = np.lexsort((rows, -score))
            rows, score = rows[o], score[o]
        elif rule.action == "pin":
            alive = idset[table.alive[idset]]
            rest = ~np.isin(rows, alive)
            top = score.max() + 1.0 if len(score) else 1.0
            rows = np.concatenate([alive, rows[rest]])
            score = np.concatenate([top + np.arange(len(alive))[::-1], score[rest]])
            tail[alive] = False
        for i in ids:
            notes[i].append(f"{rule.action}:{rule.name}")
    return rows, score, tail


def run(ctx: SearchContext) -> None:
    """Apply the configured rules (when the rules stage is on) to ctx.ranked_rows/final_score/tail_mask."""
    cfg = ctx.parts.config
    if not (cfg.stages.rules and cfg.rules):
        return
    assert ctx.ranked_rows is not None and ctx.final_score is not None and ctx.tail_mask is not None
    ctx.ranked_rows, ctx.final_score, ctx.tail_mask = apply_rules(
        cfg.rules, ctx.parts.table, ctx.u, ctx.ranked_rows, ctx.final_score, ctx.tail_mask, ctx.rule_notes)
    ctx.stages.append("rules")

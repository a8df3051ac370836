"""The search pipeline: understand → retrieve (lexical, dense) → fuse → features → rank → rules → facets → page.

Every stage is a module with one `run(ctx: SearchContext) -> None` that reads what earlier stages left in the
context and fills its own fields; `run_pipeline` runs them in order and times each one (`timing`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from shopmind.search.stages import facets, features, fuse, page, rank, retrieve, rules, understand
from shopmind.search.stages.context import Retrieval, SearchContext, SearchParts, SearchRequest
from shopmind.search.stages.timing import STAGE_SECONDS, timed

logger = logging.getLogger(__name__)

Stage = Callable[[SearchContext], None]

PIPELINE: tuple[tuple[str, Stage], ...] = (
    ("understand", understand.run),
    ("retrieve", retrieve.run),
    ("fuse", fuse.run),
    ("features", features.run),
    ("rank", rank.run),
    ("rules", rules.run),
    ("facets", facets.run),
    ("page", page.run),
)
STAGE_NAMES: tuple[str, ...] = tuple(name for name, _ in PIPELINE)
SUB_STAGES: tuple[str, ...] = ("retrieve.lexical", "retrieve.dense")  # timed inside retrieve


def run_pipeline(ctx: SearchContext) -> SearchContext:
    """Run every stage on ctx, timing each (ms in ctx.timings, seconds in STAGE_SECONDS); ctx.timings["total"]: all of them."""
    t0 = time.perf_counter()
    for name, stage in PIPELINE:
        with timed(ctx, name):
            stage(ctx)
    ctx.timings["total"] = (time.perf_counter() - t0) * 1e3
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("search %r: %s", ctx.request.query[:80], " ".join(f"{k}={v:.2f}ms" for k, v in ctx.timings.items()))
    return ctx


__all__ = ["PIPELINE", "STAGE_NAMES", "STAGE_SECONDS", "SUB_STAGES", "Retrieval", "SearchContext", "SearchParts", "SearchRequest",
           "run_pipeline"]

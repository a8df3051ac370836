"""A build's orchestration on an executor: product vectors once, then every part into a new version folder.

In process (the default) each part is built, sealed and published in turn, exactly as the engine always did.
On a distributed executor the new product texts are encoded by parallel tasks first; then every part whose build
takes `tasks` (recommend: its per-model evaluation and fit fan out as tasks) is orchestrated here while every
other part (search, ads) builds as one task whose files come back into its version folder, loaded afterwards with
the part's `load`. A part that fails has its half-written version removed, the parts not yet finished too, and
the build raises `BuildFailed` naming the part; parts published before it stay published (as in process).
"""

from __future__ import annotations

import inspect
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopmind.errors import BuildFailed
from shopmind.executors.base import Executor, Pending
from shopmind.executors.embed import product_vectors
from shopmind.executors.tasks import build_part

if TYPE_CHECKING:
    import numpy as np

    from shopmind.domain import Product
    from shopmind.text.embedstore import EmbeddingStore

log = logging.getLogger(__name__)

__all__ = ["BuildFailed", "BuildPlan", "build_parts"]


@dataclass(frozen=True)
class BuildPlan:
    """What a build makes: part classes and configs by name (in build order) from one store snapshot.

    `new_dir(part)` gives a fresh (version, folder); `seal(part, folder, service)` finishes a built folder (snapshot
    position, deletions since the snapshot); `publish(part, version, service)` swaps it in."""

    classes: dict[str, Any]
    configs: dict[str, Any]
    products: Sequence[Product]
    events: Any
    embeddings: EmbeddingStore
    new_dir: Callable[[str], tuple[str, Path]]
    seal: Callable[[str, Path, Any], None]
    publish: Callable[[str, str, Any], None]


def _takes_tasks(cls: Any) -> bool:
    return "tasks" in inspect.signature(cls.build).parameters


def build_parts(executor: Executor, plan: BuildPlan) -> dict[str, Any]:
    """Build every part of `plan` on `executor`; returns {part: {"version", "seconds"}} in build order."""
    store, products = plan.embeddings, plan.products
    started, encoded = time.perf_counter(), store.encoded
    vectors = product_vectors(store, products, executor)  # each product once, for every part (cached by text)
    log.info("build: %d product vectors in %.2f s (%d newly encoded)", len(products), time.perf_counter() - started,
             store.encoded - encoded)
    if executor.in_process:
        return _in_process(plan, vectors)
    return _distributed(executor, plan, vectors)


def _in_process(plan: BuildPlan, vectors: np.ndarray) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name, service_cls in plan.classes.items():
        started = time.perf_counter()
        log.info("build %s: started (%d products, %d events)", name, len(plan.products), plan.events.num_rows)
        version, out_dir = plan.new_dir(name)
        try:
            service = service_cls.build(plan.products, plan.events, out_dir, plan.configs[name], vectors=vectors, embeddings=plan.embeddings)
            plan.seal(name, out_dir, service)
        except BaseException:
            log.warning("build %s: failed; version %s removed", name, version, exc_info=True)
            shutil.rmtree(out_dir, ignore_errors=True)
            raise
        plan.publish(name, version, service)
        seconds = round(time.perf_counter() - started, 2)
        log.info("build %s: version %s in %.2f s", name, version, seconds)
        summary[name] = {"version": version, "seconds": seconds}
    return summary


def _distributed(executor: Executor, plan: BuildPlan, vectors: np.ndarray) -> dict[str, Any]:
    started = time.perf_counter()
    names = list(plan.classes)
    dirs = {name: plan.new_dir(name) for name in names}
    here = [name for name in names if _takes_tasks(plan.classes[name])]  # orchestrated here, their inner work as tasks
    pending: dict[str, Pending[None]] = {}
    unfinished, summary = set(names), {}
    name = names[0]
    try:
        for name in names:
            if name not in here:  # started now, collected below: they run while the parts orchestrated here do
                args = (plan.classes[name], plan.products, plan.events, plan.configs[name], vectors)
                pending[name] = executor.submit(build_part, args, out_dir=dirs[name][1])
        log.info("build on %s: %s as tasks, %s orchestrated here", executor.url, sorted(pending), here)
        for name in here + [n for n in names if n not in here]:
            version, out_dir = dirs[name]
            cls, config = plan.classes[name], plan.configs[name]
            if name in pending:
                pending[name].result()
                service = cls.load(out_dir, config, embeddings=plan.embeddings)
            else:
                service = cls.build(plan.products, plan.events, out_dir, config, vectors=vectors, embeddings=plan.embeddings, tasks=executor)
            plan.seal(name, out_dir, service)
            unfinished.discard(name)
            plan.publish(name, version, service)
            summary[name] = {"version": version, "seconds": round(time.perf_counter() - started, 2)}
            log.info("build %s: version %s after %.2f s on %s", name, version, summary[name]["seconds"], executor.url)
    except BaseException as exc:
        for p in pending.values():
            p.cancel()
        for n in unfinished:
            shutil.rmtree(dirs[n][1], ignore_errors=True)
        if not isinstance(exc, Exception):
            raise
        cause = getattr(exc, "cause", None) or exc  # a Ray task error carries the task's own exception
        log.warning("build %s failed on %s; unfinished versions removed: %s", name, executor.url, sorted(unfinished))
        raise BuildFailed(f"build of part {name!r} failed on {executor.url}: {type(cause).__name__}: {cause} "
                          f"(its version {dirs[name][0]} and the unfinished parts' were removed)") from exc
    return {n: summary[n] for n in names}

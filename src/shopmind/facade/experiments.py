"""Experiment verbs of the facade: `shop.experiments`, `variant_for`, and serving a request in its variant.

The serving verbs (search, recommend, ads, chat) ask `variant_for(surface, user, session)`; an arm's overrides apply to
this request only (`facade/variants.py`: which knobs each surface takes), its `version` serves that registry version
of the part, loaded beside the promoted one and kept current with catalog changes. The exposure is logged when the
response is ready to return (an error before that logs nothing), and the response carries `experiment: {id, variant}`
(team-draft interleaving: `teams`, 0 = control, 1 = the other arm, per hit; optimized interleaving: `credits`, what a click
on each hit says for the other arm over control). A unit is the user id, or the session id for
`unit = "session"` (recommend reads it from `context["session_id"]`). An exposure of simulated traffic (`context.simulated`,
or a request served under `exposures.labelled`, as the API does for `X-Simulated: 1`) carries the label and run id.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import orjson

from shopmind.experiments.exposures import sim_label
from shopmind.experiments.model import Assignment, Experiment, ExperimentError
from shopmind.experiments.service import ExperimentService
from shopmind.facade.follow import replay_into
from shopmind.facade.variants import check_request_knobs, family, overlay
from shopmind.logs import request_id
from shopmind.store import changes

if TYPE_CHECKING:
    from shopmind.artifacts import ModelRegistry
    from shopmind.recommend.config import RecommendResponse
    from shopmind.search.models import SearchResponse
    from shopmind.store import SqlStore

__all__ = ["ExperimentVerbs"]
log = logging.getLogger(__name__)
T = TypeVar("T")
REFRESH_S = 2.0  # running experiments and side-loaded versions are re-read this often
MAX_INTERLEAVED_DEPTH = 1_000  # results merged for one interleaved page at most; a deeper page serves control's own


class ExperimentVerbs:
    """Experiments through the facade (mixed into `ShopMind`)."""

    store: SqlStore
    registry: ModelRegistry
    _lock: threading.RLock
    _loaded: dict[str, str]
    _experiments: ExperimentService | None = None

    if TYPE_CHECKING:  # provided by ShopMind
        def service(self, name: str) -> Any: ...

        def part_config(self, name: str) -> Any: ...

        def _load_version(self, part: str, version: str) -> Any: ...

        def snapshot_seq(self, part: str) -> int: ...

    # -- the service ---------------------------------------------------------------------------------
    @property
    def experiments(self) -> ExperimentService:
        """Experiment definitions, their lifecycle and the exposure log (made on first use)."""
        if self._experiments is None:
            with self._lock:
                if self._experiments is None:
                    self._side: dict[tuple[str, str], list[Any]] = {}  # (part, version) → [service, change seq, replayed at]
                    self._configs: dict[tuple[int, str, bytes], tuple[Any, Any, dict[str, Any]]] = {}
                    self._experiments = ExperimentService(self.store.engine, check=self.check_experiment, refresh_s=REFRESH_S)
        return self._experiments

    def close_experiments(self) -> None:
        """Write the queued exposures (called by `close`)."""
        if self._experiments is not None:
            self._experiments.close()

    def check_experiment(self, exp: Experiment) -> None:
        """What the variants change must exist: knobs valid for the surface's config, versions in the registry."""
        spec = family(exp.surface)
        for i, v in enumerate(exp.variants):
            where = f"variants[{i}]"
            try:
                cfg, knobs = spec.split(v.overrides)
                check_request_knobs(knobs)
                if exp.surface != "assistant":  # the assistant's config is checked without building one
                    spec.with_config(self._surface_config(exp.surface), exp.surface, cfg)
                else:
                    spec.with_config(self._assistant_config(), exp.surface, cfg)
            except ExperimentError as exc:
                raise ExperimentError(f"{where}.{exc}") from exc
            for part, version in (v.version or {}).items():
                if part not in spec.parts:
                    raise ExperimentError(f"{where}.version: {exp.surface} cannot pin {part!r} (pinnable: {sorted(spec.parts) or 'none'})")
                row = self.registry.get(part, version)
                if row is None or row["status"] == "retired":
                    raise ExperimentError(f"{where}.version: {part} {version!r} is not a kept version (see `shopmind models list`)")

    def _surface_config(self, surface: str) -> Any:
        return self.part_config(surface.split(":", 1)[0])

    def _assistant_config(self) -> Any:
        from shopmind.assistant.config import AssistantConfig

        return AssistantConfig.model_validate(getattr(getattr(self, "settings", None), "assistant", None) or {})

    def experiment_report(self, experiment_id: str, traffic: str = "auto") -> dict[str, Any]:
        """Per-variant metrics with fixed-horizon and always-valid tests, CUPED, SRM and guardrails (experiments/analysis.py);
        `traffic`: auto | real | simulated | all (simulated traffic is never mixed in silently)."""
        from shopmind.experiments.analysis import analyze

        if traffic not in ("auto", "real", "simulated", "all"):
            raise ExperimentError(f"traffic: {traffic!r} is not one of auto, real, simulated, all")
        exp = self.experiments.get(experiment_id)
        self.experiments.writer.flush(5.0)  # this process's queued exposures count too
        return analyze(self.store.engine, exp, traffic=traffic)  # type: ignore[arg-type]

    # -- the request path ----------------------------------------------------------------------------
    def variant_for(self, surface: str, user_id: str | None, session_id: str | None) -> Assignment | None:
        """The arm this unit gets on `surface` (None: no running experiment there, or no unit id to hash)."""
        return self.experiments.assignment(surface, user_id, session_id)

    def _arm(self, surface: str, base: Any, overrides: dict[str, Any], version: dict[str, str] | None) -> tuple[Any, dict[str, Any]]:
        """The part serving one arm (its version, seen with its config) and the arm's request knobs."""
        part = surface.split(":", 1)[0]
        if version and part in version:
            base = self._side_loaded(part, version[part])
        cfg, knobs = family(surface).split(overrides)
        if not cfg:
            return base, knobs
        key = (id(base), surface, orjson.dumps(cfg, option=orjson.OPT_SORT_KEYS))
        cached = self._configs.get(key)
        if cached is None or cached[0]() is not base or cached[1] is not base.config:  # once per (loaded part, config, arm)
            cached = self._configs[key] = (weakref.ref(base), base.config, family(surface).overlay_attrs(base, surface, cfg))
        return overlay(base, **cached[2]), knobs

    def _side_loaded(self, part: str, version: str) -> Any:
        """A registry version beside the promoted one (the promoted one itself when they are the same)."""
        if self._loaded.get(part) == version:
            return self.service(part)
        key = (part, version)
        with self._lock:
            entry = self._side.get(key)
            if entry is None:
                row = self.registry.get(part, version)
                entry = self._side[key] = [self._load_version(part, version), int(row["last_change_seq"]) if row else 0, 0.0]
            if time.monotonic() - entry[2] >= REFRESH_S:  # catalog changes since: the same replay as a promoted version's
                rows = changes.since(self.store.engine, entry[1])
                ids = list(dict.fromkeys(pid for _, _, pid, _ in rows))
                if ids:
                    found = self.store.get_products(ids)
                    replay_into(part, entry[0], list(found.values()), [i for i in ids if i not in found])
                    entry[1] = rows[-1][0]
                entry[2] = time.monotonic()
            return entry[0]

    def _expose(self, a: Assignment, surface: str, user_id: str | None, session_id: str | None, context: dict[str, Any] | None,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
        extra = {**(extra or {}), **sim_label(context)}  # simulated traffic: from the context, or the request's X-Simulated
        self.experiments.expose(a, surface, user_id=user_id, session_id=session_id, request_id=request_id.get(), extra=extra)
        return {"id": a.experiment_id, "variant": a.variant}

    def served(self, surface: str, user_id: str | None, session_id: str | None, base: Callable[[], Any], call: Callable[[Any], T],
               context: dict[str, Any] | None = None) -> T:
        """`call(part)` on the arm this unit gets (the base part when none), exposure logged and the response marked."""
        a = self.variant_for(surface, user_id, session_id)
        if a is None:
            return call(base())
        part, _ = self._arm(surface, base(), a.overrides, a.version)
        response = call(part)
        mark = self._expose(a, surface, user_id, session_id, context)
        if "experiment" in getattr(type(response), "model_fields", {}):
            response.experiment = mark  # type: ignore[attr-defined]
        return response

    def experiment_search(self, query: str, *, user_id: str | None, session_id: str | None, context: dict[str, Any] | None,
                          **kwargs: Any) -> SearchResponse:
        """`service("search").search` in this unit's arm (engine.search calls it)."""
        a = self.variant_for("search", user_id, session_id)
        arms = self._arms("search", a) if a is not None else None
        if a is None or arms is None:
            out: SearchResponse = self.service("search").search(query, user_id=user_id, **kwargs)
            return out
        page, per_page = int(kwargs.get("page", 1)), int(kwargs.get("per_page", 20))
        if a.kind == "interleave" and page * per_page > MAX_INTERLEAVED_DEPTH:  # a page that deep: control's own, unscored
            return cast("SearchResponse", arms[0][0].search(query, user_id=user_id, **{**kwargs, **arms[0][1]}))
        # an interleaved page p is cut from the merge of both arms' top p x per_page, so the pages of one merge
        # neither repeat a product nor skip one that either arm ranks within them
        ask = {**kwargs, "page": 1, "per_page": page * per_page} if a.kind == "interleave" else kwargs
        answers = [svc.search(query, user_id=user_id, **{**ask, **knobs}) for svc, knobs in arms]
        response = answers[0]
        extra: dict[str, Any] = {}
        if a.kind == "interleave":
            hits = {h.id: h for r in reversed(answers) for h in r.hits}
            extra = self._interleave([[h.id for h in r.hits] for r in answers], per_page,
                                     (a.experiment_id, session_id or user_id, query), a.method, page, a.credit)
            response = response.model_copy(update={"hits": [hits[i] for i in extra["ids"]], "page": page, "per_page": per_page})
        response.experiment = {**self._expose(a, "search", user_id, session_id, context, extra), **_shown(extra)}
        return response

    def experiment_recommend(self, *, user_id: str | None, placement: str, context: dict[str, Any] | None, history: Callable[[int], Any],
                             **kwargs: Any) -> RecommendResponse:
        """`service("recommend").recommend` in this unit's arm; `history(seq)`: the user's events since the served version's."""
        surface = f"recommend:{placement}"
        raw = (context or {}).get("session_id")
        session_id = str(raw) if raw else None
        a = self.variant_for(surface, user_id, session_id)
        arms = self._arms(surface, a) if a is not None else None
        if a is None or arms is None:
            out: RecommendResponse = self.service("recommend").recommend(user_id=user_id, placement=placement, context=context,
                                                                         history=history(self._seq(None)), **kwargs)
            return out
        answers = [svc.recommend(user_id=user_id, placement=placement, context=context, history=history(self._seq(v)), **kwargs)
                   for (svc, _), v in zip(arms, self._arm_versions(surface, a), strict=True)]
        response = answers[0]
        extra: dict[str, Any] = {}
        if a.kind == "interleave":
            items = {it.id: it for r in reversed(answers) for it in r.items}
            extra = self._interleave([[it.id for it in r.items] for r in answers], kwargs.get("k", 20),
                                     (a.experiment_id, session_id or user_id, placement), a.method, 1, a.credit)
            response = response.model_copy(update={"items": [items[i] for i in extra["ids"]]})
        response.experiment = {**self._expose(a, surface, user_id, session_id, context, extra), **_shown(extra)}
        return response

    def _arm_versions(self, surface: str, a: Assignment) -> list[dict[str, str] | None]:
        if a.kind != "interleave":
            return [a.version]
        exp = self.experiments.running().get(surface)
        return [v.version for v in sorted(exp.variants, key=lambda v: not v.control)] if exp else [None, None]

    def _seq(self, version: dict[str, str] | None) -> int:
        """The event seq the recommend version serving an arm was built from."""
        if version and "recommend" in version and version["recommend"] != self._loaded.get("recommend"):
            row = self.registry.get("recommend", version["recommend"])
            return int(row["last_event_seq"]) if row else 0
        return self.snapshot_seq("recommend")

    def _arms(self, surface: str, a: Assignment) -> list[tuple[Any, dict[str, Any]]] | None:
        """One (part, request knobs) per arm to run: the unit's arm, or control then the other arm for an interleaving."""
        part = surface.split(":", 1)[0]
        if a.kind != "interleave":
            return [self._arm(surface, self.service(part), a.overrides, a.version)]
        exp = self.experiments.running().get(surface)
        if exp is None or exp.id != a.experiment_id:  # stopped meanwhile
            return None
        return [self._arm(surface, self.service(part), v.overrides, v.version) for v in sorted(exp.variants, key=lambda v: not v.control)]

    @staticmethod
    def _interleave(lists: list[list[str]], k: int, key: tuple[Any, ...], method: str = "team_draft", page: int = 1,
                    credit: str = "negative") -> dict[str, Any]:
        """Page `page` (of `k` results) of the merged list, seeded by (experiment, unit, query or placement) so a reload
        or the next page continues the same merge while different shoppers and queries draw independently
        (`_MERGES`: what each method logs and returns). `lists` hold each arm's top page x k."""
        seed = int.from_bytes(hashlib.sha256(orjson.dumps([str(x) for x in key])).digest()[:8], "little")
        return _MERGES[method](lists[0], lists[1], k, page, np.random.default_rng(seed), credit)


def _team_draft(a: list[str], b: list[str], k: int, page: int, rng: np.random.Generator, credit: str = "") -> dict[str, Any]:
    """{"ids", "teams"} of page `page`: a slice of the draft of page x k (the draft for k is a prefix of the draft for more)."""
    from shopmind.experiments.interleave import team_draft

    ids, teams = team_draft(a, b, page * k, rng)
    start = (page - 1) * k
    return {"ids": list(ids[start:]), "teams": [int(t) for t in teams[start:]]}


def _optimized(a: list[str], b: list[str], k: int, page: int, rng: np.random.Generator, credit: str = "negative") -> dict[str, Any]:
    """{"ids", "credits", "method", "fair_depth"}: the first page is one list of the fair design over both arms' top k,
    each position with what a click on it earns; later pages continue it by team draft over what neither showed yet,
    unscored (credit 0): the design is fair for the first page, where it was solved."""
    from shopmind.experiments.interleave import team_draft
    from shopmind.experiments.optimized import optimized_merge

    ids, credits, depth = optimized_merge(a[:k], b[:k], k, rng, credit)
    if page > 1:
        shown = set(ids)
        more, _ = team_draft([x for x in a if x not in shown], [x for x in b if x not in shown], (page - 1) * k, rng)
        ids, credits = list(more[(page - 2) * k :]), [0.0] * len(more[(page - 2) * k :])
    return {"ids": ids, "credits": credits, "method": "optimized", "credit": credit, "fair_depth": depth}


_MERGES: dict[str, Callable[[list[str], list[str], int, int, np.random.Generator, str], dict[str, Any]]] = {
    "team_draft": _team_draft, "optimized": _optimized}


def _shown(extra: dict[str, Any]) -> dict[str, Any]:
    """What an interleaved response carries beside {id, variant}: teams (team draft) or per-position credits (optimized)."""
    return {key: extra[key] for key in ("teams", "credits") if key in extra}

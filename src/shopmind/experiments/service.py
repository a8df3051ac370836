"""Experiments in the store: create, start, stop, list, get; the running ones cached per surface for the request path.

Every worker reads the running experiments from the shared store at most every `refresh_s` seconds, so a start or a
stop made anywhere reaches every worker within that interval; one experiment runs per surface at a time (a unit is
in at most one experiment per surface, so effects do not mix). The facade checks what a variant's overrides and
versions name (`check`), since only it knows the parts.
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import Engine, insert, select, update

from shopmind.experiments.assign import assign
from shopmind.experiments.exposures import Exposure, ExposureWriter
from shopmind.experiments.model import Assignment, Experiment, ExperimentConflict, ExperimentError, ExperimentNotFound
from shopmind.store.schema import experiments

__all__ = ["ExperimentService", "validation_message"]
log = logging.getLogger(__name__)
INTERLEAVED = "interleaved"  # the exposure variant of an interleaving (every unit sees both arms)


def validation_message(exc: ValidationError, prefix: str = "") -> str:
    """A pydantic error as one line per problem, each naming its field path (after `prefix`, e.g. "overrides.")."""
    out = []
    for e in exc.errors():
        msg, path = str(e["msg"]).removeprefix("Value error, "), ".".join(str(p) for p in e["loc"])
        out.append(f"{prefix}{path}: {msg}" if path else f"{prefix}{msg}")  # whole-model checks name their fields themselves
    return "; ".join(out)


class ExperimentService:
    """Definitions and lifecycle in the `experiments` table, the cached running set, and the exposure writer."""

    def __init__(self, engine: Engine, *, check: Callable[[Experiment], None] | None = None, refresh_s: float = 2.0,
                 writer: ExposureWriter | None = None) -> None:
        self.engine = engine
        self.check = check
        self.refresh_s = refresh_s
        self.writer = writer or ExposureWriter(engine)
        self._running: dict[str, Experiment] = {}
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    # -- definitions -------------------------------------------------------------------------------------
    def parse(self, definition: Experiment | dict[str, Any]) -> Experiment:
        """Validate a definition (shape here, overrides and versions by the facade's check); errors name the field."""
        try:
            exp = definition if isinstance(definition, Experiment) else Experiment.model_validate(definition)
        except ValidationError as exc:
            raise ExperimentError(validation_message(exc)) from exc
        if self.check is not None:
            self.check(exp)
        return exp

    def create(self, definition: Experiment | dict[str, Any]) -> Experiment:
        """Store a new experiment as a draft (start it with `start`)."""
        exp = self.parse(definition).model_copy(update={"status": "draft", "started_at": None, "ended_at": None})
        with self.engine.begin() as conn:
            if conn.execute(select(experiments.c.id).where(experiments.c.id == exp.id)).first() is not None:
                raise ExperimentConflict(f"id: an experiment {exp.id!r} exists already")
            conn.execute(insert(experiments).values(**self._row(exp)))
        log.info("experiment %s created (%s, %d variants)", exp.id, exp.surface, len(exp.variants))
        return exp

    def get(self, experiment_id: str) -> Experiment:
        """One experiment by id (ExperimentNotFound when there is none)."""
        with self.engine.connect() as conn:
            doc = conn.execute(select(experiments.c.doc).where(experiments.c.id == experiment_id)).scalar()
        if doc is None:
            raise ExperimentNotFound(f"no experiment {experiment_id!r}")
        return Experiment.model_validate_json(doc)

    def list(self, status: str | None = None) -> builtins.list[Experiment]:
        """Experiments, newest first (optionally only one status)."""
        q = select(experiments.c.doc).order_by(experiments.c.created_at.desc())
        if status:
            q = q.where(experiments.c.status == status)
        with self.engine.connect() as conn:
            return [Experiment.model_validate_json(d) for d in conn.execute(q).scalars()]

    def start(self, experiment_id: str) -> Experiment:
        """Start a draft: units are assigned and exposed from now on (other workers follow within `refresh_s`)."""
        with self.engine.begin() as conn:
            exp = self._locked(conn, experiment_id)
            if exp.status != "draft":
                raise ExperimentConflict(f"status: {experiment_id!r} is {exp.status}; only a draft can start (create a new one to rerun)")
            if self.check is not None:  # versions may have been retired since it was created
                self.check(exp)
            rows = conn.execute(select(experiments.c.id, experiments.c.doc).where(experiments.c.status == "running")).all()
            clash = [rid for rid, doc in rows if Experiment.model_validate_json(doc).surface == exp.surface]
            if clash:
                raise ExperimentConflict(f"surface: {exp.surface!r} already runs experiment {clash[0]!r}; stop it first")
            exp = exp.model_copy(update={"status": "running", "started_at": time.time()})
            conn.execute(update(experiments).where(experiments.c.id == exp.id).values(**self._row(exp)))
        self._read_at = float("-inf")
        log.info("experiment %s started on %s", exp.id, exp.surface)
        return exp

    def stop(self, experiment_id: str) -> Experiment:
        """Stop a running experiment: every unit gets the default again (its exposures stay for the report)."""
        with self.engine.begin() as conn:
            exp = self._locked(conn, experiment_id)
            if exp.status != "running":
                raise ExperimentConflict(f"status: {experiment_id!r} is {exp.status}; only a running experiment can stop")
            exp = exp.model_copy(update={"status": "stopped", "ended_at": time.time()})
            conn.execute(update(experiments).where(experiments.c.id == exp.id).values(**self._row(exp)))
        self._read_at = float("-inf")
        log.info("experiment %s stopped", exp.id)
        return exp

    def _locked(self, conn: Any, experiment_id: str) -> Experiment:
        q = select(experiments.c.doc).where(experiments.c.id == experiment_id)
        doc = conn.execute(q.with_for_update() if conn.dialect.name == "postgresql" else q).scalar()
        if doc is None:
            raise ExperimentNotFound(f"no experiment {experiment_id!r}")
        return Experiment.model_validate_json(doc)

    @staticmethod
    def _row(exp: Experiment) -> dict[str, Any]:
        return {"id": exp.id, "surface": exp.surface, "status": exp.status, "created_at": exp.created_at, "started_at": exp.started_at,
                "ended_at": exp.ended_at, "updated_at": time.time(), "doc": exp.model_dump_json()}

    # -- the request path --------------------------------------------------------------------------------
    def running(self) -> dict[str, Experiment]:
        """Running experiments by surface, re-read from the store at most every `refresh_s` seconds."""
        now = time.monotonic()
        if now - self._read_at >= self.refresh_s:
            with self._lock:
                if now - self._read_at >= self.refresh_s:
                    with self.engine.connect() as conn:
                        docs = conn.execute(select(experiments.c.doc).where(experiments.c.status == "running")).scalars().all()
                    running = [Experiment.model_validate_json(d) for d in docs]
                    self._running = {e.surface: e for e in running}
                    self._read_at = time.monotonic()
        return self._running

    def assignment(self, surface: str, user_id: str | None, session_id: str | None) -> Assignment | None:
        """The running experiment's arm for this unit on `surface`, or None (no experiment, or no unit id to hash)."""
        exp = self.running().get(surface)
        if exp is None:
            return None
        unit = user_id if exp.unit == "user" else session_id
        if not unit:
            return None
        if exp.kind == "interleave":
            return Assignment(experiment_id=exp.id, variant=INTERLEAVED, kind="interleave", method=exp.method, credit=exp.credit,
                              unit_id=unit)
        v = assign(exp, unit)
        return Assignment(experiment_id=exp.id, variant=v.name, overrides=v.overrides, version=v.version, kind=exp.kind, unit_id=unit)

    def expose(self, a: Assignment, surface: str, *, user_id: str | None, session_id: str | None, request_id: str | None = None,
               extra: dict[str, Any] | None = None) -> None:
        """Log that `a`'s variant was shown (queued; written in the background)."""
        self.writer.log(Exposure(a.experiment_id, a.variant, a.unit_id, surface, user_id, session_id, request_id, time.time(), extra or {}))

    def close(self) -> None:
        """Write the queued exposures and stop the writer."""
        self.writer.close()


def dumps(exp: Experiment) -> dict[str, Any]:
    """An experiment as plain JSON types."""
    out: dict[str, Any] = orjson.loads(exp.model_dump_json())
    return out

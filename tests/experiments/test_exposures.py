"""The exposure writer: rows reach the store in batches off the caller's thread, `close` writes what is queued, a full
queue drops (and counts) instead of blocking, and a user's exposures are deleted with the user."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, func, select

from shopmind.experiments.exposures import Exposure, ExposureWriter, forget_user, read_exposures
from shopmind.store.schema import exposures, metadata


@pytest.fixture
def engine(tmp_path: Path):
    eng = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    metadata.create_all(eng)
    yield eng
    eng.dispose()


def _exp(i: int, **kw: object) -> Exposure:
    return Exposure("e1", "control" if i % 2 else "b", f"u{i}", "search", user_id=f"u{i}", session_id=f"s{i}", request_id=f"r{i}",
                    ts=1000.0 + i, **kw)  # type: ignore[arg-type]


def _count(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(exposures)).scalar())


def test_rows_are_written_in_batches_and_read_back_in_time_order(engine) -> None:
    writer = ExposureWriter(engine, batch_size=7, interval_s=0.05)
    for i in range(30):
        writer.log(_exp(i, extra={"ids": ["p1", "p2"], "teams": [0, 1]} if i == 3 else {}))
    assert writer.flush(10)
    assert writer.written == 30 and writer.dropped == 0 and _count(engine) == 30
    rows = read_exposures(engine, "e1")
    assert [r[1] for r in rows] == [f"u{i}" for i in range(30)]
    assert rows[3][0] == "control" and orjson.loads(rows[3][5]) == {"ids": ["p1", "p2"], "teams": [0, 1]}
    writer.close()


def test_close_writes_what_is_queued(engine) -> None:
    writer = ExposureWriter(engine, batch_size=1000, interval_s=5.0)  # would wait 5 s for a fuller batch
    for i in range(10):
        writer.log(_exp(i))
    writer.close()
    assert _count(engine) == 10


def test_a_full_queue_drops_instead_of_blocking(engine, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = ExposureWriter(engine, max_queue=3)
    monkeypatch.setattr(writer, "_ensure_thread", lambda: None)  # no consumer: the queue fills
    for i in range(8):
        writer.log(_exp(i))  # returns at once every time
    assert writer.dropped == 5 and writer._queue.qsize() == 3


def test_forget_user_removes_their_rows(engine) -> None:
    writer = ExposureWriter(engine)
    for i in range(4):
        writer.log(_exp(i))
    writer.log(Exposure("e1", "b", "s9", "search", user_id=None, session_id="s9", ts=2000.0))  # an anonymous session of theirs
    writer.close()
    assert forget_user(engine, "u1", ["s9", None]) == 2  # type: ignore[list-item]
    assert sorted(r[1] for r in read_exposures(engine, "e1")) == ["u0", "u2", "u3"]

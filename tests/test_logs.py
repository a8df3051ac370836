"""Logging never makes a caller wait on its output: a full pipe must not stall the API's event loop."""

from __future__ import annotations

import logging
import threading

from shopmind.logs import _DroppingQueueHandler, flush_logs, setup_logging


class _StuckStream:
    """A stream whose writes block until released, like a stderr pipe nobody reads."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        self.release.wait(30)
        self.lines.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_a_stuck_output_neither_blocks_nor_loses_the_caller() -> None:
    stream = _StuckStream()
    handler = setup_logging("INFO", "text", stream=stream)
    log = logging.getLogger("shopmind.test.stuck")
    try:
        dropped = _DroppingQueueHandler.dropped
        for i in range(20_000):  # twice the queue: the rest are dropped and counted, none waits
            log.info("line %d", i)
        # the loop is done while the stream has not written one line: no call waited for the output
        # (a handler writing in the caller's thread would have finished its first write before returning)
        assert stream.lines == []
        assert _DroppingQueueHandler.dropped > dropped
    finally:
        stream.release.set()
        flush_logs()
        logging.getLogger().removeHandler(handler)
    assert any("line 0" in line for line in stream.lines)

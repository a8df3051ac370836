"""The per-turn time budget: the stages of one chat turn share a deadline and stop early with a graceful answer.

The budget is CPU time of the thread running the turn (`time.thread_time`): the attack it bounds is CPU work,
and a machine busy with other requests does not make every turn "late" (wall-clock budgets made answers
depend on load). The deadline lives in a context variable for the synchronous part of a turn (understanding
and the catalog tools, all in one thread), so deep helpers can ask `late()` without threading it through every
call; the LLM stage, which has its own wall-clock timeout, reads the `Deadline` before it starts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class Deadline:
    """`budget_ms` of this thread's CPU time from now (check it from the thread that made it)."""

    def __init__(self, budget_ms: float) -> None:
        self.budget_ms = budget_ms
        self.end = time.thread_time() + budget_ms / 1000.0

    def expired(self) -> bool:
        """True once the budget is spent."""
        return time.thread_time() >= self.end

    def remaining_s(self) -> float:
        """CPU seconds left (0 when spent)."""
        return max(0.0, self.end - time.thread_time())


_current: ContextVar[Deadline | None] = ContextVar("shopmind_turn_deadline", default=None)


@contextmanager
def within(deadline: Deadline) -> Iterator[Deadline]:
    """Make `deadline` the current turn's for the block (enter and leave it without yielding in between)."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def late() -> bool:
    """True when the current turn's budget is spent (False outside a turn): skip optional work then."""
    deadline = _current.get()
    return deadline is not None and deadline.expired()


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a space when one is near (search and encoder cost grow with length)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 else cut

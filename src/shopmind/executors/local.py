"""The in-process executor (the default): every call runs here, in turn, when its result is asked for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = ["LocalExecutor"]


class _Deferred(Generic[T]):
    """A call made when its result is first asked for (so a local build keeps its order: build, publish, next)."""

    def __init__(self, fn: Callable[..., T], args: tuple[Any, ...], out_dir: Path | None) -> None:
        self._call = (fn, args, out_dir)
        self._done = False
        self._value: T | None = None

    def result(self) -> T:
        """Run the call (once) and return its value; its exception propagates unchanged."""
        if not self._done:
            fn, args, out_dir = self._call
            self._value = fn(out_dir, *args) if out_dir is not None else fn(*args)
            self._done = True
        return self._value  # type: ignore[return-value]

    def cancel(self) -> None:
        """Nothing to stop: a deferred call that is never asked for never runs."""
        self._done = True


class LocalExecutor:
    """Runs each call in this process, in turn, writing straight into `out_dir` (today's build, unchanged)."""

    in_process = True

    def __init__(self, url: str = "local") -> None:
        self.url = url

    def submit(self, fn: Callable[..., T], args: tuple[Any, ...], *, out_dir: Path | None = None) -> _Deferred[T]:
        """The call, run when its result is asked for."""
        return _Deferred(fn, args, out_dir)

    def starmap(self, fn: Callable[..., T], args: Sequence[tuple[Any, ...]], *, out_dir: Path | None = None) -> list[T]:
        """fn over each args tuple, in order (with `out_dir` first when given)."""
        return [fn(out_dir, *a) if out_dir is not None else fn(*a) for a in args]

    def close(self) -> None:
        """Nothing to release."""

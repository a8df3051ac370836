"""`start_local_ray` tries a local Ray start again only when the raylet missed Ray's start window, and a bounded number
of times; any other failure surfaces at once (no Ray process is started here: the `ray` module is a stand-in)."""

from __future__ import annotations

from typing import Any

import pytest

from shopmind.executors.raycluster import start_local_ray

TIMED_OUT = "The current node timed out during startup. This could happen because some of the raylet failed to startup"


class FakeRay:
    """Fails `init` with the given errors in turn, then succeeds; counts starts and shutdowns."""

    def __init__(self, *errors: Exception) -> None:
        self.errors, self.inits, self.shutdowns, self.options = list(errors), 0, 0, {}

    def init(self, **options: Any) -> None:
        self.inits += 1
        self.options = options
        if self.errors:
            raise self.errors.pop(0)

    def shutdown(self) -> None:
        self.shutdowns += 1


def test_a_late_raylet_is_started_again_after_a_shutdown() -> None:
    ray = FakeRay(Exception(TIMED_OUT))
    start_local_ray(ray, num_cpus=2)
    assert (ray.inits, ray.shutdowns) == (2, 1)
    assert ray.options == {"address": "local", "log_to_driver": False, "num_cpus": 2}


def test_other_failures_are_not_retried() -> None:
    ray = FakeRay(ValueError("object_store_memory is too small"))
    with pytest.raises(ValueError, match="object_store_memory"):
        start_local_ray(ray)
    assert ray.inits == 1


def test_the_retries_are_bounded() -> None:
    ray = FakeRay(*[Exception(TIMED_OUT)] * 5)
    with pytest.raises(Exception, match="timed out during startup"):
        start_local_ray(ray, tries=3)
    assert ray.inits == 3

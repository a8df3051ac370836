"""Artifact versions: builds in the same second get distinct folders that sort in build order."""

from __future__ import annotations

from shopmind.artifacts import Artifacts


def test_builds_within_one_second_get_ordered_distinct_versions(tmp_path) -> None:
    store = Artifacts(tmp_path)
    made = [store.new_dir("search")[0] for _ in range(5)]  # far faster than a second apart
    assert len(set(made)) == 5 and made == sorted(made)
    for version in made:
        store.publish("search", version)
        assert store.version("search") == version

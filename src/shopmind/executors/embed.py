"""Product vectors for a build: texts missing from the embedding cache are encoded by parallel tasks, in the batches
an in-process build would use, and written back into the driver's cache (the next build is warm)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from shopmind.executors.base import Executor
from shopmind.executors.tasks import encode_texts

if TYPE_CHECKING:
    from shopmind.domain import Product
    from shopmind.text.embedstore import EmbeddingStore

log = logging.getLogger(__name__)

__all__ = ["product_vectors"]


def product_vectors(store: EmbeddingStore, products: Sequence[Product], executor: Executor) -> np.ndarray:
    """Vectors of every product's text, rows aligned with `products`; new texts encoded by `executor`'s tasks."""
    if not executor.in_process and store.factory is not None:
        from shopmind.text.product_text import product_texts

        keys, texts = store.missing(product_texts(products))
        if texts:
            step = store.batch
            chunks = [(store.factory, texts[i : i + step]) for i in range(0, len(texts), step)]
            log.info("embedding %d new texts in %d tasks on %s", len(texts), len(chunks), executor.url)
            pending = [executor.submit(encode_texts, chunk) for chunk in chunks]  # all start now
            try:
                for i, p in zip(range(0, len(texts), step), pending, strict=True):
                    store.add_vectors(keys[i : i + step], p.result())  # each batch cached as it comes: a killed build keeps it
            except BaseException:
                for p in pending:
                    p.cancel()
                raise
    return store.product_vectors(products)

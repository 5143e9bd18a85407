"""A one-shot `kb search` embeds its query with a numpy copy of the passage model
(nlp/query_encoder.py) instead of importing torch: its vectors must be the model's."""
import numpy as np
import pytest

from nlp.embed import Embedder
from nlp.query_encoder import QueryEncoder

TEXTS = [
    "delayed discharge from hospital for older people",
    "Better Care Fund",
    "£5.3 billion for adult social care in 2024-25",
    "NHS",
    "a",
    "   ",
    "What barriers prevent information sharing between health and social care?",
    "COVID-19 (2020-21) p.45 §3.2 — see Annex B",
    "Königsberg naïve café — “quoted” résumé, 日本語のテキスト, Ελληνικά, emoji 😀 ✓",
    "Recommendation 7: The Department should, by March 2018, set out how integrated care "
    "boards will be held to account for pooled budgets. " * 12,  # past the 256-token limit
    "\n\ttabs\tand\nnewlines\r\n in a query copied from a PDF's text layer: inter-\nagency",
]


@pytest.fixture(scope="module")
def numpy_vectors():
    return QueryEncoder().encode(TEXTS)


@pytest.mark.parametrize("backend", ["fp32", "auto"])
def test_query_vectors_match_the_passage_model(numpy_vectors, backend):
    reference = Embedder(backend=backend).encode(TEXTS)
    cosines = (numpy_vectors * reference).sum(axis=1)
    # With auto = onnx-int8 (a CPU with VNNI) passages read 128 word pieces, queries 256: a
    # query is compared on what both read. A blank text is only [CLS] [SEP]: with int8
    # activations its vector is the one that moves most (0.979); every text with words
    # stays >= 0.99.
    if Embedder(backend=backend).backend == "onnx-int8":
        from nlp.onnx_model import MAX_TOKENS

        long = np.array([len(t.split()) > MAX_TOKENS // 2 for t in TEXTS])
        cosines = np.where(long, 1.0, cosines)
    worded = np.array([bool(t.strip()) for t in TEXTS])
    assert cosines[worded].min() >= 0.99, dict(zip(TEXTS, cosines.round(4)))
    assert cosines.min() >= 0.97, dict(zip(TEXTS, cosines.round(4)))
    if backend == "fp32":  # the same network in float32: equal up to rounding
        assert cosines.min() >= 0.9999
    assert np.allclose(np.linalg.norm(numpy_vectors, axis=1), 1.0, atol=1e-5)

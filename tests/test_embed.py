"""The project's embedder: the faster bf16 and int8 backends stay close to the fp32 reference,
'auto' picks bf16 only where the CPU computes it natively, and cached vectors never mix backends."""
import numpy as np
import pytest

from kb.config import Settings
from kb.store.knowledge import KnowledgeBase
from nlp.embed import BF16_CPU_FLAGS, Embedder, cpu_flags, resolve_backend, text_key

SENTENCES = [
    "Information governance rules are a barrier to sharing data between health and social care.",
    "The Department should publish a workforce strategy for adult social care by March 2018.",
    "Delayed transfers of care rose by 25% in a year.",
    "Pooled budgets under the Better Care Fund have not yet produced the savings expected of them.",
    "A short one.",
    "integrated care",
]


@pytest.fixture(scope="module")
def embedders():
    return Embedder(backend="fp32"), Embedder(backend="int8")


def test_int8_vectors_stay_within_the_quality_bar_of_fp32(embedders):
    fp32, int8 = embedders
    ref, fast = fp32.encode(SENTENCES), int8.encode(SENTENCES)
    assert fast.shape == (len(SENTENCES), 384) and fast.dtype == np.float32
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)
    assert (np.sum(ref * fast, axis=1) >= 0.98).all()


def test_bf16_vectors_stay_within_the_quality_bar_of_fp32(embedders):
    fp32, _ = embedders
    bf16 = Embedder(backend="bf16")
    ref, fast = fp32.encode(SENTENCES), bf16.encode(SENTENCES)
    assert fast.dtype == np.float32
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)  # normalised in float32
    assert (np.sum(ref * fast, axis=1) >= 0.98).all()
    assert bf16.key(SENTENCES[0]) not in (fp32.key(SENTENCES[0]), text_key(SENTENCES[0], "x"))


def test_auto_is_bf16_only_on_a_cpu_with_native_bfloat16():
    native = bool(cpu_flags() & set(BF16_CPU_FLAGS))
    assert resolve_backend("auto") == ("bf16" if native else "fp32")
    assert resolve_backend("auto", device="cuda") == "fp32"
    assert Embedder(backend="auto").backend in ("bf16", "fp32")  # vectors always name a concrete kind
    assert Embedder(backend="auto").variant == Embedder(backend=resolve_backend("auto")).variant


def test_order_of_texts_does_not_change_a_vector(embedders):
    _, int8 = embedders
    forward = int8.encode(SENTENCES)
    backward = int8.encode(SENTENCES[::-1])[::-1]
    assert np.allclose(forward, backward, atol=1e-5)
    one = int8.encode(SENTENCES[:1])  # a query: embedded alone, on one thread
    # int8 activations are scaled per batch, so neighbours move a vector a little, never far
    assert float(one[0] @ forward[0]) > 0.99


def test_cache_keys_depend_on_the_backend(embedders):
    fp32, int8 = embedders
    text = SENTENCES[0]
    assert fp32.key(text) == text_key(text)  # caches written before backends existed stay valid
    assert int8.key(text) != fp32.key(text)


def test_switching_backend_re_embeds_instead_of_reusing_vectors(tmp_path, embedders):
    fp32, int8 = embedders
    settings = Settings(home=tmp_path)
    with_int8 = KnowledgeBase(settings, embedder=int8)
    with_int8.embed(SENTENCES[:2])
    with_int8.close()
    with_fp32 = KnowledgeBase(settings, embedder=fp32)
    vectors = with_fp32.embed(SENTENCES[:2])
    assert np.allclose(vectors, fp32.encode(SENTENCES[:2]), atol=1e-5)
    assert with_fp32.store.conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 4
    with_fp32.close()


def test_a_bad_backend_setting_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("KB_EMBED_BACKEND", "onnx-gpu")
    with pytest.raises(ValueError, match="KB_EMBED_BACKEND must be one of auto, bf16, int8, fp32"):
        Settings.from_env("somewhere")
    with pytest.raises(ValueError, match="unknown embedding backend"):
        Embedder(backend="fp16")

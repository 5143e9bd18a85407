"""The project's embedder: the faster bf16, int8 and onnx-int8 backends stay close to the fp32
reference, 'auto' picks onnx-int8 where the CPU has int8 dot products (else bf16 where it computes
bfloat16 natively), and cached vectors never mix backends."""
import numpy as np
import pytest

from kb.config import Settings
from kb.store.knowledge import KnowledgeBase
from nlp.embed import BF16_CPU_FLAGS, INT8_CPU_FLAGS, Embedder, cpu_flags, onnx_available, resolve_backend, text_key

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


def test_auto_is_onnx_int8_with_vnni_else_bf16_only_on_a_cpu_with_native_bfloat16():
    native = bool(cpu_flags() & set(BF16_CPU_FLAGS))
    vnni = bool(cpu_flags() & set(INT8_CPU_FLAGS)) and onnx_available()
    assert resolve_backend("auto") == ("onnx-int8" if vnni else "bf16" if native else "fp32")
    assert resolve_backend("auto", device="cuda") == "fp32"
    assert Embedder(backend="auto").backend in ("onnx-int8", "bf16", "fp32")  # vectors always name a concrete kind
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


# A paragraph of the kind a passage holds (past 128 tokens), in our own words.
PASSAGE = ("Partners told us that the lack of a shared care record meant that district nurses, social "
           "workers and GPs each held a different picture of the same person. Consent rules were read "
           "cautiously, so information that could have prevented an admission was not passed on, and "
           "discharge was delayed while assessments were repeated. The Better Care Fund pooled some budgets, "
           "but councils reported that short-term allocations made it hard to recruit permanent staff or "
           "to commit to services for longer than a year. ") * 2


@pytest.mark.skipif(not onnx_available(), reason="onnxruntime and onnx are not installed")
def test_onnx_int8_vectors_stay_close_to_fp32_for_sentences_and_passages():
    fast = Embedder(backend="onnx-int8")
    reference = Embedder(backend="fp32")
    reference.model.max_seq_length = 128  # what onnx-int8 reads of a text (the model's training length)
    texts = SENTENCES + [PASSAGE]
    ref, vectors = reference.encode(texts), fast.encode(texts)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(ref * vectors, axis=1)
    assert cosines.min() >= 0.98 and cosines.mean() >= 0.99, cosines.round(4)
    # the order of texts and the batch they share move nothing (activations are scaled per
    # batch, so a vector may move a little, never far)
    backward = fast.encode(texts[::-1])[::-1]
    assert (np.sum(backward * vectors, axis=1) > 0.995).all()
    assert fast.key(texts[0]) not in (reference.key(texts[0]), Embedder(backend="bf16").key(texts[0]))


@pytest.mark.skipif(not onnx_available(), reason="onnxruntime and onnx are not installed")
def test_onnx_int8_reads_the_first_128_word_pieces_of_a_long_passage():
    """A passage is embedded by its first 128 word pieces (all the model was trained on):
    what follows them does not move its vector, what opens it does."""
    fast = Embedder(backend="onnx-int8")
    tail = " Councils also said that the workforce strategy came too late to help that winter."
    a, b, c = fast.encode([PASSAGE, PASSAGE + tail * 5, tail + " " + PASSAGE])
    assert float(a @ b) > 0.999
    assert float(a @ c) < 0.99


@pytest.mark.skipif(not onnx_available(), reason="onnxruntime and onnx are not installed")
def test_onnx_model_is_made_once_from_the_packaged_weights_and_then_runs_without_torch(tmp_path):
    """The first use exports and quantises the packaged model into the cache folder; a later
    process only loads that file: it never imports torch or sentence-transformers."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    cache = tmp_path / "refrain" / "onnx"
    cache.mkdir(parents=True)
    stale = cache / "all-MiniLM-L6-v2-int8-00000000deadbeef.onnx"  # from an old install, unused for months
    stale.write_bytes(b"old")
    os.utime(stale, (1e9, 1e9))
    script = ("import sys; from nlp.embed import Embedder; "
              "v = Embedder(backend='onnx-int8').encode(['Pooled budgets were not used.']); "
              "print(v.shape, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.startswith("(1, 384)"), first.stdout
    made = list(cache.glob("*.onnx"))
    assert len(made) == 1 and made[0].stat().st_size > 10e6  # making it tidied the stale one away
    os.utime(made[0], (1e9, 1e9))
    again = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert again.stdout.strip().endswith("False False"), again.stdout
    assert made[0].stat().st_mtime > 1e9  # using it marks it as recently used

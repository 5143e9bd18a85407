"""Embedding throughput: the project's embedder against plain fp32 ``SentenceTransformer.encode``.

Both embed the same real corpus sentences, after one warm-up batch each (model loading is not
throughput). Quality is the lowest cosine between the project's vectors and the fp32 ones —
of the same words: ``onnx-int8`` reads 128 word pieces of a text (``nlp/onnx_model.py``), so
its reference is fp32 reading 128 too; ``embed_cosine_min_vs_256`` is against the naive 256.
"""
from __future__ import annotations

import time

import numpy as np


def _timed(fn, texts) -> tuple[np.ndarray, float]:
    fn(texts[:16])  # warm-up: first-call allocations and lazy kernels
    started = time.perf_counter()
    vectors = fn(texts)
    return vectors, time.perf_counter() - started


def bench_embedding(texts: list[str], backend: str = "auto", batch_size: int = 32) -> dict:
    from nlp.embed import Embedder, load_model, resolve_backend

    backend = resolve_backend(backend)

    naive_model = load_model("fp32")
    naive, naive_s = _timed(lambda t: naive_model.encode(list(t)), texts)
    naive = naive / np.linalg.norm(naive, axis=1, keepdims=True)
    timings = {}
    for name in dict.fromkeys([backend, "bf16", "int8", "fp32"]):  # the configured one, then all
        vectors, seconds = _timed(Embedder(batch_size=batch_size, backend=name).encode, texts)
        timings[name] = (vectors, seconds)
    ours, ours_s = timings[backend]
    reference = naive
    if backend == "onnx-int8":  # compare the same words: it reads 128 word pieces, naive 256
        from nlp.onnx_model import MAX_TOKENS

        naive_model.max_seq_length = MAX_TOKENS
        reference = naive_model.encode(list(texts))
        reference = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    cosines = np.sum(ours * reference, axis=1)
    extras = {f"embed_per_s_{name}": round(len(texts) / s, 1) for name, (_, s) in timings.items()}
    for name in (n for n in ("bf16", "int8", "onnx-int8") if n in timings):
        ref = reference if name == backend else naive
        extras[f"embed_cosine_min_{name}"] = round(float(np.sum(timings[name][0] * ref, axis=1).min()), 4)
    extras["embed_cosine_min_vs_256"] = round(float(np.sum(ours * naive, axis=1).min()), 4)
    return {
        "embed_per_s": round(len(texts) / ours_s, 1),
        "naive_embed_per_s": round(len(texts) / naive_s, 1),
        "embed_speedup": round(naive_s / ours_s, 2),
        "embed_cosine_min": round(float(cosines.min()), 4),
        "embed_cosine_mean": round(float(cosines.mean()), 4),
        "embed_backend": backend,
        "embed_sentences": len(texts),
        "embed_mean_words": round(float(np.mean([len(t.split()) for t in texts])), 1),
        **extras,
    }

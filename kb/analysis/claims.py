"""Is it the same point? Pair scoring of two findings or recommendations beyond cosine.

Two authors' wordings of one point sit at MiniLM cosine 0.5-0.7, which is also where two
sentences merely on the same topic sit. What separates them is what the sentences say about
the topic: the rarer words and phrases they share ("NHS number", "pooled budgets", "delayed
discharge"), whether they point the same way ("shortage of nurses" is not "surplus of
nurses", "admissions rose" is not "admissions fell"), and, for findings, whether the barrier
classifier put them under a common theme. ``PairScorer`` turns those into one score that the
grouping in ``kb.analysis.recurrence`` thresholds. Some points are worded so differently that
no overlap can tell ("a GP shortage", "not an adequate supply of people"): for the known
recurring claims, a sentence matching a claim's patterns and close to its plain meaning makes
it outright (``strong_claims``), and two such sentences pass whatever their wording.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from kb.analysis.sentence_shape import is_heading, said_of
from kb.analysis.wording import DOWN, STOP, UP, stem
from nlp.sentence_quality import junk_reason

WORD = re.compile(r"[a-z][a-z'-]{2,}")
# First two letters of every direction word (UP and DOWN): other words skip the regexes.
DIRECTION_STARTS = frozenset("in ri ro gr hi ex su to ov de fa fe re cu le lo sh ly sc no ne ca is ar wa we wi fi dr".split())
CLAIMS_FILE = Path(__file__).resolve().parents[1] / "data" / "claims.json"
CLAIM_BONUS = 0.15  # two sentences making one of the known recurring claims (kb/data/claims.json)
SHORT = 8  # words: a sentence shorter than this names a topic more than it makes a point
# Cosine to a claim's plain meaning (kb/data/claims.json "means") from which a sentence that
# matches the claim's patterns makes it outright: sentences making the claim sit at 0.5-0.8,
# passing mentions of its words at 0.2-0.45.
CLAIM_MEANING = 0.5
# A short sentence whose subject points back ("However, this was only on a small scale",
# "This appears to have been a false assurance") says its point only with the sentence before.
ANAPHOR = re.compile(r"^\W*(?:(?:however|finally|instead|again|also|indeed|yet|but|and|so|thus|therefore|"
                     r"in (?:turn|addition|fact)|as a result|for (?:example|instance)|at the same time)\W+)*"
                     r"(?:this|that|these|those|it|they|such)\b(?! (?:is|are|was|were) (?:why|how|because)\b)", re.I)
# So does one whose point rests on a thing named before ("no evidence of such a review", "that
# this issue has been resolved").
BACK_REFERENCE = re.compile(r"\bsuch an?\b|\b(?:this|these|those)\s+(?!(?:is|was|are|were|has|have|had|will|would|may|"
                            r"can|could|should|must|means?|meant|shows?|suggests?|includes?|included)\b)[a-z]{3,}", re.I)
CONTEXT_WORDS = 15  # an anaphoric sentence this long or longer names its subject well enough
LEANING_PENALTY = 0.15
# Two sentences sharing no known claim and hardly a rare word ("Covid" and "productivity" in a
# 70-word sentence) are close in topic only, however near their vectors.
MIN_OVERLAP = 0.1
WEAK_OVERLAP_PENALTY = 0.1
# A pair just above the threshold (within this band) whose shared words all sit in a subject
# or only qualify another word ("NHS staff numbers rose" / "more NHS staff are new to the job")
# shares a topic, not a point (``kb.analysis.sentence_shape.said_of``).
PREDICATE_BAND = 0.12
SUBJECT_ONLY_PENALTY = 0.1
SAME_WORDS = 0.5  # pairs sharing this much of their (rare-word) weight are not asked: mostly the same words
# A sentence of a document whose text reads two columns across may be two half-sentences.
READ_ACROSS_PENALTY = 0.1
# Side-by-side PDF columns read across leave a capitalised sentence opener in mid-sentence
# ("sustained earlier than white areas is Having equitable access"); titles keep "The", "In".
COLUMN_JOIN = re.compile(r"\b[a-z]{2,} (?:Having|And|Our|We|These|There|Is|Are|Was|Were|However|Whilst|While)\b")


@lru_cache(maxsize=None)
def known_claims(path: str = str(CLAIMS_FILE)) -> tuple[tuple[str, str, tuple[re.Pattern, ...], tuple[str, ...]], ...]:
    """(id, label, one pattern per 'all' list, literal cues) for each recurring claim in the
    data file. The cues are the alternatives' leading letters: a sentence containing none of
    them cannot make the claim, so most sentences are ruled out without a regular expression."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for claim in data["claims"]:
        parts = tuple(re.compile(r"(?<![a-z])(?:" + "|".join(alts) + ")", re.I) for alts in claim["all"])
        cues: tuple[str, ...] = ()
        for alts in claim["all"]:  # any list will do: every one must match
            found = [_literal(alt) for alt in alts]
            if all(found):
                cues = tuple(found)
                break
        out.append((claim["id"], claim["label"], parts, cues))
    return tuple(out)


@lru_cache(maxsize=None)
def claim_meanings(path: str = str(CLAIMS_FILE)) -> tuple[tuple[str, str], ...]:
    """(id, plain sentence) for each known claim that says what it means: the sentence a
    matching sentence's vector must come close to before it counts as making the claim."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return tuple((c["id"], c["means"]) for c in data["claims"] if c.get("means"))


def strong_claims(claims: list[frozenset[str]], vectors: np.ndarray, meaning_ids: list[str],
                  meaning_vectors: np.ndarray, bar: float | None = None) -> list[frozenset[str]]:
    """For each item, the known claims it makes outright: its words match the claim's patterns
    *and* its vector is within ``bar`` of the claim's meaning. The patterns alone catch
    passing mentions ("recruited 15,000 extra staff" is no staff shortage); the meaning alone
    catches topic neighbours; both together are the claim, however it is worded."""
    bar = CLAIM_MEANING if bar is None else bar
    column = {cid: k for k, cid in enumerate(meaning_ids)}
    out: list[frozenset[str]] = []
    for i, made in enumerate(claims):
        known = [c for c in made if c in column]
        if not known:
            out.append(frozenset())
            continue
        sims = meaning_vectors[[column[c] for c in known]] @ vectors[i]
        out.append(frozenset(c for c, s in zip(known, sims) if s >= bar))
    return out


def _literal(pattern: str) -> str | None:
    """The longest run of plain letters an alternative always contains (outside groups and
    optional characters), lower-cased; None if it has none of three letters or more."""
    runs, run, depth, k = [], "", 0, 0
    while k < len(pattern):
        ch = pattern[k]
        nxt = pattern[k + 1] if k + 1 < len(pattern) else ""
        if ch == "\\":
            runs.append(run)
            run, k = "", k + 2
            continue
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if depth == 0 and (ch.isalpha() or ch in " '&-") and (not nxt or nxt not in "?*{") and ch not in ")]":
            run += ch.lower()
        else:
            runs.append(run)
            run = ""
        k += 1
    runs.append(run)
    best = max((r.strip() for r in runs), key=len)
    return best if len(best) >= 3 else None


# "There is a link between poor productivity and low staff retention" claims a relation, not
# that productivity is poor: a claim's words after such a frame are what is related, not said.
RELATION = re.compile(r"\b(?:(?:a|an|the|no|some|strong|clear|direct)\s+)?(?:link|links|relationship|association|"
                      r"correlation|connection|trade-off)\s+between\b|\b(?:is|are|was|were|be|been)\s+"
                      r"(?:closely\s+|strongly\s+|often\s+)?(?:linked|associated|correlated)\s+(?:to|with)\b", re.I)
# "Recognising the challenges of an ageing population, the government introduced …", "Given
# rising demand, this policy does not go far enough": a fronted phrase sets the context; the
# point is what follows it.
CONTEXT = re.compile(r"^\W*(?:recognising|recognizing|acknowledging|given|in (?:the )?(?:context|light|face) of|"
                     r"against (?:a|the) (?:backdrop|background) of)\b[^,.;]{0,150},", re.I)
# A claim's parts must sit together: "productivity" in a cited paper's title and "measures"
# forty words on ("infection prevention and control measures") make no claim about measuring.
CLAIM_SPAN = 120  # characters from the first part's match to the last


def claims_in(text: str) -> frozenset[str]:
    """Ids of the known recurring claims a sentence makes: every part of the claim matched
    within ``CLAIM_SPAN`` characters, after any fronted context ("Given rising demand, …")
    and before any relation frame ("a link between …")."""
    context = CONTEXT.match(text)
    if context:
        text = text[context.end():]
    frame = RELATION.search(text)
    if frame:
        text = text[:frame.start()]
    low = text.lower()
    return frozenset(cid for cid, _, parts, cues in known_claims()
                     if (not cues or any(c in low for c in cues)) and all(p.search(text) for p in parts)
                     and (len(parts) == 1 or _span(text, parts) <= CLAIM_SPAN))


def _span(text: str, parts: tuple[re.Pattern, ...]) -> int:
    """The fewest characters holding a match of every part, anchored on the first part's matches."""
    found = [[m.span() for m in p.finditer(text)] for p in parts]
    best = len(text)
    for start, end in found[0]:
        lo, hi = start, end
        for spans in found[1:]:
            s, e = min(spans, key=lambda m: abs(m[0] - start))
            lo, hi = min(lo, s), max(hi, e)
        best = min(best, hi - lo)
    return best


def claim_label(claim_id: str) -> str:
    return next((label for cid, label, _, _ in known_claims() if cid == claim_id), claim_id)


# Words that explain nothing as a key phrase on their own.
VAGUE = frozenset(stem(w) for w in "because available still remain remains major main greatest biggest barrier "
                  "barriers problem problems issue issues challenge challenges".split())
# Stems too general to carry a direction ("care" near "rising" says nothing about care).
GENERAL = frozenset(stem(w) for w in "care health social services nhs patients people system local year time area "
                    "integration hospital service work level number every does current".split())

def terms(text: str) -> tuple[frozenset[str], dict[str, str]]:
    """Content-word stems and adjacent-pair stems ("nhs_number"), each with a surface form."""
    words = WORD.findall(text.lower().replace("’", "'"))
    surface: dict[str, str] = {}
    stems: list[str | None] = []
    for w in words:
        if w in STOP:
            stems.append(None)
            continue
        s = stem(w)
        stems.append(s)
        surface.setdefault(s, w)
    raw = [w for w in words]
    for k in range(len(stems) - 1):
        a, b = stems[k], stems[k + 1]
        if a and b:
            surface.setdefault(f"{a}_{b}", f"{raw[k]} {raw[k + 1]}")
    # "NHS number" keeps "nhs" out of the single stems but in the phrase.
    for k in range(len(words) - 1):
        if words[k] == "nhs" and stems[k + 1]:
            surface.setdefault(f"nhs_{stems[k + 1]}", f"NHS {raw[k + 1]}")
    return frozenset(surface), surface


def directions(text: str, window: int = 3) -> dict[str, int]:
    """Which way the sentence says each nearby thing goes: stem -> +1 (more, surplus, rising)
    or -1 (fewer, shortage, falling), for content words within ``window`` words of a
    direction word. A stem pulled both ways is left out."""
    if not (UP.search(text) or DOWN.search(text)):
        return {}
    words = text.lower().split()
    out: dict[str, int] = {}
    for k, w in enumerate(words):
        if w[:2] not in DIRECTION_STARTS:
            continue
        d = 1 if UP.fullmatch(w.strip(".,;:()“”\"'")) else (-1 if DOWN.fullmatch(w.strip(".,;:()“”\"'")) else 0)
        if not d:
            continue
        for near in words[max(0, k - window):k + window + 1]:
            near = near.strip(".,;:()“”\"'")
            if len(near) < 3 or near in STOP or UP.fullmatch(near) or DOWN.fullmatch(near):
                continue
            s = stem(near)
            if s in GENERAL:
                continue
            out[s] = 0 if out.get(s, d) != d else d
    return {s: d for s, d in out.items() if d}


# How a report describes its own method: a repeated method note is not a point made again.
METHOD = re.compile(r"\W*(?:we|this (?:report|analysis|study|paper|review))\s+(?:also\s+)?(?:used|use|calculated|"
                    r"calculate|report|analysed|analyse|defined|define|estimated|estimate|included|excluded|searched|"
                    r"identified|combined|derived|took|take|applied|measured|counted|adjusted)\b", re.I)


# Notes under a table or chart ("Components may not sum to total due to rounding", "Figures
# are in cash terms", "Source: ONS") and a forecast's caveats ("not intended to convey a degree
# of unwarranted accuracy"): the same words in every report of a series, never a point.
TABLE_NOTE = re.compile(r"\b(?:may|might|do|does|will) not (?:sum|add)(?: up)?\b|\bdue to rounding\b|"
                        r"\brounded to the nearest\b|\bunless otherwise (?:stated|specified|indicated)\b|"
                        r"\bin (?:cash|real) terms\b[^.]{0,30}$|^\W*(?:source|sources|notes?)\s*[:.-]|"
                        # and the caveats printed with every forecast or estimate
                        r"\bnot intended to (?:convey|imply|suggest)\b|\bunwarranted (?:accuracy|precision)\b|"
                        r"\bfor illustrative purposes\b|\bshould be (?:treated|interpreted) with caution\b", re.I)


@lru_cache(maxsize=200_000)  # a sentence quoted or repeated across documents is checked once
def is_clean(text: str) -> bool:
    """A sentence worth grouping: 6-90 words of running prose (not column-garbled PDF text,
    a table row, a caption or a reference list: ``nlp.sentence_quality``), not a table note,
    and not a note on the author's own method."""
    if METHOD.match(text) or "dataset" in text.lower() or TABLE_NOTE.search(text):
        return False
    # A "cut-off" line is kept: barrier findings never are one (the classifier sets them aside),
    # and a recommendation's list item ("clarify the rules on …") starts lower-case by nature.
    if junk_reason(text) not in (None, "cut-off") or COLUMN_JOIN.search(text):
        return False
    tokens = text.split()
    if not 6 <= len(tokens) <= 90:
        return False
    bare = [t.rstrip(".,;:") for t in tokens]
    wordy = sum(1 for t in bare if t.replace("'", "").replace("’", "").replace("-", "").isalpha())
    single = sum(1 for t in bare if len(t) == 1 and t.lower() not in ("a", "i"))
    # A heading or list fragment names a topic and makes no point.
    return wordy / len(tokens) >= 0.7 and single / len(tokens) < 0.15 and not is_heading(text)


@dataclass
class PairVerdict:
    score: float
    cosine: float
    overlap: float
    shared: list[str]
    opposite: bool
    claims: list[str]


class PairScorer:
    """Scores pairs of items of one batch; rare shared terms weigh more (IDF over the batch)."""

    def __init__(self, texts: list[str], themes: list[frozenset[str]] | None = None,
                 strong: list[frozenset[str]] | None = None, strong_score: float = 0.0):
        # Each distinct text is read once: a recommendation printed in the summary and in the
        # body, or quoted by a response, shares its analysis (the objects, not copies).
        seen: dict[str, tuple] = {}
        for t in texts:
            if t not in seen:
                ts, surf = terms(t)
                n_words = len(t.split())
                seen[t] = (ts, surf, directions(t), claims_in(t), n_words,
                           n_words < CONTEXT_WORDS and bool(ANAPHOR.match(t) or BACK_REFERENCE.search(t)))
        rows = [seen[t] for t in texts]
        self.texts = texts
        self.terms: list[frozenset[str]] = [r[0] for r in rows]
        self.surface: list[dict[str, str]] = [r[1] for r in rows]
        self.directions = [r[2] for r in rows]
        self.claims = [r[3] for r in rows]
        self.lengths = [r[4] for r in rows]
        self.leaning = [r[5] for r in rows]  # short and pointing back: needs its context
        # Claims each item makes outright (``strong_claims``); two items sharing one score at
        # least ``strong_score`` (the grouping sets it just above its threshold).
        self.strong = strong
        self.strong_score = strong_score
        # Set by the grouping: items of documents read across columns (``READ_ACROSS_PENALTY``)
        # and the score band where a pair must share a predicate, not only a subject.
        self.suspect: list[bool] | None = None
        self.predicate_band: tuple[float, float] | None = None
        df: Counter[str] = Counter()
        for ts in self.terms:
            df.update(ts)
        n = max(len(texts), 1)
        # A term in a quarter of the items carries almost nothing; one in a handful, a lot.
        self.idf = {t: max(0.0, math.log((n + 1) / (c + 0.5))) for t, c in df.items()}
        self.themes = themes
        weights: dict[int, float] = {}
        self.weights = [weights.setdefault(id(ts), self.weight(ts)) for ts in self.terms]

    def weight(self, ts: frozenset[str]) -> float:
        idf = self.idf
        return sum(idf.get(t, 0.0) for t in ts)

    def score(self, i: int, j: int, cosine: float) -> float:
        """The pair score alone (the grouping's hot path; ``verdict`` explains it)."""
        return self._parts(i, j, cosine)[0]

    def _parts(self, i: int, j: int, cosine: float) -> tuple[float, float, frozenset, bool, frozenset]:
        shared = self.terms[i] & self.terms[j]
        # Shared weight over the geometric mean of both: a four-word sentence cannot "share
        # everything" with a long one by sharing one common phrase.
        denom = math.sqrt(self.weights[i] * self.weights[j])
        overlap = self.weight(shared) / denom if denom > 0 else 0.0
        da, db = self.directions[i], self.directions[j]
        opposite = bool(da and db) and any(da[s] * db[s] < 0 for s in da.keys() & db.keys())
        claims = self.claims[i] & self.claims[j]
        score = cosine + 0.35 * (overlap - 0.2) + (CLAIM_BONUS if claims else 0.0)
        if opposite:  # "shortage of X" / "surplus of X": a different claim, however close the words
            score -= 1.0
        if self.lengths[i] < SHORT or self.lengths[j] < SHORT:  # "In 2020, the UK lacked resilience": too bare
            score -= 0.1
        if self.themes is not None and self.themes[i] and self.themes[j] and not (self.themes[i] & self.themes[j]):
            score -= 0.05
        if not claims and (self.leaning[i] or self.leaning[j]):  # "this was only on a small scale"
            score -= LEANING_PENALTY
        if not claims and overlap < MIN_OVERLAP:
            score -= WEAK_OVERLAP_PENALTY
        band = self.predicate_band
        if (band is not None and not claims and overlap < SAME_WORDS and band[0] <= score < band[1]
                and not self.share_predicate(i, j, shared)):
            score -= SUBJECT_ONLY_PENALTY
        if self.strong is not None and not opposite and self.strong[i] & self.strong[j]:
            # Both make one known claim outright: the same point, however differently worded.
            score = max(score, self.strong_score)
        if self.suspect is not None and (self.suspect[i] or self.suspect[j]):
            score -= READ_ACROSS_PENALTY
        return score, overlap, shared, opposite, claims

    def share_predicate(self, i: int, j: int, shared: frozenset[str]) -> bool:
        """Whether the two say something with a shared word: one outside both subjects, and a
        head rather than a modifier, in both (``said_of``); words too general to say anything
        ("care", "health") do not count."""
        words = {t for t in shared if "_" not in t and t not in GENERAL}
        if not words:
            return False
        return bool(words & said_of(self.texts[i]) & said_of(self.texts[j]))

    def verdict(self, i: int, j: int, cosine: float) -> PairVerdict:
        score, overlap, shared, opposite, claims = self._parts(i, j, cosine)
        top = sorted(shared, key=lambda t: -self.idf.get(t, 0.0))
        return PairVerdict(score, cosine, overlap, top, opposite, sorted(claims))


def key_phrases(scorer: PairScorer, members: list[int], limit: int = 5) -> list[str]:
    """The known claims most members make, then the terms most members share, rarest first
    (a phrase wins over its own words)."""
    need = max(2, math.ceil(len(members) / 2))
    claim_counts = Counter(c for i in members for c in scorer.claims[i])
    labels = [claim_label(c) for c, n in claim_counts.most_common() if n >= need]
    counts: Counter[str] = Counter()
    for i in members:
        counts.update(scorer.terms[i])
    common = [t for t, c in counts.items() if c >= need and scorer.idf.get(t, 0) > 0
              and ("_" in t or (t not in GENERAL and t not in VAGUE))]
    common.sort(key=lambda t: (-counts[t] * scorer.idf.get(t, 0.0) * (1.5 if "_" in t else 1.0), t))
    chosen: list[str] = []
    for t in common:
        if any(t in c.split("_") for c in chosen if "_" in c):
            continue
        chosen.append(t)
        if len(chosen) == limit - len(labels):
            break
    out = []
    for t in chosen:
        forms = Counter(scorer.surface[i][t] for i in members if t in scorer.surface[i])
        out.append(forms.most_common(1)[0][0])
    return (labels + [o for o in out if o.lower() not in {x.lower() for x in labels}])[:limit]


def clearest(texts: list[str], vectors: np.ndarray, clean: list[bool] | None = None) -> int:
    """Index of the clearest sentence: close to the group's centre, clean (``is_clean``, or
    ``clean`` where the caller has already checked), not too long."""
    centroid = vectors.mean(axis=0)
    sims = vectors @ centroid
    best, best_score = 0, -1e9
    for k, text in enumerate(texts):
        n = len(text.split())
        penalty = 0.0 if 8 <= n <= 40 else 0.05
        penalty += 0.0 if (clean[k] if clean is not None else is_clean(text)) else 0.2
        if float(sims[k]) - penalty > best_score:
            best, best_score = k, float(sims[k]) - penalty
    return best

"""Recurrence: which findings and recommendations keep coming back, in other words, in other
publications and years.

Candidate pairs come from the vectors (block by block, in C: no Python loop over the n² pairs;
above 20,000 items within k-means cells) and from the known recurring claims of
``kb/data/claims.json``; ``kb.analysis.claims.PairScorer`` scores
each candidate beyond cosine; average linkage with a coherence check clusters them. Renditions
of one publication (``kb.store.renditions``) and a response quoting its report never count, and
``kb.analysis.backrefs`` links documents that say they repeat an earlier one.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass, field

import numpy as np

from kb.analysis.claims import (PREDICATE_BAND, PairScorer, claim_meanings, clearest, is_clean, key_phrases,
                                strong_claims)
from kb.analysis.sentence_shape import read_across_documents
from nlp.dates import MONTHS, month_number

log = logging.getLogger(__name__)

BLOCK = 512  # rows per similarity block: 512 x 100k float32 is ~200 MB
BF16_MARGIN = 0.02  # bf16 similarities may be this far below the exact cosine
FLOOR = 0.5  # no pair below this cosine is even considered: paraphrases sit at 0.5-0.7
NEIGHBOURS = 8  # candidates kept per item (its closest), so 100k near-copies stay bounded
EXACT_UP_TO = 20_000  # items: up to here every pair is compared; above, cell by cell
PROBES = 8  # cells each item belongs to when pairs are proposed cell by cell
KMEANS_ROUNDS = 4
AVERAGE_SLACK = 0.03  # mean pair score across two clusters may sit this far below the threshold
LINK_SHARE = 0.5  # share of cross pairs that must themselves pass the pair test (no chains)
WEAKEST_LINK = 0.15  # and hardly any cross pair may score this far below the threshold:
FAR_SHARE = 0.1  # at most this share of them (none between small clusters), so one mixed
# sentence ("staff numbers rose, but vacancies hold productivity back") cannot keep apart two
# large clusters that otherwise make one claim, while a loose chain still cannot form
QUOTE_COSINE = 0.9  # a response's sentence this close to another document's is a quotation
CLAIM_FLOOR = 0.3  # two sentences making one known claim are compared from this cosine up
CLAIM_BUCKET = 400  # a claim made by more items than this adds no candidates (vectors still do)
# Two items making one known claim outright score this far above the threshold: high enough
# that the claim's sentences are merged before looser pairs, so a claim's group forms around
# the sentences that make it and others join only if they fit the whole of it.
CROSS_SAMPLE = 128  # cross pairs read when two clusters meet; larger clusters are sampled
STRONG_MARGIN = 0.02


@dataclass
class Item:
    id: str
    doc_id: str
    year: int | None
    text: str
    publication: str | None = None  # renditions of one publication share it; never recurrence
    themes: frozenset[str] = frozenset()


@dataclass
class Group:
    id: str
    label: str
    members: list[Item]
    years: list[int] = field(default_factory=list)
    key_phrases: list[str] = field(default_factory=list)
    why: str = ""


class _UnionFind:
    def __init__(self, n: int):
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _block_product(vectors: np.ndarray):
    """A function giving the (row, column) offsets where rows [start:stop] x rows [start:]
    reach a similarity floor, as fast as this machine allows: bfloat16 through torch (about twice numpy's float32 on CPUs with native
    bf16, within ~0.01 of the exact cosine, which candidates are then re-checked with), or
    numpy float32 where torch is missing."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency; stay correct without it
        return _numpy_above(vectors)
    half = torch.from_numpy(vectors).to(torch.bfloat16)

    def above(start: int, stop: int, floor: float) -> tuple[np.ndarray, np.ndarray]:
        hits = torch.nonzero((half[start:stop] @ half[start:].T) >= floor - BF16_MARGIN).numpy()
        return hits[:, 0], hits[:, 1]
    return above


def _numpy_above(vectors: np.ndarray):
    def above(start: int, stop: int, floor: float) -> tuple[np.ndarray, np.ndarray]:
        return np.nonzero(vectors[start:stop] @ vectors[start:].T >= floor)
    return above


def _exact_proposals(vectors: np.ndarray, floor: float):
    """(i, j) chunks with j > i and similarity ≥ floor (bf16 may be ~0.01 low): every pair is
    compared. Only the upper triangle is computed (each block of rows against the rows from
    its own start on), so the n² matrix product is halved."""
    above = _block_product(vectors) if len(vectors) > BLOCK else _numpy_above(vectors)
    n = len(vectors)
    for start in range(0, n, BLOCK):
        i, j = above(start, min(start + BLOCK, n), floor)
        yield i + start, j + start


def _cell_proposals(vectors: np.ndarray, floor: float, probes: int = PROBES, seed: int = 7):
    """(i, j) chunks of likely pairs without comparing every pair: the items are split into
    about √n cells around k-means centres, each item also belongs to its ``probes`` closest
    cells, and an item is compared only with the members of its own cell. A pair is found
    when either item's cell is among the other's closest, which holds for nearly every pair
    above the floor (two sentences at cosine 0.5+ sit in neighbouring regions), at about
    ``probes``/√n of the cost of comparing all pairs. Pairs making a known claim are proposed
    from the claims anyway (``_claim_pairs``)."""
    import torch

    n = len(vectors)
    k = max(2, int(np.sqrt(n)))
    rng = np.random.default_rng(seed)
    data = torch.from_numpy(vectors)
    half = data.to(torch.bfloat16)
    centres = data[torch.from_numpy(rng.choice(n, size=k, replace=False))].clone()
    for _ in range(KMEANS_ROUNDS):  # spherical k-means: a few rounds are enough to share out the work
        home = torch.argmax(half @ centres.to(torch.bfloat16).T, dim=1)
        sums = torch.zeros_like(centres).index_add_(0, home, data)
        counts = torch.bincount(home, minlength=k)
        moved = counts > 0
        centres[moved] = sums[moved] / sums[moved].norm(dim=1, keepdim=True).clamp_min(1e-9)
    near = torch.topk(half @ centres.to(torch.bfloat16).T, min(probes, k), dim=1).indices  # (n, probes)
    home = near[:, 0].numpy()
    owners = np.repeat(np.arange(n), near.shape[1])
    cells = near.reshape(-1).numpy()
    order = np.argsort(cells, kind="stable")
    members, bounds = owners[order], np.searchsorted(cells[order], np.arange(k + 1))
    by_home = np.argsort(home, kind="stable")
    home_bounds = np.searchsorted(home[by_home], np.arange(k + 1))
    for c in range(k):
        queries = by_home[home_bounds[c]:home_bounds[c + 1]]
        others = members[bounds[c]:bounds[c + 1]]
        if len(queries) == 0 or len(others) < 2:
            continue
        # float32 here: for products this small bf16 has no fast kernel on most CPUs.
        hi, hj = np.nonzero(vectors[queries] @ vectors[others].T >= floor)
        i, j = queries[hi], others[hj]
        yield np.minimum(i, j), np.maximum(i, j)


def candidate_pairs(vectors: np.ndarray, doc_ids: np.ndarray, floor: float,
                    neighbours: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j) from different documents with cosine ≥ floor, each row keeping only its
    ``neighbours`` closest partners.

    Up to ``EXACT_UP_TO`` items every pair is compared; above, pairs are proposed cell by cell
    (``_cell_proposals``): at 100k items comparing all 5·10⁹ pairs was nearly the whole cost.
    Proposals may be approximate (bf16); every one is re-scored exactly.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    codes = np.unique(doc_ids, return_inverse=True)[1].reshape(-1)  # ints compare faster than strings
    proposals = _exact_proposals(vectors, floor) if len(vectors) <= EXACT_UP_TO else _cell_proposals(vectors, floor)
    rows, cols, sims = [], [], []
    for i, j in proposals:
        keep = (j > i) & (codes[i] != codes[j])
        i, j = i[keep], j[keep]
        values = np.einsum("ij,ij->i", vectors[i], vectors[j])  # exact cosine of each proposal
        keep = values >= floor
        rows.append(i[keep])
        cols.append(j[keep])
        sims.append(values[keep])
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    i, j, values = np.concatenate(rows), np.concatenate(cols), np.concatenate(sims)
    if len(i):
        order = np.lexsort((j, -values, i))  # by row, closest first
        i, j, values = i[order], j[order], values[order]
        fresh = np.ones(len(i), dtype=bool)  # a pair proposed by two cells counts once
        fresh[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1])
        i, j, values = i[fresh], j[fresh], values[fresh]
        first = np.searchsorted(i, i, side="left")
        keep = (np.arange(len(i)) - first) < neighbours
        i, j, values = i[keep], j[keep], values[keep]
    return i, j, values


def group_items(items: list[Item], vectors: np.ndarray, threshold: float,
                forced: list[tuple[int, int]] = (), apart: set[tuple[str, str]] = frozenset(),
                floor: float = FLOOR, quoting: frozenset[str] = frozenset(),
                meanings: tuple[list[str], np.ndarray] | None = None) -> list[Group]:
    """Cluster items that make the same point in different publications.

    Candidate pairs come from the vectors (cosine ≥ ``floor``); each is scored by
    ``kb.analysis.claims.PairScorer`` (rare shared terms, direction, theme) and kept when the score
    reaches ``threshold``; pairs making one known claim (``kb/data/claims.json``) are compared
    even below the cosine floor. Kept pairs are merged strongest first, and two clusters join
    only when, across them, the mean pair score stays within ``AVERAGE_SLACK`` of the
    threshold and at least ``LINK_SHARE`` of the cross pairs pass it themselves: average
    linkage with a coherence check, so a chain of loosely similar sentences cannot snowball
    into one topic heap.

    Renditions of one publication (same ``publication``) never pair; nor do documents in
    ``apart`` (a report and the response that quotes it), nor a near-verbatim sentence in one
    of the ``quoting`` documents (responses) and another document. ``forced`` pairs (explicit
    restatements) are joined unconditionally. ``meanings`` (claim ids and the vectors of their
    plain sentences, ``claim_meanings``) lets two items that make one known claim outright pass
    the pair test however far apart their wording is.
    """
    if len(items) < 2:
        return []
    started = time.perf_counter()
    vectors = np.asarray(vectors, dtype=np.float32)
    pubs = np.array([it.publication or it.doc_id for it in items])
    scorer = PairScorer([it.text for it in items], [it.themes for it in items])
    if meanings is not None and len(meanings[0]):
        scorer.strong = strong_claims(scorer.claims, vectors, list(meanings[0]), np.asarray(meanings[1], np.float32))
        scorer.strong_score = threshold + STRONG_MARGIN
    # Sentences of a document whose text reads columns across need a stronger pair to group,
    # and a pair just above the threshold must share what it says, not only its subject.
    read_across = read_across_documents([it.doc_id for it in items], [it.text for it in items])
    suspect = [it.doc_id in read_across for it in items]
    scorer.suspect = suspect if any(suspect) else None
    scorer.predicate_band = (threshold, threshold + PREDICATE_BAND)
    analysed = time.perf_counter()
    rows, cols, sims = candidate_pairs(vectors, pubs, floor)
    proposed = time.perf_counter()
    candidates = dict(zip(zip(rows.tolist(), cols.tolist()), sims.tolist()))
    candidates.update(_claim_pairs(scorer, vectors, pubs, candidates))
    clean = [None] * len(items)

    def is_ok(k: int) -> bool:
        if clean[k] is None:
            clean[k] = is_clean(items[k].text)
        return clean[k]

    # A response that quotes a document verbatim anywhere is that document's response: none of
    # their pairs is the point made again, paraphrased quotations included.
    apart = set(apart) | {(items[i].doc_id, items[j].doc_id) for (i, j), s in candidates.items()
                          if s >= QUOTE_COSINE and (items[i].doc_id in quoting or items[j].doc_id in quoting)}

    def apart_pair(i: int, j: int) -> bool:
        """A report and the response that quotes it: the same words, not the point made again."""
        return (items[i].doc_id, items[j].doc_id) in apart or (items[j].doc_id, items[i].doc_id) in apart

    def separate(i: int, j: int) -> bool:
        return pubs[i] == pubs[j] or apart_pair(i, j)

    accepted: dict[tuple[int, int], float] = {}
    for (i, j), s in candidates.items():
        if separate(i, j):
            continue
        score = scorer.score(i, j, s)
        # The sentence checks cost more than the score: only the pairs that pass are checked.
        if score >= threshold and is_ok(i) and is_ok(j):
            accepted[(i, j)] = score
    scored = time.perf_counter()
    uf = _UnionFind(len(items))
    members: dict[int, list[int]] = {}
    scores: dict[tuple[int, int], float] = {}
    rejected: set[tuple[int, int, int]] = set()

    def pair_score(x: int, y: int) -> float:
        key = (min(x, y), max(x, y))
        if key not in scores:
            scores[key] = accepted.get(key) or scorer.score(x, y, float(vectors[x] @ vectors[y]))
        return scores[key]

    def coherent(a: list[int], b: list[int]) -> bool:
        """Average linkage on the pair score: across the two clusters (quotes aside), the mean
        score stays near the threshold, half the pairs pass it themselves and none is far off."""
        # Members of one publication count too: a report's other sentences on the topic join
        # only if they make the same point as everyone else.
        if len(a) * len(b) <= CROSS_SAMPLE:
            pairs = [(x, y) for x in a for y in b]
        else:  # two large clusters: the linkage measured on a fixed sample of their cross pairs
            rng = np.random.default_rng(len(a) * 1_000_003 + len(b) + min(a) + min(b))
            pairs = list(zip(rng.choice(a, CROSS_SAMPLE).tolist(), rng.choice(b, CROSS_SAMPLE).tolist()))
        cross = [pair_score(x, y) for x, y in pairs if not apart_pair(x, y)]
        if not cross:
            return False
        passing = sum(1 for c in cross if c >= threshold)
        far = sum(1 for c in cross if c < threshold - WEAKEST_LINK)
        # An opposite-direction pair scores about -0.3: count it as far off, not in the mean.
        mean = sum(max(c, threshold - WEAKEST_LINK) for c in cross) / len(cross) if far else sum(cross) / len(cross)
        return (mean >= threshold - AVERAGE_SLACK and passing >= LINK_SHARE * len(cross)
                and far <= int(FAR_SHARE * len(cross)))

    def merge(i: int, j: int, guard: bool) -> None:
        ri, rj = uf.find(i), uf.find(j)
        if ri == rj:
            return
        a, b = members.get(ri, [ri]), members.get(rj, [rj])
        if guard and len(a) * len(b) > 1:
            key = (min(ri, rj), max(ri, rj), len(a) + len(b))
            if key in rejected:  # the same two clusters, asked again through another pair
                return
            if not coherent(a, b):
                rejected.add(key)
                return
        uf.union(ri, rj)
        root = uf.find(ri)
        members.pop(ri, None)
        members.pop(rj, None)
        members[root] = a + b

    for i, j in forced:
        merge(i, j, guard=False)
    # Strongest pair first; between equal scores (two items making one known claim outright
    # score alike), the closer pair first, so an item making two claims joins its nearer group.
    for (i, j), _ in sorted(accepted.items(), key=lambda kv: (-kv[1], -candidates[kv[0]], kv[0])):
        merge(i, j, guard=True)
    clustered = time.perf_counter()
    pub_codes = np.unique(pubs, return_inverse=True)[1].reshape(-1)  # ints compare faster than strings
    groups = []
    for idx in members.values():
        if len({pubs[i] for i in idx}) < 2:
            continue
        idx = sorted(idx)
        member_items = [items[i] for i in idx]
        central = idx[clearest([items[i].text for i in idx], vectors[idx], [is_ok(i) and not suspect[i] for i in idx])]
        gid = hashlib.sha256("|".join(sorted(it.id for it in member_items)).encode()).hexdigest()[:12]
        years = sorted({it.year for it in member_items if it.year})
        phrases = key_phrases(scorer, idx)
        groups.append(Group(gid, make_label(items[central].text), member_items, years, phrases,
                            _why(items, idx, vectors, phrases, pub_codes)))
    groups.sort(key=lambda g: (-len(g.years), -len(g.members), g.id))
    # Where the time goes, for the 100k-item budget (README, Performance).
    log.info("grouped %d items in %.1f s: reading texts %.1f, vector candidates %.1f (%d pairs), scoring %.1f "
             "(%d kept), clustering %.1f, labels %.1f", len(items), time.perf_counter() - started,
             analysed - started, proposed - analysed, len(rows), scored - proposed, len(accepted),
             clustered - scored, time.perf_counter() - clustered)
    return groups


def _claim_pairs(scorer: PairScorer, vectors: np.ndarray, pubs: np.ndarray,
                 known: dict) -> dict[tuple[int, int], float]:
    """Candidate pairs the vectors missed: two authors making one known claim in words MiniLM
    rates far apart ("a GP shortage" / "an inadequate supply of people")."""
    buckets: dict[str, list[int]] = {}
    for k, claims in enumerate(scorer.claims):
        for c in claims:
            buckets.setdefault(c, []).append(k)
    out = {}
    for idx in buckets.values():
        if len(idx) < 2 or len(idx) > CLAIM_BUCKET:
            continue
        sims = vectors[idx] @ vectors[idx].T
        for a in range(len(idx)):
            for b in range(a + 1, len(idx)):
                i, j = idx[a], idx[b]
                if pubs[i] != pubs[j] and sims[a, b] >= CLAIM_FLOOR and (i, j) not in known:
                    out[(i, j)] = float(sims[a, b])
    return out


def _why(items: list[Item], idx: list[int], vectors: np.ndarray, phrases: list[str], pubs: np.ndarray) -> str:
    """One line a reader can check: how many publications, what they share, how close."""
    sims = vectors[idx] @ vectors[idx].T
    mask = pubs[idx][:, None] != pubs[idx][None, :]
    mean = float(sims[mask].mean()) if mask.any() else 1.0
    n_pubs = len({pubs[i] for i in idx})
    parts = [f"{n_pubs} publications say it"]
    if phrases:
        parts.append("all or most mention " + ", ".join(f"“{p}”" for p in phrases[:3]))
    themes = set.intersection(*(set(items[i].themes) for i in idx)) if all(items[i].themes for i in idx) else set()
    if themes:
        parts.append("same theme: " + ", ".join(sorted(t.replace("_", " ") for t in themes)))
    parts.append(f"mean similarity {mean:.2f}")
    return "; ".join(parts)


RESTATEMENT = re.compile(
    r"\b(?:re-?iterat\w*|repeat\w*|restat\w*|reaffirm\w*|reissu\w*|renew\w*)\b[^.]{0,80}?\brecommendations?\b"
    r"[^.]{0,60}?\b(?:our|its|the|their|this committee's|the committee's)\s+"
    r"(?:(" + MONTHS + r")\s+)?((?:19|20)\d{2})\s+report", re.I)


def restatement_ref(text: str) -> tuple[int | None, int] | None:
    """(month, year) of the earlier report a recommendation explicitly re-states, if it says so."""
    m = RESTATEMENT.search(text)
    if not m:
        return None
    month = month_number(m.group(1)) if m.group(1) else None
    return month, int(m.group(2))


def make_label(text: str, max_words: int = 16) -> str:
    text = re.sub(r"^(recommendation\s*\d*[:.]?|\(?[a-z0-9]{1,3}[).]\s)", "", text.strip(), flags=re.I).strip()
    words = text.split()
    label = " ".join(words[:max_words])
    return label + ("…" if len(words) > max_words else "")


def rebuild_groups(kbase) -> list[Group]:
    """Regroup every recommendation and every finding (barrier sentence) in the knowledge base.

    Renditions and back-references are settled first: the grouping must know which documents
    are one publication, and a document page shows what it says it repeats.
    """
    from kb.analysis.backrefs import link_backrefs
    from kb.store.renditions import link_renditions

    store = kbase.store
    publication = link_renditions(store)
    link_backrefs(store)
    # A response quotes the report it answers: the same words, but not the point made again.
    apart = {(a, b) for a, b in store.conn.execute(
        """SELECT DISTINCT s.doc_id, r.doc_id FROM responses s JOIN recommendations r
           ON r.id = s.recommendation_id WHERE s.doc_id != r.doc_id""")}
    quoting = frozenset(r[0] for r in store.conn.execute("SELECT DISTINCT doc_id FROM responses"))
    recs = store.conn.execute(
        """SELECT r.id, r.doc_id, d.year, r.text, d.source, d.published FROM recommendations r
           JOIN documents d ON d.id = r.doc_id ORDER BY r.id""").fetchall()
    # One rendition speaks for its publication: the others' copies of a sentence would only
    # repeat it (their document pages still show the first rendition's groups).
    recs = [r for r in recs if publication.get(r[1], r[1]) == r[1]]
    rec_items = [Item(r[0], r[1], r[2], r[3], publication.get(r[1])) for r in recs]
    rec_vectors = _vectors(kbase, rec_items)
    meaning_ids = [cid for cid, _ in claim_meanings()]
    meanings = (meaning_ids, kbase.embed([text for _, text in claim_meanings()]) if meaning_ids
                else np.zeros((0, 384), np.float32))
    forced = restatement_links(recs, rec_vectors)
    groups = [(g, "recommendation") for g in
              group_items(rec_items, rec_vectors, kbase.settings.recurrence_threshold, forced, apart,
                          quoting=quoting, meanings=meanings)]
    findings = store.conn.execute(
        """SELECT CAST(b.id AS TEXT), b.doc_id, d.year, b.sentence, b.themes, b.theme FROM barriers b
           JOIN documents d ON d.id = b.doc_id ORDER BY b.id""").fetchall()
    finding_items = [Item(r[0], r[1], r[2], r[3], publication.get(r[1]), _themes(r[4], r[5])) for r in findings
                     if publication.get(r[1], r[1]) == r[1]]
    groups += [(g, "finding") for g in
               group_items(finding_items, _vectors(kbase, finding_items), kbase.settings.finding_threshold,
                           apart=apart, quoting=quoting, meanings=meanings)]
    with store.transaction() as conn:
        conn.execute("UPDATE recommendations SET group_id = NULL, restates = NULL")
        conn.execute("UPDATE barriers SET group_id = NULL")
        conn.execute("DELETE FROM recurrence_groups")
        conn.executemany("UPDATE recommendations SET restates = ? WHERE id = ?",
                         [(rec_items[j].id, rec_items[i].id) for i, j in forced])
        for g, kind in groups:
            conn.execute(
                """INSERT INTO recurrence_groups(id, label, years, first_year, last_year, size, kind, key_phrases, why)
                   VALUES (?,?,?,?,?,?,?,?,?)""",
                (g.id, g.label, json.dumps(g.years), g.years[0] if g.years else None,
                 g.years[-1] if g.years else None, len(g.members), kind, json.dumps(g.key_phrases), g.why))
            table = "recommendations" if kind == "recommendation" else "barriers"
            conn.executemany(f"UPDATE {table} SET group_id = ? WHERE id = ?", [(g.id, it.id) for it in g.members])
    log.info("recurrence: %d recommendations and %d findings in %d groups (%d restatements)",
             len(rec_items), len(finding_items), len(groups), len(forced))
    return [g for g, _ in groups]


def _themes(themes_json: str | None, theme: str | None) -> frozenset[str]:
    try:
        themes = json.loads(themes_json or "[]")
    except json.JSONDecodeError:
        themes = []
    return frozenset(themes or ([theme] if theme else []))


def _vectors(kbase, items: list[Item]) -> np.ndarray:
    return kbase.embed([it.text for it in items]) if items else np.zeros((0, 384), np.float32)


def restatement_links(recs: list, vectors: np.ndarray, floor: float = 0.5) -> list[tuple[int, int]]:
    """(restating index, original index) pairs for recommendations that say they repeat an
    earlier report's: the original is the closest recommendation of the same source published
    in the month (or year) named."""
    links = []
    for i, rec in enumerate(recs):
        ref = restatement_ref(rec[3])
        if not ref:
            continue
        month, year = ref
        prefix = f"{year}-{month:02d}" if month else str(year)
        candidates = [j for j, other in enumerate(recs)
                      if other[1] != rec[1] and other[4] == rec[4] and (other[5] or "").startswith(prefix)]
        if not candidates:
            continue
        sims = vectors[candidates] @ vectors[i]
        best = int(np.argmax(sims))
        if sims[best] >= floor:
            links.append((i, candidates[best]))
    return links


def recurrences(store, min_years: int = 1, kind: str | None = None) -> list[dict]:
    """The ``kb recurrences --json`` contract, groups spanning the most years first."""
    groups = store.conn.execute(
        """SELECT * FROM recurrence_groups WHERE (? IS NULL OR kind = ?)
           ORDER BY (last_year - first_year) DESC, size DESC, id""", (kind, kind)).fetchall()
    # Undated documents still recur; only a demand for several years can exclude them.
    return [_with_occurrences(store, g) for g in groups
            if min_years <= 1 or len(json.loads(g["years"])) >= min_years]


def recurrence(store, group_id: str) -> dict | None:
    """One group by id, with its occurrences, or None."""
    g = store.conn.execute("SELECT * FROM recurrence_groups WHERE id = ?", (group_id,)).fetchone()
    return _with_occurrences(store, g) if g else None


def _with_occurrences(store, g) -> dict:
    years = json.loads(g["years"])
    if g["kind"] == "finding":
        occ = [dict(o, responses=[]) for o in store.conn.execute(
            """SELECT CAST(b.id AS TEXT) AS finding_id, b.doc_id, d.title, d.published, b.page, b.sentence AS text,
                      b.theme, d.source, d.url
               FROM barriers b JOIN documents d ON d.id = b.doc_id
               WHERE b.group_id = ? ORDER BY d.published, b.id""", (g["id"],))]
    else:
        from kb.analysis.lifecycle import responses_for

        occ = [dict(o) for o in store.conn.execute(
            """SELECT r.id AS recommendation_id, r.doc_id, d.title, d.published, r.page, r.text, r.label,
                      d.source, d.url, r.restates
               FROM recommendations r JOIN documents d ON d.id = r.doc_id
               WHERE r.group_id = ? ORDER BY d.published, r.seq""", (g["id"],))]
        answered = responses_for(store, [o["recommendation_id"] for o in occ])
        for o in occ:
            o["responses"] = answered.get(o["recommendation_id"], [])
    keys = g.keys()
    return {"id": g["id"], "kind": g["kind"], "label": g["label"], "years": years,
            "key_phrases": json.loads(g["key_phrases"]) if "key_phrases" in keys else [],
            "why": g["why"] if "why" in keys else "",
            "first_seen": years[0] if years else None, "last_seen": years[-1] if years else None,
            "count": len(occ), "occurrences": occ}

"""Recurrence: which recommendations keep coming back, in other words, in other years.

Two recommendations from different documents are linked when their embeddings are close,
or fairly close with many content words in common; linked items form groups (union-find).
Similarities are computed block by block with numpy — no Python loop over pairs — so the
cost grows with n²/block in C, not in the interpreter.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

BLOCK = 512  # rows per similarity block: 512 x 100k float32 is ~200 MB
OVERLAP_MARGIN = 0.08  # how far below the threshold a pair may be if its words overlap
OVERLAP_MIN = 0.5  # share of the shorter text's content words found in the longer
STOP = frozenset("""a an and are as at be been being by for from has have in into is it its of on or
should that the their there these this those to was we were which will with would our they must
department government nhs england local""".split())


@dataclass
class Item:
    id: str
    doc_id: str
    year: int | None
    text: str


@dataclass
class Group:
    id: str
    label: str
    members: list[Item]
    years: list[int] = field(default_factory=list)


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


def content_words(text: str) -> frozenset[str]:
    return frozenset(w[:6] for w in re.findall(r"[a-z]{3,}", text.lower()) if w not in STOP)


def candidate_pairs(vectors: np.ndarray, doc_ids: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs (i < j) from different documents with cosine ≥ floor, block by block.

    Only the upper triangle is computed (each block of rows against the rows from its own
    start on), so the n² matrix product — the whole cost at 100k items — is halved.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    codes = np.unique(doc_ids, return_inverse=True)[1].reshape(-1)  # ints compare faster than strings
    rows, cols, sims = [], [], []
    n = len(vectors)
    for start in range(0, n, BLOCK):
        block = vectors[start:start + BLOCK] @ vectors[start:].T
        i, j = np.nonzero(block >= floor)
        values = block[i, j]
        i = i + start
        j = j + start
        keep = (j > i) & (codes[i] != codes[j])
        rows.append(i[keep])
        cols.append(j[keep])
        sims.append(values[keep])
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(sims)


def group_items(items: list[Item], vectors: np.ndarray, threshold: float,
                forced: list[tuple[int, int]] = ()) -> list[Group]:
    """Cluster items that make the same point in different documents.

    Candidate pairs are merged strongest first, and two clusters join only while their
    centroids stay close: a chain of loosely similar sentences cannot snowball into one
    giant group. ``forced`` pairs (explicit restatements) are joined unconditionally.
    """
    if len(items) < 2:
        return []
    vectors = np.asarray(vectors, dtype=np.float32)
    doc_ids = np.array([it.doc_id for it in items])
    rows, cols, sims = candidate_pairs(vectors, doc_ids, threshold - OVERLAP_MARGIN)
    order = np.argsort(-sims, kind="stable")
    words: dict[int, frozenset[str]] = {}
    uf = _UnionFind(len(items))
    sums = {i: vectors[i].astype(np.float64) for i in set(rows.tolist()) | set(cols.tolist())
            | {i for pair in forced for i in pair}}

    def merge(i: int, j: int, guard: bool) -> None:
        ri, rj = uf.find(i), uf.find(j)
        if ri == rj:
            return
        if guard:
            a, b = sums[ri], sums[rj]
            if float(a @ b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12) < threshold - OVERLAP_MARGIN:
                return
        uf.union(ri, rj)
        root = uf.find(ri)
        other = rj if root == ri else ri
        sums[root] = sums[ri] + sums[rj]
        sums.pop(other, None)

    for i, j in forced:
        merge(i, j, guard=False)
    for idx in order.tolist():
        i, j, s = int(rows[idx]), int(cols[idx]), float(sims[idx])
        if s < threshold:
            wi = words.setdefault(i, content_words(items[i].text))
            wj = words.setdefault(j, content_words(items[j].text))
            smaller = min(len(wi), len(wj))
            if not smaller or len(wi & wj) / smaller < OVERLAP_MIN:
                continue
        merge(i, j, guard=True)
    clusters: dict[int, list[int]] = {}
    for i in range(len(items)):
        clusters.setdefault(uf.find(i), []).append(i)
    groups = []
    for members in clusters.values():
        if len({items[i].doc_id for i in members}) < 2:
            continue
        centroid = vectors[members].mean(axis=0)
        central = members[int(np.argmax(vectors[members] @ centroid))]
        member_items = [items[i] for i in members]
        gid = hashlib.sha256("|".join(sorted(it.id for it in member_items)).encode()).hexdigest()[:12]
        years = sorted({it.year for it in member_items if it.year})
        groups.append(Group(gid, make_label(items[central].text), member_items, years))
    groups.sort(key=lambda g: (-len(g.years), -len(g.members), g.id))
    return groups


MONTH_NAMES = ("january february march april may june july august september october november december").split()
RESTATEMENT = re.compile(
    r"\b(?:re-?iterat\w*|repeat\w*|restat\w*|reaffirm\w*|reissu\w*|renew\w*)\b[^.]{0,80}?\brecommendations?\b"
    r"[^.]{0,60}?\b(?:our|its|the|their|this committee's|the committee's)\s+"
    r"(?:(" + "|".join(MONTH_NAMES) + r")\s+)?((?:19|20)\d{2})\s+report", re.I)


def restatement_ref(text: str) -> tuple[int | None, int] | None:
    """(month, year) of the earlier report a recommendation explicitly re-states, if it says so."""
    m = RESTATEMENT.search(text)
    if not m:
        return None
    month = MONTH_NAMES.index(m.group(1).lower()) + 1 if m.group(1) else None
    return month, int(m.group(2))


def make_label(text: str, max_words: int = 16) -> str:
    text = re.sub(r"^(recommendation\s*\d*[:.]?|\(?[a-z0-9]{1,3}[).]\s)", "", text.strip(), flags=re.I).strip()
    words = text.split()
    label = " ".join(words[:max_words])
    return label + ("…" if len(words) > max_words else "")


def rebuild_groups(kbase) -> list[Group]:
    """Regroup every recommendation and every finding (barrier sentence) in the knowledge base."""
    store = kbase.store
    recs = store.conn.execute(
        """SELECT r.id, r.doc_id, d.year, r.text, d.source, d.published FROM recommendations r
           JOIN documents d ON d.id = r.doc_id ORDER BY r.id""").fetchall()
    rec_items = [Item(r[0], r[1], r[2], r[3]) for r in recs]
    rec_vectors = _vectors(kbase, rec_items)
    forced = restatement_links(recs, rec_vectors)
    groups = [(g, "recommendation") for g in
              group_items(rec_items, rec_vectors, kbase.settings.recurrence_threshold, forced)]
    findings = store.conn.execute(
        """SELECT CAST(b.id AS TEXT), b.doc_id, d.year, b.sentence FROM barriers b
           JOIN documents d ON d.id = b.doc_id ORDER BY b.id""").fetchall()
    finding_items = [Item(*r) for r in findings]
    groups += [(g, "finding") for g in
               group_items(finding_items, _vectors(kbase, finding_items), kbase.settings.finding_threshold)]
    with store.transaction() as conn:
        conn.execute("UPDATE recommendations SET group_id = NULL, restates = NULL")
        conn.execute("UPDATE barriers SET group_id = NULL")
        conn.execute("DELETE FROM recurrence_groups")
        conn.executemany("UPDATE recommendations SET restates = ? WHERE id = ?",
                         [(rec_items[j].id, rec_items[i].id) for i, j in forced])
        for g, kind in groups:
            conn.execute(
                """INSERT INTO recurrence_groups(id, label, years, first_year, last_year, size, kind)
                   VALUES (?,?,?,?,?,?,?)""",
                (g.id, g.label, json.dumps(g.years), g.years[0] if g.years else None,
                 g.years[-1] if g.years else None, len(g.members), kind))
            table = "recommendations" if kind == "recommendation" else "barriers"
            conn.executemany(f"UPDATE {table} SET group_id = ? WHERE id = ?", [(g.id, it.id) for it in g.members])
    log.info("recurrence: %d recommendations and %d findings in %d groups (%d restatements)",
             len(rec_items), len(finding_items), len(groups), len(forced))
    return [g for g, _ in groups]


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
    return {"id": g["id"], "kind": g["kind"], "label": g["label"], "years": years,
            "first_seen": years[0] if years else None, "last_seen": years[-1] if years else None,
            "count": len(occ), "occurrences": occ}

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

BLOCK = 2048
OVERLAP_MARGIN = 0.08  # how far below the threshold a pair may be if its words overlap
OVERLAP_MIN = 0.35
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
    """All pairs (i < j) from different documents with cosine ≥ floor, block by block."""
    rows, cols, sims = [], [], []
    n = len(vectors)
    for start in range(0, n, BLOCK):
        block = vectors[start:start + BLOCK] @ vectors.T
        i, j = np.nonzero(block >= floor)
        i = i + start
        keep = (j > i) & (doc_ids[i] != doc_ids[j])
        rows.append(i[keep])
        cols.append(j[keep])
        sims.append(block[i[keep] - start, j[keep]])
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(sims)


def group_items(items: list[Item], vectors: np.ndarray, threshold: float) -> list[Group]:
    if len(items) < 2:
        return []
    vectors = np.asarray(vectors, dtype=np.float32)
    doc_ids = np.array([it.doc_id for it in items])
    rows, cols, sims = candidate_pairs(vectors, doc_ids, threshold - OVERLAP_MARGIN)
    words = {}
    uf = _UnionFind(len(items))
    for i, j, s in zip(rows.tolist(), cols.tolist(), sims.tolist()):
        if s < threshold:
            wi = words.setdefault(i, content_words(items[i].text))
            wj = words.setdefault(j, content_words(items[j].text))
            union = len(wi | wj)
            if not union or len(wi & wj) / union < OVERLAP_MIN:
                continue
        uf.union(i, j)
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


def make_label(text: str, max_words: int = 16) -> str:
    text = re.sub(r"^(recommendation\s*\d*[:.]?|\(?[a-z0-9]{1,3}[).]\s)", "", text.strip(), flags=re.I).strip()
    words = text.split()
    label = " ".join(words[:max_words])
    return label + ("…" if len(words) > max_words else "")


def rebuild_groups(kbase) -> list[Group]:
    """Regroup every recommendation in the knowledge base and store the groups."""
    store = kbase.store
    rows = store.conn.execute(
        """SELECT r.id, r.doc_id, d.year, r.text FROM recommendations r
           JOIN documents d ON d.id = r.doc_id ORDER BY r.id""").fetchall()
    items = [Item(*r) for r in rows]
    vectors = kbase.embed([it.text for it in items]) if items else np.zeros((0, 384), np.float32)
    groups = group_items(items, vectors, kbase.settings.recurrence_threshold)
    with store.transaction() as conn:
        conn.execute("UPDATE recommendations SET group_id = NULL")
        conn.execute("DELETE FROM recurrence_groups")
        for g in groups:
            conn.execute(
                "INSERT INTO recurrence_groups(id, label, years, first_year, last_year, size) VALUES (?,?,?,?,?,?)",
                (g.id, g.label, json.dumps(g.years), g.years[0] if g.years else None,
                 g.years[-1] if g.years else None, len(g.members)))
            conn.executemany("UPDATE recommendations SET group_id = ? WHERE id = ?",
                             [(g.id, it.id) for it in g.members])
    log.info("recurrence: %d recommendations in %d groups", len(items), len(groups))
    return groups


def recurrences(store, min_years: int = 1) -> list[dict]:
    """The ``kb recurrences --json`` contract, longest-running groups first."""
    groups = store.conn.execute(
        "SELECT * FROM recurrence_groups ORDER BY (last_year - first_year) DESC, size DESC, id").fetchall()
    return [_with_occurrences(store, g) for g in groups if len(json.loads(g["years"])) >= min_years]


def recurrence(store, group_id: str) -> dict | None:
    """One group by id, with its occurrences, or None."""
    g = store.conn.execute("SELECT * FROM recurrence_groups WHERE id = ?", (group_id,)).fetchone()
    return _with_occurrences(store, g) if g else None


def _with_occurrences(store, g) -> dict:
    years = json.loads(g["years"])
    occ = store.conn.execute(
        """SELECT r.id AS recommendation_id, r.doc_id, d.title, d.published, r.page, r.text, r.label,
                  d.source, d.url
           FROM recommendations r JOIN documents d ON d.id = r.doc_id
           WHERE r.group_id = ? ORDER BY d.published, r.seq""", (g["id"],)).fetchall()
    return {"id": g["id"], "label": g["label"], "years": years,
            "first_seen": years[0] if years else None, "last_seen": years[-1] if years else None,
            "count": len(occ), "occurrences": [dict(o) for o in occ]}

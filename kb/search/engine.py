"""Hybrid search: BM25 over FTS5 and dense similarity from Chroma, fused by reciprocal rank.

Filters (theme, source, years, document type) run in SQLite, never as a Chroma ``where``:
a filtered Chroma query was measured ~40x slower than an unfiltered one. Dense candidates are
over-fetched unfiltered and filtered here; when too few survive a narrow filter, the filtered
passages are scored exactly from the cached vectors instead.

A long-lived reader (the web server) keeps an in-memory snapshot of the index
(``kb/store/snapshot.py``); while it is current, BM25 and filters run on it — FTS5's scores, in a
few ms instead of 50–115 — and a filtered dense search is exact over the filtered rows.
"""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np

from kb.store.knowledge import KnowledgeBase
from kb.search.query import Query, parse_query, quote
from kb.search.relevance import relevant_ids
from kb.store.renditions import one_per_publication
from kb.store.vectors import PASSAGES
from nlp.page_labels import cite_page

log = logging.getLogger(__name__)

RRF_K = 60
DENSE_CANDIDATES = 200
KEYWORD_CANDIDATES = 200
EXACT_FALLBACK_LIMIT = 50_000
COMMON_WORDS_MIN_PASSAGES = 2_000  # below this, BM25 over every match is already cheap
MODES = ("hybrid", "keyword", "dense")
# Snapshot size from which a hybrid search ranks by meaning on a second thread while BM25 runs
# on this one: both are numpy passes over the whole index that release the GIL (at a million
# passages ~15 ms of sign bits and rescoring against ~10 ms of postings), so on two cores a
# query waits for the longer of them, not their sum. Below it they take a few ms together and
# a thread hand-off is not worth its noise.
CONCURRENT_FROM = 200_000


@dataclass
class Filters:
    theme: str | None = None
    source: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    doc_type: str | None = None
    doc_id: str | None = None  # one document's passages (a result's 'more from this document')

    @property
    def active(self) -> bool:
        return any(v is not None for v in asdict(self).values())

    def sql(self) -> tuple[str, list]:
        clauses, args = [], []
        # With a theme, the small (themes) index drives the query; the '+' keeps SQLite from
        # driving it by the documents' (source, year) index instead, which probed every
        # passage of every matching document against the theme list (10x slower at 100k).
        doc = "+d" if self.theme else "d"
        if self.theme:
            # Through the themes index: a LIKE on the passages table reads every text.
            clauses.append("p.rowid IN (SELECT rowid FROM passages WHERE themes LIKE ?)")
            args.append(f"%|{self.theme}|%")
        if self.source:
            clauses.append(f"{doc}.source = ?")
            args.append(self.source)
        if self.year_from is not None:
            clauses.append(f"{doc}.year >= ?")
            args.append(self.year_from)
        if self.year_to is not None:
            clauses.append(f"{doc}.year <= ?")
            args.append(self.year_to)
        if self.doc_type:
            clauses.append(f"{doc}.doc_type = ?")
            args.append(self.doc_type)
        if self.doc_id:
            clauses.append("p.doc_id = ?")
            args.append(self.doc_id)
        return (" AND ".join(clauses) or "1"), args


@dataclass
class Hit:
    doc_id: str
    title: str | None
    source: str
    url: str
    published: str | None
    page: int | None
    text: str
    score: float
    passage_id: str = ""
    doc_type: str | None = None
    publisher: str | None = None
    themes: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    renditions: list[dict] = field(default_factory=list)  # other formats of the same publication
    page_label: str | None = None  # the number printed on the page ('49' on PDF page 67)
    cite_page: str | None = None  # 'p. 49 (PDF p. 67)' (nlp.page_labels.cite_page)

    def to_json(self) -> dict:
        return asdict(self)


def search(kbase: KnowledgeBase, query: str, k: int = 10, filters: Filters | None = None,
           mode: str = "hybrid", matching_only: bool = True) -> list[Hit]:
    """The best ``k`` passages for ``query``. ``matching_only``: only passages that match
    (``kb.search.relevance``: every word, or close in meaning), so a query nothing matches
    finds nothing instead of the nearest passages, however far."""
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r}; expected one of {', '.join(MODES)}")
    filters = filters or Filters()
    parsed = parse_query(query)
    if parsed.empty:
        return []
    # The snapshot's masks know no documents: one document's passages are few, SQL ranks them exactly.
    snap = kbase.snapshot() if not filters.doc_id else None
    dense_limit = max(DENSE_CANDIDATES, k * 4)
    vector, nearest = None, None
    if mode in ("hybrid", "dense"):  # embedded once: the ranking and the match check share it
        vector = kbase.embed_query(parsed.semantic_text())
        if mode == "hybrid" and snap is not None and len(snap) >= CONCURRENT_FROM:
            nearest = _in_background(snapshot_nearest, snap, filters, vector, dense_limit)
    rankings: list[list[str]] = []
    held: dict[str, np.ndarray] = {}  # the ranking's rows of each word and phrase, for the match check
    if mode in ("hybrid", "keyword"):
        limit = max(KEYWORD_CANDIDATES, k)
        ranking = None
        if snap is not None:
            ranking = snapshot_keyword_ranking(snap, parsed, filters, limit, kbase.store.conn, held)
        if ranking is None:
            ranking = keyword_ranking(kbase.store.conn, parsed, filters, limit)
        rankings.append(ranking)
    if vector is not None:
        rankings.append(dense_ranking(kbase, parsed, filters, dense_limit, snap, vector,
                                      nearest.result() if nearest is not None else None))
    fused = rrf(rankings)
    if matching_only and mode != "keyword":
        keep = relevant_ids(kbase, parsed, list(fused), mode, vector=vector, held=(snap, held) if held else None)
        fused = {pid: score for pid, score in fused.items() if pid in keep}
    # Renditions of one publication (kb.store.renditions) show as one: fetch a margin, keep the
    # passages of each publication's best-ranked rendition, name the others on its hits.
    top = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k * 2]
    return one_per_publication(kbase.store.conn, _hits(kbase.store.conn, top, parsed))[:k]


def search_capped(kbase: KnowledgeBase, query: str, k: int = 10, filters: Filters | None = None,
                  mode: str = "hybrid", per_document: int = 3) -> list[Hit]:
    """The best ``k`` passages with at most ``per_document`` from any one document, so one
    long report cannot fill the list (``kb search --per-doc``, the web page's ``per_doc``)."""
    return _deepening(kbase, query, k, filters, mode, lambda hits: cap_per_document(hits, per_document)[:k])


def _deepening(kbase: KnowledgeBase, query: str, k: int, filters: Filters | None, mode: str, shape) -> list:
    """``shape(hits)`` of ever deeper searches until it gives ``k`` items or the matches run
    out: long reports contribute many passages, which a per-document cap or grouping folds."""
    for depth in (max(k * 10, 50), 400, 1600):
        hits = search(kbase, query, k=depth, filters=filters, mode=mode)
        shaped = shape(hits)
        if len(shaped) >= k or len(hits) < depth:
            break
    return shaped


def cap_per_document(items: list, per_doc: int | None) -> list:
    """At most ``per_doc`` items (hits, or (passage id, document id) entries) of any one
    document, in order: one long report can't fill a page."""
    if not per_doc:
        return items
    seen: Counter = Counter()
    out = []
    for item in items:
        doc = item.doc_id if isinstance(item, Hit) else item[1]
        seen[doc] += 1
        if seen[doc] <= per_doc:
            out.append(item)
    return out


def search_documents(kbase: KnowledgeBase, query: str, k: int = 10, filters: Filters | None = None,
                     mode: str = "hybrid", per_document: int = 3) -> list[dict]:
    """Hits grouped by document: documents ranked by their best passage, each with up to
    ``per_document`` passages in rank order — what a researcher reads as 'which reports say this'."""
    return _deepening(kbase, query, k, filters, mode, lambda hits: group_by_document(hits, k, per_document))


def group_by_document(hits: list[Hit], k: int = 10, per_document: int = 3) -> list[dict]:
    groups: dict[str, dict] = {}
    for hit in hits:
        group = groups.get(hit.doc_id)
        if group is None:
            if len(groups) == k:
                continue
            group = groups[hit.doc_id] = {
                "doc_id": hit.doc_id, "title": hit.title, "source": hit.source, "url": hit.url,
                "published": hit.published, "doc_type": hit.doc_type, "publisher": hit.publisher,
                "score": hit.score, "hits": 0, "passages": [], "renditions": hit.renditions}
        group["hits"] += 1
        if len(group["passages"]) < per_document:
            group["passages"].append({"passage_id": hit.passage_id, "page": hit.page, "text": hit.text,
                                      "score": hit.score, "themes": hit.themes, "page_label": hit.page_label,
                                      "cite_page": hit.cite_page})
    return list(groups.values())


def rrf(rankings: list[list[str]], k: int = RRF_K) -> dict[str, float]:
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, pid in enumerate(ranking):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (k + rank + 1)
    return scores


def keyword_ranking(conn: sqlite3.Connection, query: Query, filters: Filters, limit: int) -> list[str]:
    """Passage ids by BM25. Scoring every row that matches an OR of words is the whole cost at
    100k passages, so words in half the passages or more are left out: FTS5 clamps their IDF
    to 1e-6, so they never changed the order, they only added rows to score."""
    try:
        expr = query.fts(drop=common_words(conn, query))
        if not expr:
            return []
        if not filters.active:  # FTS5 ranks and cuts by itself; ids only for the top rows
            rowids = [r[0] for r in conn.execute(
                "SELECT rowid FROM passages_fts WHERE passages_fts MATCH ? ORDER BY rank LIMIT ?", (expr, limit))]
            return _ids_in_order(conn, rowids)
        where, args = filters.sql()
        sql = f"""SELECT p.id FROM passages_fts f
                  JOIN passages p ON p.rowid = f.rowid
                  JOIN documents d ON d.id = p.doc_id
                  WHERE passages_fts MATCH ? AND {where}
                  ORDER BY bm25(passages_fts) LIMIT ?"""
        return [r[0] for r in conn.execute(sql, [expr, *args, limit])]
    except sqlite3.OperationalError as exc:  # an FTS syntax corner case must not break search
        log.warning("keyword search failed for %r: %s", query, exc)
        return []


def snapshot_keyword_ranking(snap, query: Query, filters: Filters, limit: int,
                             conn: sqlite3.Connection | None = None,
                             held: dict[str, np.ndarray] | None = None) -> list[str] | None:
    """``keyword_ranking`` on the in-memory snapshot: the same match, FTS5's bm25 and the
    same filters. FTS5's score is a sum over the expression's phrases, each term depending on
    that phrase alone, so one-token words come from the snapshot's postings and anything FTS5
    treats as a multi-token phrase ("exact phrases", 'Covid-19') from a one-phrase FTS5
    query, summed in the expression's order. None (SQL answers) if FTS5 fails on a phrase.
    ``held`` receives the sorted positions of the rows holding each multi-token word or phrase
    (lower-cased): the match check of the same search reads them instead of asking FTS5 again
    (at a million passages 'Covid-19' cost ~30 ms a time)."""
    from kb.store.snapshot import tokens_of

    half = (snap.n_rows + 1) // 2
    terms: dict[str, tuple] = {}   # one-token words: (positions, tf, idf), scored when needed
    parts: dict[str, tuple] = {}   # anything else: (positions, contribution) from FTS5
    try:
        words = query.fts_words()
        for w in dict.fromkeys(query.phrases + words + query.excluded):
            tokens = tokens_of(w)
            if len(tokens) == 1:
                terms[w] = snap.term(tokens[0])
            else:
                parts[w] = _phrase(snap, w, conn)
    except sqlite3.OperationalError as exc:
        log.warning("keyword search fell back to SQL for %r: %s", query, exc)
        return None
    if any(part is None for part in parts.values()):
        return None
    if held is not None:
        held.update((w.lower(), np.sort(part[0])) for w, part in parts.items())

    def positions(w: str) -> np.ndarray:
        return terms[w][0] if w in terms else parts[w][0]

    small = not len(snap) or snap.rowids[-1] < COMMON_WORDS_MIN_PASSAGES  # common_words' own rule
    drop = set() if small else {w.lower() for w in words if len(positions(w)) >= half}
    chosen = [w for w in words if w.lower() not in drop] or words
    if chosen and not query.phrases and all(w in terms for w in chosen + query.excluded):
        ranked = snap.top_bm25([terms[w] for w in chosen], [terms[w][0] for w in query.excluded], filters, limit)
        if ranked is not None:
            return ranked
    scores = np.zeros(len(snap), dtype=np.float64)
    matched = np.full(len(snap), not chosen, dtype=bool)  # phrases alone: rows having them all
    for word in chosen:
        matched[positions(word)] = True
    for phrase in query.phrases:  # every phrase is required
        has = np.zeros(len(snap), dtype=bool)
        has[positions(phrase)] = True
        matched &= has
    for word in query.excluded:
        matched[positions(word)] = False
    for term in query.phrases + chosen:  # FTS5's order: the phrases, then the ranked words
        if term in parts:
            pos, contribution = parts[term]
        else:
            pos, tf, idf = terms[term]
            contribution = snap.contribution(pos, tf, idf)
        scores[pos] += contribution
    if filters.active:
        matched &= snap.mask(filters)
    return snap.top(scores, matched, limit)


def _phrase(snap, text: str, conn: sqlite3.Connection | None):
    """(positions, bm25 contribution) of one FTS5 phrase over the snapshot."""
    from kb.store.snapshot import tokens_of

    tokens = tokens_of(text)
    if len(tokens) == 1:
        return snap.phrase(tokens[0])
    if conn is None:
        return None
    rows = conn.execute("SELECT rowid, bm25(passages_fts) FROM passages_fts WHERE passages_fts MATCH ?",
                        (quote(text),)).fetchall()
    rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    contribution = -np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    pos, found = snap.positions(rowids)
    return pos[found], contribution[found]


def common_words(conn: sqlite3.Connection, query: Query) -> frozenset[str]:
    """Query words found in at least half the passages (counting stops at half: cheap)."""
    total = conn.execute("SELECT MAX(rowid) FROM passages").fetchone()[0] or 0
    if total < COMMON_WORDS_MIN_PASSAGES:
        return frozenset()
    total = conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
    half = (total + 1) // 2
    common = set()
    for word in {t.lower() for t in query.terms}:
        hits = conn.execute("SELECT COUNT(*) FROM (SELECT 1 FROM passages_fts WHERE passages_fts MATCH ? LIMIT ?)",
                            ('"' + word.replace('"', "") + '"', half)).fetchone()[0]
        if hits >= half:
            common.add(word)
    return frozenset(common)


def _ids_in_order(conn: sqlite3.Connection, rowids: list[int]) -> list[str]:
    if not rowids:
        return []
    marks = ",".join("?" * len(rowids))
    ids = dict(conn.execute(f"SELECT rowid, id FROM passages WHERE rowid IN ({marks})", rowids).fetchall())
    return [ids[r] for r in rowids if r in ids]


def dense_ranking(kbase: KnowledgeBase, query: Query, filters: Filters, limit: int, snap=None,
                  vector: np.ndarray | None = None, nearest: list[str] | None = None) -> list[str]:
    """Passage ids by meaning. ``nearest``: ``snapshot_nearest``'s ranking, already made on
    another thread (``search``); the checks that need SQLite run here, on the caller's."""
    if vector is None:
        vector = kbase.embed_query(query.semantic_text())
    if filters.doc_id:  # one document: every passage scored from the cached vectors
        return _exact_filtered(kbase, vector, filters, query, limit)
    if snap is not None:  # exact, over the rows the filters leave: 5 ms at 100k, HNSW 12
        ranked = nearest if nearest is not None else snapshot_nearest(snap, filters, vector, limit)
        if query.excluded or query.phrases:
            allowed = _allowed(kbase.store.conn, ranked, Filters(), query)
            ranked = [pid for pid in ranked if pid in allowed]
        return ranked
    candidates = kbase.vectors.query(PASSAGES, vector, limit)
    conn = kbase.store.conn
    allowed = _allowed(conn, [pid for pid, _ in candidates], filters, query)
    ranked = [pid for pid, _ in candidates if pid in allowed]
    if filters.active and len(ranked) < min(limit, 10):
        ranked = _exact_filtered(kbase, vector, filters, query, limit) or ranked
    return ranked


def snapshot_nearest(snap, filters: Filters, vector: np.ndarray, limit: int) -> list[str]:
    """The snapshot's dense ranking under ``filters``: numpy only (no SQLite), so it may run on
    any thread."""
    keep = snap.mask(filters) if filters.active else np.ones(len(snap), dtype=bool)
    return snap.nearest(vector, keep, limit)


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _in_background(fn, *args) -> Future:
    """``fn(*args)`` on the process's search thread pool (one thread per core, made on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="search")
    return _pool.submit(fn, *args)


def _allowed(conn: sqlite3.Connection, ids: list[str], filters: Filters, query: Query) -> set[str]:
    if not ids:
        return set()
    where, args = filters.sql()
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"""SELECT p.id, p.text FROM passages p JOIN documents d ON d.id = p.doc_id
            WHERE p.id IN ({marks}) AND {where}""", [*ids, *args])
    return {pid for pid, text in rows if not _excluded(text, query)}


def _excluded(text: str, query: Query) -> bool:
    """Dense hits obey the query syntax too: no excluded word, every "exact phrase" present."""
    if not query.excluded and not query.phrases:
        return False
    low = " ".join(re.findall(r"[\w£'’\-]+", text.lower()))
    if any(re.search(r"\b" + re.escape(word.lower()) + r"\b", low) for word in query.excluded):
        return True
    return any(not re.search(r"\b" + re.escape(phrase.lower()) + r"\b", low) for phrase in query.phrases)


def _exact_filtered(kbase: KnowledgeBase, vector: np.ndarray, filters: Filters, query: Query,
                    limit: int) -> list[str]:
    where, args = filters.sql()
    rows = kbase.store.conn.execute(
        f"""SELECT p.id, p.text FROM passages p JOIN documents d ON d.id = p.doc_id
            WHERE {where} LIMIT ?""", [*args, EXACT_FALLBACK_LIMIT + 1]).fetchall()
    if not rows or len(rows) > EXACT_FALLBACK_LIMIT:
        return []
    rows = [(pid, text) for pid, text in rows if not _excluded(text, query)]
    keys = [kbase.key(t) for _, t in rows]
    cache = kbase.store.cached_vectors(keys)
    scored = [(float(cache[key] @ vector), pid) for (pid, _), key in zip(rows, keys) if key in cache]
    scored.sort(reverse=True)
    return [pid for _, pid in scored[:limit]]


def _hits(conn: sqlite3.Connection, top: list[tuple[str, float]], query: Query) -> list[Hit]:
    if not top:
        return []
    marks = ",".join("?" * len(top))
    rows = {r["id"]: r for r in conn.execute(
        f"""SELECT p.id, p.doc_id, p.page, p.text, p.themes, d.title, d.source, d.url, d.published,
                   d.doc_type, d.publisher, pg.label AS page_label
            FROM passages p JOIN documents d ON d.id = p.doc_id
            LEFT JOIN pages pg ON pg.doc_id = p.doc_id AND pg.page = p.page WHERE p.id IN ({marks})""",
        [pid for pid, _ in top])}
    hits = []
    for pid, score in top:
        r = rows.get(pid)
        if r is None:  # a vector whose row is gone (kb doctor repairs it); never show it
            continue
        hits.append(Hit(doc_id=r["doc_id"], title=r["title"], source=r["source"], url=r["url"],
                        published=r["published"], page=r["page"], text=r["text"], score=round(score, 6),
                        passage_id=pid, doc_type=r["doc_type"], publisher=r["publisher"],
                        themes=[t for t in r["themes"].split("|") if t], terms=query.highlight_terms(),
                        page_label=r["page_label"], cite_page=cite_page(r["page"], r["page_label"]) or None))
    return hits


def highlight(text: str, terms: list[str]) -> list[tuple[str, bool]]:
    """Split text into (segment, is_match) pairs so callers can escape and mark safely."""
    words = sorted({t for t in terms if t.strip()}, key=len, reverse=True)
    if not words:
        return [(text, False)]
    pattern = re.compile(r"\b(" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words) + r")\w*",
                         re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        if m.start() > last:
            out.append((text[last:m.start()], False))
        out.append((m.group(0), True))
        last = m.end()
    if last < len(text):
        out.append((text[last:], False))
    return out

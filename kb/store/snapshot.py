"""An in-memory copy of the passage index, for readers that live long (the web server).

At 100k passages FTS5 scores every row that holds any query word (50–115 ms a query), and a
filter is a SQL scan (10–220 ms). A snapshot holds FTS5's own postings — its tokens, term
frequencies and document lengths, read through ``fts5vocab`` — so BM25 becomes a few numpy
additions with FTS5's formula and FTS5's ranking; and it holds each passage's filter fields
and vector, so a filter is a boolean mask and an exact filtered dense search one product.

A snapshot is an accelerator, never the record: it is built from SQLite and Chroma, stamped
with a fingerprint of both, and a search uses it only while the fingerprint still holds.
When the knowledge base changes the keeper rebuilds it in the background, and searches take
the SQL path meanwhile.
"""
from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

log = logging.getLogger(__name__)

# FTS5's bm25() constants and the passages_fts tokenizer (kb/store/db.py, migration 1).
K1, B = 1.2, 0.75
TOKENIZER = "porter unicode61"
MIN_PASSAGES = 2_000  # below this, FTS5 and SQL filters are already fast: nothing to keep
NO_YEAR = -1


@dataclass
class Snapshot:
    fingerprint: tuple
    ids: list[str]                 # passage id at each position (positions follow rowid order)
    rowids: np.ndarray             # int64 passage rowid at each position, ascending
    pos_of: dict[str, int]
    n_rows: int                    # FTS5's row count and average length, as bm25() uses them
    avgdl: float
    doclen: np.ndarray             # tokens per passage, float64
    terms: dict[str, tuple[int, int]]  # token -> slice of the posting arrays
    post_pos: np.ndarray           # int32 positions, grouped by token
    post_tf: np.ndarray            # float64 term frequencies, same order
    source: np.ndarray             # codes into ``sources``
    sources: dict[str, int]
    doc_type: np.ndarray
    doc_types: dict[str, int]
    year: np.ndarray               # int32, NO_YEAR where unknown
    themes: np.ndarray             # int64 bit set per passage
    theme_bits: dict[str, int]
    vectors: np.ndarray            # float32 (n, dim); zero rows where Chroma has none
    has_vector: np.ndarray
    built_s: float = 0.0

    def __len__(self) -> int:
        return len(self.ids)

    # --- filters --------------------------------------------------------------------------

    def mask(self, filters) -> np.ndarray:
        """Passages passing ``filters`` (``kb.search.engine.Filters``), exactly as its SQL would."""
        keep = np.ones(len(self), dtype=bool)
        if filters.theme:
            bit = self.theme_bits.get(filters.theme)
            keep &= False if bit is None else (self.themes & (1 << bit)) != 0
        if filters.source:
            keep &= self.source == self.sources.get(filters.source, -2)
        if filters.doc_type:
            keep &= self.doc_type == self.doc_types.get(filters.doc_type, -2)
        if filters.year_from is not None:  # an unknown year fails a year bound, as NULL does in SQL
            keep &= (self.year != NO_YEAR) & (self.year >= filters.year_from)
        if filters.year_to is not None:
            keep &= (self.year != NO_YEAR) & (self.year <= filters.year_to)
        return keep

    # --- keyword --------------------------------------------------------------------------

    def phrase(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        """(positions, bm25 contribution) of a one-token phrase: FTS5's formula and constants
        (``fts5Bm25Function``), so sums of these equal FTS5's scores (negated: higher is better)."""
        start, end = self.terms.get(token, (0, 0))
        pos, tf = self.post_pos[start:end], self.post_tf[start:end]
        hits = end - start
        if not hits:
            return pos, tf
        idf = math.log((self.n_rows - hits + 0.5) / (hits + 0.5))
        if idf <= 0.0:
            idf = 1e-6
        norm = K1 * (1 - B + B * self.doclen[pos] / self.avgdl)
        return pos, idf * ((tf * (K1 + 1.0)) / (tf + norm))  # FTS5 multiplies last

    def positions(self, rowids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions, found): where passage ``rowids`` sit, and which the snapshot holds."""
        return locate(self.rowids, rowids)

    def top(self, scores: np.ndarray, keep: np.ndarray, limit: int) -> list[str]:
        """Ids of the ``limit`` best kept passages, best first."""
        rows = np.flatnonzero(keep)
        return self._best(rows, scores[rows], limit)

    # --- dense ----------------------------------------------------------------------------

    def nearest(self, vector: np.ndarray, keep: np.ndarray, limit: int) -> list[str]:
        """Exact cosine ranking of the kept passages that have a vector: one product, over
        all rows (100k: 5 ms) or only the few a narrow filter leaves."""
        rows = np.flatnonzero(keep & self.has_vector)
        vector = np.asarray(vector, dtype=np.float32)
        if len(rows) * 8 > len(self):  # gathering many rows costs more than the whole product
            return self._best(rows, (self.vectors @ vector)[rows], limit)
        return self._best(rows, self.vectors[rows] @ vector, limit)

    def _best(self, rows: np.ndarray, scores: np.ndarray, limit: int) -> list[str]:
        """Best first; equal scores in passage (rowid) order, so a ranking is reproducible."""
        if limit <= 0 or not len(rows):
            return []
        if len(rows) > limit:
            cut = -np.partition(-scores, limit - 1)[limit - 1]
            keep = scores >= cut  # everything tied with the last place, then cut after sorting
            rows, scores = rows[keep], scores[keep]
        order = np.lexsort((rows, -scores))[:limit]
        return [self.ids[i] for i in rows[order]]


# --- query tokens ---------------------------------------------------------------------------

_tokenizer_lock = threading.Lock()
_tokenizer: sqlite3.Connection | None = None


@lru_cache(maxsize=4096)
def tokens_of(word: str) -> tuple[str, ...]:
    """The tokens FTS5 indexes for ``word`` (stemmed, case-folded), by FTS5 itself."""
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            _tokenizer = sqlite3.connect(":memory:", check_same_thread=False)
            _tokenizer.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{TOKENIZER}')")
            _tokenizer.execute("CREATE VIRTUAL TABLE tv USING fts5vocab(t, instance)")
        _tokenizer.execute("INSERT INTO t(rowid, x) VALUES (1, ?)", (word,))
        found = tuple(r[0] for r in _tokenizer.execute("SELECT term FROM tv ORDER BY offset"))
        _tokenizer.execute("DELETE FROM t")
        return found


# --- building --------------------------------------------------------------------------------

def fingerprint(conn: sqlite3.Connection, vectors=None) -> tuple:
    """What a snapshot depends on, cheap to read: FTS5's structure cookie (it changes with
    every write to the index), passage and document counts and extremes, Chroma's count."""
    cookie = conn.execute("SELECT block FROM passages_fts_data WHERE id = 10").fetchone()
    passages = tuple(conn.execute("SELECT COUNT(*), MAX(rowid) FROM passages").fetchone())
    documents = tuple(conn.execute(
        "SELECT COUNT(*), MAX(rowid), TOTAL(year), COUNT(DISTINCT source), COUNT(DISTINCT doc_type) "
        "FROM documents").fetchone())
    themes = conn.execute("SELECT TOTAL(LENGTH(themes)) FROM passages").fetchone()[0]
    chroma = vectors.count("passages") if vectors is not None else None
    return (bytes(cookie[0][:4]) if cookie else b"", passages, documents, themes, chroma)


def build(conn: sqlite3.Connection, vectors=None, dim: int = 384) -> Snapshot:
    """Read a snapshot in one read transaction, so every part describes the same state."""
    started = time.perf_counter()
    conn.execute("BEGIN")
    try:
        stamp = fingerprint(conn, vectors)
        rows = conn.execute(
            """SELECT p.rowid, p.id, p.themes, d.source, d.doc_type, d.year
               FROM passages p JOIN documents d ON d.id = p.doc_id ORDER BY p.rowid""").fetchall()
        rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        terms, post_pos, post_tf, doclen = _postings(conn, rowids)
    finally:
        conn.execute("COMMIT")
    ids = [r[1] for r in rows]
    pos_of = {pid: i for i, pid in enumerate(ids)}
    sources, source = _codes([r[3] for r in rows])
    doc_types, doc_type = _codes([r[4] for r in rows])
    year = np.fromiter((r[5] if isinstance(r[5], int) else NO_YEAR for r in rows), dtype=np.int32, count=len(rows))
    theme_bits: dict[str, int] = {}
    themes = np.zeros(len(rows), dtype=np.int64)
    for i, r in enumerate(rows):
        for theme in filter(None, (r[2] or "").split("|")):
            bit = theme_bits.setdefault(theme, len(theme_bits))
            if bit < 63:  # the taxonomy has nine themes; an unknown flood is never filterable
                themes[i] |= 1 << bit
    theme_bits = {t: b for t, b in theme_bits.items() if b < 63}
    matrix, has_vector = _vectors(vectors, pos_of, dim)
    n_rows = len(rows)
    total_tokens = float(doclen.sum())
    snap = Snapshot(
        fingerprint=stamp, ids=ids, rowids=rowids, pos_of=pos_of, n_rows=n_rows,
        avgdl=total_tokens / n_rows if n_rows else 0.0, doclen=doclen, terms=terms,
        post_pos=post_pos, post_tf=post_tf, source=source, sources=sources, doc_type=doc_type,
        doc_types=doc_types, year=year, themes=themes, theme_bits=theme_bits, vectors=matrix,
        has_vector=has_vector)
    snap.built_s = round(time.perf_counter() - started, 2)
    log.info("search snapshot of %d passages, %d tokens, %d vectors built in %.1f s",
             n_rows, len(terms), int(has_vector.sum()), snap.built_s)
    return snap


def _postings(conn: sqlite3.Connection, rowids: np.ndarray):
    """Postings from fts5vocab: 'row' gives each token's instance count in index order and
    'instance' the documents of every instance in that same order, so one stream of rowids
    splits into tokens without a GROUP BY (which sorted 14M rows: 12 s against 5 s)."""
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.snapshot_vocab_row USING fts5vocab(main, passages_fts, row)")
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.snapshot_vocab_inst "
                 "USING fts5vocab(main, passages_fts, instance)")
    vocab = conn.execute("SELECT term, cnt FROM temp.snapshot_vocab_row").fetchall()
    counts = np.fromiter((c for _, c in vocab), dtype=np.int64, count=len(vocab))
    docs = np.empty(int(counts.sum()), dtype=np.int64)
    filled = 0
    cursor = conn.execute("SELECT doc FROM temp.snapshot_vocab_inst")
    while True:
        chunk = cursor.fetchmany(200_000)
        if not chunk:
            break
        if filled + len(chunk) > len(docs):
            raise RuntimeError("fts5vocab instance stream is longer than its row counts")
        docs[filled:filled + len(chunk)] = np.fromiter((r[0] for r in chunk), dtype=np.int64, count=len(chunk))
        filled += len(chunk)
    if filled != len(docs):
        raise RuntimeError("fts5vocab instance stream is shorter than its row counts")
    term_of = np.repeat(np.arange(len(vocab), dtype=np.int64), counts)
    pos, found = locate(rowids, docs)
    if not found.all():
        raise RuntimeError("the full-text index names passages the passages table lacks")
    # Instances are ordered (token, rowid): equal neighbours are one posting with tf > 1.
    key = term_of * max(len(rowids), 1) + pos
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=np.int64)
    tf = np.diff(np.r_[starts, len(key)]).astype(np.float64)
    post_pos = pos[starts].astype(np.int32)
    post_term = term_of[starts]
    bounds = np.searchsorted(post_term, np.arange(len(vocab) + 1))
    terms = {term: (int(bounds[i]), int(bounds[i + 1])) for i, (term, _) in enumerate(vocab)}
    doclen = np.bincount(pos, minlength=len(rowids)).astype(np.float64)
    return terms, post_pos, tf, doclen


def locate(sorted_rowids: np.ndarray, rowids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``rowids`` in ``sorted_rowids`` and a mask of those really there."""
    if not len(sorted_rowids):
        return np.zeros(len(rowids), dtype=np.int64), np.zeros(len(rowids), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_rowids, rowids), len(sorted_rowids) - 1)
    return pos, sorted_rowids[pos] == rowids


def _codes(values: list) -> tuple[dict[str, int], np.ndarray]:
    codes: dict[str, int] = {}
    out = np.fromiter((-1 if v is None else codes.setdefault(v, len(codes)) for v in values),
                      dtype=np.int32, count=len(values))
    return codes, out


def _vectors(vectors, pos_of: dict[str, int], dim: int) -> tuple[np.ndarray, np.ndarray]:
    matrix = np.zeros((len(pos_of), dim), dtype=np.float32)
    has = np.zeros(len(pos_of), dtype=bool)
    if vectors is None:
        return matrix, has
    col = vectors.collection("passages")
    offset = 0
    while True:
        got = col.get(limit=5000, offset=offset, include=["embeddings"])
        if not got["ids"]:
            break
        offset += len(got["ids"])
        for pid, emb in zip(got["ids"], got["embeddings"]):
            i = pos_of.get(pid)
            if i is not None and len(emb) == dim:
                matrix[i] = emb
                has[i] = True
    return matrix, has


# --- keeping one fresh -----------------------------------------------------------------------

class SnapshotKeeper:
    """Holds a knowledge base's snapshot and rebuilds it, in a thread, when the data changes.

    ``current()`` is what a search asks for: the snapshot if its fingerprint still matches
    the database, else None (and a rebuild starts). Checking costs one ``PRAGMA
    data_version`` per search; the fingerprint is re-read only when that moved.
    """

    def __init__(self, kbase, min_passages: int = MIN_PASSAGES):
        self.kbase = kbase
        self.min_passages = min_passages
        self.snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._building: threading.Thread | None = None
        self._seen_version = None
        self.failures = 0              # consecutive failed builds (reset by a good one)
        self.last_error: str | None = None
        self.built_at: float | None = None

    def _connect(self) -> sqlite3.Connection:
        path = self.kbase.settings.sqlite_path
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)

    def build_now(self, min_passages: int | None = None) -> Snapshot | None:
        """Build synchronously (benchmarks, tests, evaluation); None when the KB has fewer
        passages than ``min_passages`` (default: the keeper's) and so needs none."""
        floor = self.min_passages if min_passages is None else min_passages
        conn = self._connect()
        try:
            if conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0] < floor:
                self.snapshot = None
                return None
            snap = build(conn, self.kbase.vectors)
        finally:
            conn.close()
        with self._lock:
            self.snapshot = snap
            self._seen_version = None
            self.built_at = time.time()
        return snap

    def start(self) -> None:
        """Build in the background unless a build is already running."""
        with self._lock:
            if self._building is not None and self._building.is_alive():
                return
            self._building = threading.Thread(target=self._run, name="refrain-snapshot", daemon=True)
            self._building.start()

    def wait(self, timeout: float | None = None) -> None:
        thread = self._building
        if thread is not None:
            thread.join(timeout)

    def _run(self, retry_s: float = 2.0, max_wait_s: float = 60.0) -> None:
        """Wait for any writer to finish (a snapshot of a half-written state is never built),
        look at what it wrote, build; on failure log it, show it in ``status()`` and retry
        with a growing pause. Searches take the SQL path all the while."""
        from kb.store.lock import writer_active

        while True:
            while writer_active(self.kbase.settings.home):
                time.sleep(1.0)
            try:
                self.kbase.follow_writers()
                self.build_now()
                self.failures, self.last_error = 0, None
                return
            except Exception as exc:
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                pause = min(retry_s * 2 ** (self.failures - 1), max_wait_s)
                log.warning("search snapshot build failed (%d in a row: %s); searches use SQLite "
                            "directly; retrying in %.0f s", self.failures, self.last_error, pause)
                time.sleep(pause)

    def status(self) -> dict:
        """For /about: is the snapshot in use, being built, or failing (and why)."""
        building = self._building is not None and self._building.is_alive()
        snap = self.snapshot
        state = "failing" if self.failures else "building" if building else "ready" if snap else "not kept"
        return {"state": state, "passages": len(snap) if snap else 0, "built_s": snap.built_s if snap else None,
                "built_at": self.built_at, "failures": self.failures, "last_error": self.last_error}

    def current(self) -> Snapshot | None:
        snap = self.snapshot
        if snap is None:
            return None
        conn = self.kbase.store.conn
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._seen_version:
            return snap
        try:
            fresh = fingerprint(conn, self.kbase.vectors) == snap.fingerprint
        except sqlite3.Error:
            fresh = False
        if fresh:
            self._seen_version = version
            return snap
        with self._lock:
            if self.snapshot is snap:
                self.snapshot = None
        self.start()
        return None

"""The search snapshot: a compact, memory-mapped copy of the passage index, kept on disk.

At 100k passages FTS5 scores every row that holds any query word (50–115 ms a query), and a
filter is a SQL scan (10–220 ms). A snapshot holds FTS5's own postings — its tokens, term
frequencies and document lengths, read through ``fts5vocab`` — so BM25 becomes a few numpy
additions with FTS5's formula and FTS5's ranking; and it holds each passage's filter fields
and vector, so a filter is a boolean mask and an exact filtered dense search one product.

It lives in ``KB_HOME/search-snapshot`` (``kb/store/snapshot_files.py``) as numpy arrays that
are memory-mapped, not read: a one-shot ``kb search`` opens it in milliseconds and never
imports Chroma. Vectors are int8 with a float32 scale per passage (a quarter of float32:
≈ 0.4 GB at a million passages); postings are int32 positions and uint16 term frequencies.

A snapshot is a list of immutable *segments* — the first from a full build, one more per
ingest (its new passages) — and a *dead* mask of passages deleted or replaced since. BM25's
row count, average length and document frequencies count live passages only, so scores stay
FTS5's exactly. It is an accelerator, never the record: it is stamped with a fingerprint of
SQLite and used only while the fingerprint still holds.
"""
from __future__ import annotations

import logging
import math
import sqlite3
import threading
from dataclasses import dataclass, fields
from functools import cached_property, lru_cache

import numpy as np

from nlp.query_encoder import one_blas_thread

log = logging.getLogger(__name__)

# FTS5's bm25() constants and the passages_fts tokenizer (kb/store/db.py, migration 1).
K1, B = 1.2, 0.75
TOKENIZER = "porter unicode61"
MIN_PASSAGES = 2_000  # below this, FTS5 and SQL filters are already fast: no in-memory keeper
NO_YEAR = -1
DIM = 384
CHUNK_ROWS = 4_096      # int8 rows converted per BLAS call: stays in cache
BINARY_FROM = 250_000   # passages above which dense search shortlists by sign bits (when > 2 × SHORTLIST kept)
SHORTLIST = 20_000      # rows ranked exactly after the shortlist (recall@10 0.99 at 300k)
BITS_CHUNK = 65_536
INSTANCE_CHUNK = 2_000_000  # fts5vocab instances handled at once: bounds a build's memory


@dataclass
class Segment:
    """One immutable block of passages, in rowid order: every array has one entry per passage,
    except the token dictionary (``term_*``) and the postings (``post_*``)."""
    rowids: np.ndarray      # int64
    ids: np.ndarray         # bytes (S)
    doclen: np.ndarray      # uint32: tokens per passage, as FTS5 counts them
    theme_len: np.ndarray   # uint16: LENGTH(themes), so a changed tagging is noticed
    source: np.ndarray      # int32 codes (the snapshot's ``sources``), -1 when NULL
    doc_type: np.ndarray    # int32 codes
    year: np.ndarray        # int32, NO_YEAR where unknown
    themes: np.ndarray      # int64 bit set
    vectors: np.ndarray     # int8 (n, DIM)
    scale: np.ndarray       # float32: vector ≈ int8 row × scale; 0 where no vector is known
    center: np.ndarray      # float32 (DIM,): the segment's mean vector
    bits: np.ndarray        # uint64 (DIM / 64, n): signs of (vector - center), one column per passage
    term_text: np.ndarray   # uint8: the tokens' UTF-8, concatenated in byte order
    term_off: np.ndarray    # int64 (tokens + 1): where each token's text starts
    term_post: np.ndarray   # int64 (tokens + 1): where each token's postings start
    post_pos: np.ndarray    # int32 position in this segment, grouped by token
    post_tf: np.ndarray     # uint16 term frequency

    def __len__(self) -> int:
        return len(self.rowids)

    def postings(self, token: bytes) -> tuple[np.ndarray, np.ndarray]:
        """(positions, term frequencies) of one token: a binary search of the dictionary."""
        off, text = self.term_off, self.term_text
        lo, hi = 0, len(off) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if text[off[mid]:off[mid + 1]].tobytes() < token:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(off) - 1 and text[off[lo]:off[lo + 1]].tobytes() == token:
            a, b = int(self.term_post[lo]), int(self.term_post[lo + 1])
            return self.post_pos[a:b], self.post_tf[a:b]
        return self.post_pos[:0], self.post_tf[:0]


SEGMENT_FIELDS = tuple(f.name for f in fields(Segment))


class _Ids:
    """Passage ids by position, decoded on demand (a million Python strings cost 0.3 s)."""

    def __init__(self, snap: "Snapshot"):
        self.snap = snap

    def __len__(self) -> int:
        return len(self.snap)

    def __getitem__(self, i) -> str:
        seg, local = self.snap.locate_position(int(i))
        return seg.ids[local].decode()

    def __iter__(self):
        for seg, start in zip(self.snap.segments, self.snap.starts):
            alive = self.snap.alive[start:start + len(seg)]
            for pid, ok in zip(seg.ids, alive):
                if ok:
                    yield pid.decode()


class Snapshot:
    """Segments seen as one array of passages (positions: segment after segment)."""

    def __init__(self, segments: list[Segment], dead: np.ndarray | None, sources: dict[str, int],
                 doc_types: dict[str, int], theme_bits: dict[str, int], fingerprint=None, built_s: float = 0.0):
        self.segments = segments
        self.sources, self.doc_types, self.theme_bits = sources, doc_types, theme_bits
        self.fingerprint = fingerprint
        self.built_s = built_s
        self.starts = np.cumsum([0] + [len(s) for s in segments])[:-1].astype(np.int64)
        total = int(sum(len(s) for s in segments))
        self.alive = np.ones(total, dtype=bool) if dead is None else ~np.asarray(dead, dtype=bool)
        self.rowids = self._cat("rowids", np.int64)
        self.source = self._cat("source", np.int32)
        self.doc_type = self._cat("doc_type", np.int32)
        self.year = self._cat("year", np.int32)
        self.themes = self._cat("themes", np.int64)
        self.doclen = self._cat("doclen", np.uint32).astype(np.float64)
        self.has_vector = (self._cat("scale", np.float32) > 0) & self.alive
        live_len = self.doclen[self.alive]
        self.n_rows = int(self.alive.sum())       # FTS5's row count and average length, as bm25() uses them
        self.avgdl = float(live_len.sum()) / self.n_rows if self.n_rows else 0.0
        live_rowids = self.rowids[self.alive]
        self.max_rowid = int(live_rowids.max()) if len(live_rowids) else 0
        self.ids = _Ids(self)

    def _cat(self, name: str, dtype) -> np.ndarray:
        parts = [getattr(s, name) for s in self.segments]
        if len(parts) == 1:
            return np.asarray(parts[0])
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    def __len__(self) -> int:
        return len(self.alive)

    @property
    def dead_count(self) -> int:
        return len(self) - self.n_rows

    def locate_position(self, i: int) -> tuple[Segment, int]:
        k = int(np.searchsorted(self.starts, i, side="right")) - 1
        return self.segments[k], i - int(self.starts[k])

    @cached_property
    def pos_of(self) -> dict[str, int]:
        """Position of each live passage id (built on first use: the keeper's tests, not searches)."""
        out: dict[str, int] = {}
        for seg, start in zip(self.segments, self.starts):
            for j, pid in enumerate(seg.ids):
                if self.alive[start + j]:
                    out[pid.decode()] = int(start + j)
        return out

    # --- filters --------------------------------------------------------------------------

    def mask(self, filters) -> np.ndarray:
        """Live passages passing ``filters`` (``kb.search.engine.Filters``), exactly as its SQL would.
        The last mask is kept: a hybrid search asks for it twice (keyword and dense rankings)."""
        key = (filters.theme, filters.source, filters.doc_type, filters.year_from, filters.year_to)
        last = self.__dict__.get("_last_mask")
        if last is not None and last[0] == key:
            return last[1].copy()
        keep = self.alive & self.passing(filters) if filters.active else self.alive.copy()
        self._last_mask = (key, keep.copy())
        return keep

    def passing(self, filters, rows: np.ndarray | None = None) -> np.ndarray:
        """Which passages (at ``rows``, else all) pass ``filters``, dead ones included."""
        def col(values: np.ndarray) -> np.ndarray:
            return values if rows is None else values[rows]

        keep = np.ones(len(self) if rows is None else len(rows), dtype=bool)
        if filters.theme:
            bit = self.theme_bits.get(filters.theme)
            keep &= False if bit is None else (col(self.themes) & (1 << bit)) != 0
        if filters.source:
            keep &= col(self.source) == self.sources.get(filters.source, -2)
        if filters.doc_type:
            keep &= col(self.doc_type) == self.doc_types.get(filters.doc_type, -2)
        if filters.year_from is not None or filters.year_to is not None:
            year = col(self.year)  # an unknown year fails a year bound, as NULL does in SQL
            if filters.year_from is not None:
                keep &= (year != NO_YEAR) & (year >= filters.year_from)
            if filters.year_to is not None:
                keep &= (year != NO_YEAR) & (year <= filters.year_to)
        return keep

    # --- keyword --------------------------------------------------------------------------

    def term(self, token: str) -> tuple[np.ndarray, np.ndarray, float]:
        """(positions, term frequencies, idf) of one token over live passages: positions in
        ascending order, read straight from the mapped postings (no copy for one segment);
        idf by FTS5's formula over live passages (``fts5Bm25Function``)."""
        key = token.encode("utf-8")
        pos_parts, tf_parts = [], []
        for seg, start in zip(self.segments, self.starts):
            pos, tf = seg.postings(key)
            if len(pos):
                pos_parts.append(pos + start if start else pos)
                tf_parts.append(tf)
        if not pos_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint16), 0.0
        pos = np.concatenate(pos_parts) if len(pos_parts) > 1 else pos_parts[0]
        tf = np.concatenate(tf_parts) if len(tf_parts) > 1 else tf_parts[0]
        if self.dead_count:
            live = self.alive[pos]
            pos, tf = pos[live], tf[live]
        hits = len(pos)
        if not hits:
            return pos, tf, 0.0
        idf = math.log((self.n_rows - hits + 0.5) / (hits + 0.5))
        return pos, tf, (1e-6 if idf <= 0.0 else idf)

    def contribution(self, pos: np.ndarray, tf: np.ndarray, idf: float) -> np.ndarray:
        """A token's bm25 contribution at its postings ``pos`` (FTS5 multiplies by idf last)."""
        tf = tf.astype(np.float64)
        return idf * ((tf * (K1 + 1.0)) / (tf + self._norm[pos]))

    @cached_property
    def _once(self) -> np.ndarray:
        """float32 (k1 + 1) / (1 + norm) per passage: a token's contribution where it occurs
        once (most postings), divided by its idf."""
        return ((K1 + 1.0) / (1.0 + self._norm)).astype(np.float32)

    def _rough_contribution(self, pos: np.ndarray, tf: np.ndarray, idf: float) -> np.ndarray:
        """``contribution`` in float32, to bound scores (``top_bm25``), not to rank by."""
        out = self._once[pos]
        more = np.flatnonzero(tf > 1)
        if len(more):
            t = tf[more].astype(np.float32)
            out[more] = t * np.float32(K1 + 1.0) / (t + self._norm[pos[more]].astype(np.float32))
        out *= np.float32(idf)
        return out

    def phrase(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        """(positions, bm25 contribution) of a one-token phrase over live passages: FTS5's
        formula and constants (``fts5Bm25Function``), so sums of these equal FTS5's scores
        (negated: higher is better)."""
        pos, tf, idf = self.term(token)
        if not len(pos):
            return pos, tf.astype(np.float64)
        return pos, self.contribution(pos, tf, idf)

    def top_bm25(self, terms: list[tuple[np.ndarray, np.ndarray, float]], excluded: list[np.ndarray],
                 filters, limit: int) -> list[str] | None:
        """The ``limit`` best passages holding any of ``terms`` (``term()``'s triples, in the
        query's order), none of the ``excluded`` postings, passing ``filters``: the same ranking
        as scoring every match, without scoring most matches in full (max-score pruning).

        A token adds less than idf × (k1 + 1) to any passage's score. Tokens are scored rarest
        first into partial scores; once ``limit`` rows are ahead of the sum of the bounds of
        the tokens not yet scored, no row unseen can enter the ranking, nor a row whose
        partial score plus that sum stays below the limit-th best. The tokens left are then
        looked up for those candidates only, the cut rising and the candidates thinning after
        each; the few left are scored in the query's order of additions (the same floats as
        scoring everything, so ties fall as in FTS5). At a million passages a common word's
        postings are then read for a few thousand rows instead of scored in full.
        None only without terms."""
        if limit <= 0 or not terms:
            return None
        order = sorted(range(len(terms)), key=lambda i: len(terms[i][0]))
        rest = sum(idf * (K1 + 1.0) for _, _, idf in terms)
        # Partial scores are float32 (half the memory traffic); every comparison allows for
        # their rounding (float32's relative error over n additions stays under n × 1.2e-7).
        slack = 1e-6 * (len(terms) + 10)
        low, high = 1 - slack, 1 + slack

        def eligible(rows: np.ndarray) -> np.ndarray:
            if self.dead_count:
                rows = rows[self.alive[rows]]
            if filters.active:
                rows = rows[self.passing(filters, rows)]
            for gone in excluded:
                rows = np.delete(rows, _lookup(gone, rows, len(self))[1])
            return rows

        partial = np.zeros(len(self), dtype=np.float32)
        found = None
        for step, i in enumerate(order):
            pos, tf, idf = terms[i]
            rest = max(rest - idf * (K1 + 1.0), 0.0) if step < len(order) - 1 else 0.0
            if not len(pos):
                continue
            partial[pos] += self._rough_contribution(pos, tf, idf)
            # Rows already past anything a row unseen so far could reach (every contribution
            # is > 0, so a row unseen has partial 0): with ``limit`` of them, the cut is found.
            ahead = eligible(np.flatnonzero(partial > (rest * high + 1e-9) / low))
            if len(ahead) >= limit:
                cut = np.partition(partial[ahead], len(ahead) - limit)[len(ahead) - limit] * low
                found = eligible(np.flatnonzero(partial * high + rest * high + 1e-9 >= cut))
                break
        if found is None:  # fewer than ``limit`` matches: every one of them
            found = eligible(np.flatnonzero(partial > 0))
        # The tokens left, rarest first, on the candidates only; after each the cut rises and
        # the bound falls, so candidates that can no longer reach the cut drop out.
        score = partial[found]
        del partial
        for i in order[step + 1:]:
            pos, tf, idf = terms[i]
            rest = max(rest - idf * (K1 + 1.0), 0.0)
            at, has = _lookup(pos, found, len(self))
            score[has] += self._rough_contribution(found[has], tf[at], idf)
            ahead = np.flatnonzero(score > (rest * high + 1e-9) / low)
            if len(found) > limit and len(ahead) >= limit:
                cut = np.partition(score[ahead], len(ahead) - limit)[len(ahead) - limit] * low
                keep = np.flatnonzero(score * high + rest * high + 1e-9 >= cut)
                found, score = found[keep], score[keep]
        scores = np.zeros(len(found), dtype=np.float64)
        for pos, tf, idf in terms:  # the query's order: the same sums as the full scoring
            at, has = _lookup(pos, found, len(self))
            scores[has] += self.contribution(found[has], tf[at], idf)
        return self._best(found, scores, limit)

    def holding(self, token: str, rows: np.ndarray) -> np.ndarray:
        """Which of the positions ``rows`` hold ``token``: a binary search of its postings
        (sorted by position in each segment) per row — a few hundred rows against a common
        word's half-million postings, where ``np.isin`` sorted both (~5 ms a word at 1M)."""
        key = token.encode("utf-8")
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows), dtype=bool)
        for seg, start in zip(self.segments, self.starts):
            pos, _ = seg.postings(key)
            if not len(pos):
                continue
            local = rows - start
            inside = np.flatnonzero((local >= 0) & (local < len(seg)))
            if not len(inside):
                continue
            want = local[inside]
            at = np.minimum(np.searchsorted(pos, want), len(pos) - 1)
            out[inside] |= pos[at] == want
        return out & self.alive[rows] if self.dead_count else out

    @cached_property
    def _norm(self) -> np.ndarray:
        """BM25's length normalisation of every passage, computed once (the same float64
        operations per element as computing it per posting, so scores are unchanged)."""
        return K1 * (1 - B + B * self.doclen / self.avgdl) if self.avgdl else np.full(len(self), K1)

    @cached_property
    def _by_rowid(self) -> tuple[np.ndarray, np.ndarray]:
        live = np.flatnonzero(self.alive)
        rowids = self.rowids[live]
        order = np.argsort(rowids, kind="stable")
        return rowids[order], live[order]

    def positions(self, rowids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions, found): where live passages ``rowids`` sit, and which the snapshot holds."""
        sorted_rowids, where = self._by_rowid
        pos, found = locate(sorted_rowids, rowids)
        return (where[pos] if len(where) else pos), found

    def top(self, scores: np.ndarray, keep: np.ndarray, limit: int) -> list[str]:
        """Ids of the ``limit`` best kept live passages, best first."""
        rows = np.flatnonzero(keep & self.alive)
        return self._best(rows, scores[rows], limit)

    # --- dense ----------------------------------------------------------------------------

    def nearest(self, vector: np.ndarray, keep: np.ndarray, limit: int) -> list[str]:
        """Cosine ranking of the kept passages that have a vector, from the int8 vectors: one
        pass over all rows (100k: ~10 ms) or only the few rows a narrow filter leaves; above
        ``BINARY_FROM`` passages a sign-bit shortlist of ``SHORTLIST`` rows ranked exactly."""
        keep = keep & self.has_vector
        n_kept = int(np.count_nonzero(keep))
        if limit <= 0 or not n_kept:
            return []
        vector = np.asarray(vector, dtype=np.float32)
        if len(self) > BINARY_FROM and n_kept > 2 * SHORTLIST:  # shortlist by sign bits, rank exactly
            rows = self._shortlist(vector, keep, max(SHORTLIST, limit * 50), n_kept)
        elif n_kept * 8 > len(self):  # gathering many rows costs more than the whole product
            rows = np.flatnonzero(keep)
            scores = np.concatenate([int8_scores(seg.vectors, seg.scale, vector) for seg in self.segments])
            return self._best(rows, scores[rows], limit)
        else:
            rows = np.flatnonzero(keep)
        return self._best(rows, self.similarities(vector, rows), limit)

    def similarities(self, vector: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Cosine of ``vector`` to the passages at ``rows`` (every position when None), from the
        int8 vectors: what search's relevance floor and match counts compare (0 where no vector)."""
        vector = np.asarray(vector, dtype=np.float32)
        if rows is None:
            if not self.segments:
                return np.zeros(0, dtype=np.float32)
            return np.concatenate([int8_scores(seg.vectors, seg.scale, vector) for seg in self.segments])
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows), dtype=np.float32)
        if len(self.segments) == 1:
            seg = self.segments[0]
            return gathered_scores(seg.vectors, seg.scale, rows, vector)
        which = np.searchsorted(self.starts, rows, side="right") - 1
        for k in np.unique(which):
            at = np.flatnonzero(which == k)
            seg = self.segments[int(k)]
            out[at] = gathered_scores(seg.vectors, seg.scale, rows[at] - self.starts[k], vector)
        return out

    def _shortlist(self, vector: np.ndarray, keep: np.ndarray, size: int, total: int) -> np.ndarray:
        """The ``size`` kept rows whose sign bits are nearest the query's (Hamming distance over
        384 bits: 48 bytes a passage), in position order; each segment gets its share of the
        ``total`` kept rows."""
        out = []
        for seg, start in zip(self.segments, self.starts):
            kept = keep[start:start + len(seg)]
            n_kept = int(np.count_nonzero(kept))
            if not n_kept:
                continue
            share = min(n_kept, int(math.ceil(size * n_kept / total)))
            if share >= n_kept:
                out.append(np.flatnonzero(kept) + start)
                continue
            distance = hamming(seg.bits, np.packbits((vector - seg.center) > 0).view(np.uint64))
            if n_kept < len(seg):
                distance[~kept] = 65535
            # The share-th smallest distance from a histogram (distances are 0..384): cheaper
            # than a partition of a million; rows tied at the cut all stay.
            cut = int(np.searchsorted(np.cumsum(np.bincount(distance, minlength=DIM + 1)[:DIM + 1]), share))
            out.append(np.flatnonzero(distance <= cut) + start)
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def ids_at(self, rows: np.ndarray) -> list[str]:
        """Passage ids of many positions at once."""
        rows = np.asarray(rows, dtype=np.int64)
        which = np.searchsorted(self.starts, rows, side="right") - 1
        out: list[str] = [""] * len(rows)
        for k in np.unique(which):
            at = np.flatnonzero(which == k)
            seg = self.segments[int(k)]
            for j, pid in zip(at, seg.ids[rows[at] - self.starts[k]].tolist()):
                out[j] = pid.decode()
        return out

    def _best(self, rows: np.ndarray, scores: np.ndarray, limit: int) -> list[str]:
        """Best first; equal scores in rowid order (as FTS5 orders ties), so a ranking is reproducible."""
        if limit <= 0 or not len(rows):
            return []
        if len(rows) > limit:
            cut = -np.partition(-scores, limit - 1)[limit - 1]
            keep = scores >= cut  # everything tied with the last place, then cut after sorting
            rows, scores = rows[keep], scores[keep]
        order = np.lexsort((self.rowids[rows], -scores))[:limit]
        return self.ids_at(rows[order])


def _lookup(pos: np.ndarray, rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the ascending positions ``rows`` sit in the ascending postings ``pos``: (indices
    into ``pos``, indices into ``rows``) of the rows found. A binary search per row when rows
    are few; a pass over the postings through a position → row map when they are many."""
    if not len(pos) or not len(rows):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if len(rows) * 16 < len(pos):
        at = np.minimum(np.searchsorted(pos, rows.astype(pos.dtype, copy=False)), len(pos) - 1)
        has = np.flatnonzero(pos[at] == rows)
        return at[has], has
    where = np.full(n, -1, dtype=np.int32)
    where[rows] = np.arange(len(rows), dtype=np.int32)
    hit = where[pos]
    at = np.flatnonzero(hit >= 0)
    return at, hit[at].astype(np.int64)


def holds(pos: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Which ``rows`` appear in the ascending positions ``pos``."""
    if not len(pos):
        return np.zeros(len(rows), dtype=bool)
    at = np.minimum(np.searchsorted(pos, rows.astype(pos.dtype, copy=False)), len(pos) - 1)
    return pos[at] == rows


def gathered_scores(vectors: np.ndarray, scale: np.ndarray, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``(vectors[rows] × scale[rows]) @ vector`` for int8 rows: einsum multiplies the int8
    rows by the float32 query in one pass (no float32 copy of the rows, no BLAS threads
    waiting for each other): 20k rows in ~3 ms where ``astype`` and a product took 12–24."""
    if not len(rows):
        return np.zeros(0, dtype=np.float32)
    out = np.einsum("ij,j->i", vectors[rows], vector, dtype=np.float32)
    out *= scale[rows]
    return out


HAMMING_BLOCK = 32_768  # rows per block of the sign-bit pass: the block's words stay in cache


def hamming(bits: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distance of each column of ``bits`` ((DIM / 64, n) uint64) to ``query``, as uint16,
    a block of rows at a time into reused buffers (no 8 MB temporaries per word)."""
    n = bits.shape[1]
    distance = np.zeros(n, dtype=np.uint16)
    x = np.empty(min(HAMMING_BLOCK, n), dtype=np.uint64)
    count = np.empty(min(HAMMING_BLOCK, n), dtype=np.uint8)
    for a in range(0, n, HAMMING_BLOCK):
        k = min(HAMMING_BLOCK, n - a)
        d = distance[a:a + k]
        for word, column in zip(query, bits):
            np.bitwise_xor(column[a:a + k], word, out=x[:k])
            np.bitwise_count(x[:k], out=count[:k])
            np.add(d, count[:k], out=d)
    return distance


def int8_scores(vectors: np.ndarray, scale: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``(vectors × scale) @ vector`` for int8 rows, a cache-sized block at a time (numpy has
    no int8 product: converting the whole matrix would make a float32 copy of it)."""
    out = np.empty(len(vectors), dtype=np.float32)
    block = np.empty((min(CHUNK_ROWS, len(vectors)), vectors.shape[1] if vectors.ndim == 2 else DIM),
                     dtype=np.float32)
    with one_blas_thread():
        for i in range(0, len(vectors), CHUNK_ROWS):
            part = vectors[i:i + CHUNK_ROWS]
            buf = block[:len(part)]
            buf[...] = part
            np.matmul(buf, vector, out=out[i:i + len(part)])
    out *= scale
    return out


def sign_bits(vectors: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean vector and each passage's signs around it, packed: (DIM / 64, n) uint64.
    Centring first matters: MiniLM's vectors share a common direction that would otherwise
    set most bits alike for every passage."""
    n = len(vectors)
    total = np.zeros(DIM, dtype=np.float64)
    has = scale > 0
    for i in range(0, n, BITS_CHUNK):
        total += (vectors[i:i + BITS_CHUNK].astype(np.float32) * scale[i:i + BITS_CHUNK, None]).sum(axis=0)
    center = (total / max(int(has.sum()), 1)).astype(np.float32)
    bits = np.zeros((DIM // 64, n), dtype=np.uint64)
    for i in range(0, n, BITS_CHUNK):
        block = vectors[i:i + BITS_CHUNK].astype(np.float32) * scale[i:i + BITS_CHUNK, None]
        bits[:, i:i + len(block)] = np.packbits(block - center > 0, axis=1).view(np.uint64).T
    return center, bits


def quantise(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and a float32 scale per row (row ≈ int8 × scale); zero rows get scale 0."""
    matrix = np.asarray(matrix, dtype=np.float32)
    if not len(matrix):
        return np.zeros(matrix.shape, dtype=np.int8), np.zeros(0, dtype=np.float32)
    peak = np.maximum(matrix.max(axis=1), -matrix.min(axis=1))
    scale = (peak / 127.0).astype(np.float32)
    safe = np.where(scale > 0, scale, 1.0).astype(np.float32)
    work = matrix / safe[:, None]  # one temporary, rounded and clipped in place
    np.rint(work, out=work)
    np.clip(work, -127, 127, out=work)
    return work.astype(np.int8), scale


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

def fingerprint(conn: sqlite3.Connection, vectors=None) -> list:
    """What a snapshot depends on, cheap to read: a digest of FTS5's structure record (its
    write counter and segment list change with every write to the index; its first four bytes,
    the configuration cookie, do not — a replaced passage that reused its rowid went
    unnoticed), passage and document counts and extremes, the themes' total length. (Chroma
    is not read: a snapshot's vectors come from SQLite's embedding cache.)"""
    import hashlib

    cookie = conn.execute("SELECT block FROM passages_fts_data WHERE id = 10").fetchone()
    passages = list(conn.execute("SELECT COUNT(*), MAX(rowid) FROM passages").fetchone())
    documents = list(conn.execute(
        "SELECT COUNT(*), MAX(rowid), TOTAL(year), COUNT(DISTINCT source), COUNT(DISTINCT doc_type) "
        "FROM documents").fetchone())
    themes = conn.execute("SELECT TOTAL(LENGTH(themes)) FROM passages").fetchone()[0]
    return [hashlib.sha1(bytes(cookie[0])).hexdigest()[:20] if cookie else "", passages, documents, themes]


PASSAGE_ROWS = """SELECT p.rowid, p.id, p.themes, d.source, d.doc_type, d.year, p.text
                  FROM passages p JOIN documents d ON d.id = p.doc_id"""


class Codes:
    """The snapshot's dictionaries — source and document-type codes, theme bits — which grow
    as segments are added and never renumber (older segments keep their codes)."""

    def __init__(self, sources=None, doc_types=None, theme_bits=None):
        self.sources: dict[str, int] = dict(sources or {})
        self.doc_types: dict[str, int] = dict(doc_types or {})
        self.theme_bits: dict[str, int] = dict(theme_bits or {})

    def code(self, table: dict[str, int], value) -> int:
        return -1 if value is None else table.setdefault(value, len(table))

    def bits(self, themes: str | None) -> int:
        out = 0
        for theme in filter(None, (themes or "").split("|")):
            bit = self.theme_bits.get(theme)
            if bit is None:
                if len(self.theme_bits) >= 63:  # the taxonomy has nine themes; an unknown flood is never filterable
                    continue
                bit = self.theme_bits[theme] = len(self.theme_bits)
            out |= 1 << bit
        return out


def build_segment(conn: sqlite3.Connection, rows, codes: Codes, vectors, fts_table: str = "passages_fts",
                  schema: str = "main", batch: int = 50_000, postings_beside=None) -> Segment:
    """A segment of ``rows`` (an iterable of ``PASSAGE_ROWS``' columns in rowid order, read a
    batch at a time so a million texts never sit in memory) whose postings come from
    ``schema.fts_table`` — the main index for a full build, a temporary one holding only the
    new passages for an update — and whose vectors come from ``vectors``: its
    ``keys_of(batch)`` names each row's vector, and once every batch is read
    ``vectors_for(keys) -> (int8, scale)`` fetches them all, so the source can choose how (a
    million keyed look-ups cost more than one pass over the whole cache).

    ``postings_beside``, for a full build of the main index, is a future of
    ``postings_on_own_connection``: another thread reads FTS5's instance list (about 60% of
    the build; SQLite walks it outside the GIL) while this one reads the rows and vectors.
    Its postings are used when its rowids are this segment's, and read here otherwise."""
    parts: dict[str, list] = {name: [] for name in ("rowids", "theme_len", "source", "doc_type", "year",
                                                    "themes", "keys")}
    id_list: list[bytes] = []
    iterator = iter(rows)
    while True:
        block = [r for _, r in zip(range(batch), iterator)]
        if not block:
            break
        n = len(block)
        parts["rowids"].append(np.fromiter((r[0] for r in block), dtype=np.int64, count=n))
        id_list += [r[1].encode() for r in block]
        parts["theme_len"].append(np.fromiter((min(len(r[2] or ""), 65535) for r in block), dtype=np.uint16, count=n))
        parts["source"].append(np.fromiter((codes.code(codes.sources, r[3]) for r in block), dtype=np.int32, count=n))
        parts["doc_type"].append(np.fromiter((codes.code(codes.doc_types, r[4]) for r in block), dtype=np.int32,
                                             count=n))
        parts["year"].append(np.fromiter((r[5] if isinstance(r[5], int) else NO_YEAR for r in block), dtype=np.int32,
                                         count=n))
        parts["themes"].append(np.fromiter((codes.bits(r[2]) for r in block), dtype=np.int64, count=n))
        parts["keys"].append(vectors.keys_of(block))
        del block
    empty = {"rowids": np.int64, "theme_len": np.uint16, "source": np.int32, "doc_type": np.int32,
             "year": np.int32, "themes": np.int64, "keys": "S1"}
    arrays = {name: (np.concatenate(p) if p else np.zeros(0, dtype=empty[name])) for name, p in parts.items()}
    del parts
    arrays["vectors"], arrays["scale"] = vectors.vectors_for(arrays.pop("keys"))
    width = max((len(i) for i in id_list), default=1)
    ids = np.array(id_list, dtype=f"S{max(width, 1)}")
    del id_list
    arrays["center"], arrays["bits"] = sign_bits(arrays["vectors"], arrays["scale"])
    beside = postings_beside.result() if postings_beside is not None else None
    if beside is not None and np.array_equal(beside[0], arrays["rowids"]):
        postings = beside[1]
    else:
        postings = _postings(conn, arrays["rowids"], fts_table, schema)
    del beside
    term_text, term_off, term_post, post_pos, post_tf, doclen = postings
    return Segment(ids=ids, doclen=doclen, term_text=term_text, term_off=term_off, term_post=term_post,
                   post_pos=post_pos, post_tf=post_tf, **arrays)


def postings_on_own_connection(path: str, stamp) -> tuple[np.ndarray, tuple] | None:
    """The rowids and postings of a full build of the main index, read through a connection
    of this thread's own to ``path``: None unless that connection sees the state ``stamp``
    (the build's fingerprint) describes, since a write may land between two connections'
    first reads."""
    import json

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("BEGIN")
        try:
            if json.loads(json.dumps(fingerprint(conn))) != stamp:
                return None
            rowids = np.fromiter((r[0] for r in conn.execute(
                "SELECT p.rowid FROM passages p JOIN documents d ON d.id = p.doc_id ORDER BY p.rowid")),
                dtype=np.int64)
            return rowids, _postings(conn, rowids, "passages_fts", "main")
        finally:
            conn.execute("COMMIT")
    finally:
        conn.close()


def _postings(conn: sqlite3.Connection, rowids: np.ndarray, fts_table: str, schema: str):
    """Postings from fts5vocab's 'instance' table, whose rows come ordered by token and then
    rowid: ``GROUP BY term`` follows that order (no sort), and ``group_concat`` hands each
    token's rowids over as one string that numpy parses in C — a million passages are ~130M
    instances, which one Python tuple each took minutes to cross. Tokens are handled a block
    of ``INSTANCE_CHUNK`` instances at a time, so memory stays bounded."""
    tag = f"{schema}_{fts_table}"
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.vinst_{tag} "
                 f"USING fts5vocab({schema}, {fts_table}, instance)")
    n = len(rowids)
    terms: list[bytes] = []
    per_term: list[int] = []
    pos_parts, tf_parts = [], []
    pending: list[tuple[str, int, str]] = []
    pending_count = 0
    where = _position_of(rowids)

    def flush() -> None:
        nonlocal pending, pending_count
        if not pending:
            return
        counts = np.fromiter((c for _, c, _ in pending), dtype=np.int64, count=len(pending))
        docs = np.fromstring(",".join(d for _, _, d in pending), dtype=np.int64, sep=",")
        if len(docs) != int(counts.sum()):
            raise RuntimeError("fts5vocab returned a malformed instance list")
        term_of = np.repeat(np.arange(len(pending), dtype=np.int64), counts)
        pos, found = where(docs)
        if not found.all():
            raise RuntimeError("the full-text index names passages the passages table lacks")
        # Instances are ordered (token, rowid): equal neighbours are one posting with tf > 1.
        key = term_of * max(n, 1) + pos
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        tf = np.diff(np.r_[starts, len(key)])
        per_term.extend(np.bincount(term_of[starts], minlength=len(pending)).tolist())
        pos_parts.append(pos[starts].astype(np.int32))
        tf_parts.append(np.minimum(tf, 65535).astype(np.uint16))
        terms.extend(t.encode("utf-8") for t, _, _ in pending)
        pending, pending_count = [], 0

    for term, count, docs in conn.execute(
            f"SELECT term, COUNT(*), group_concat(doc) FROM temp.vinst_{tag} GROUP BY term"):
        pending.append((term, count, docs))
        pending_count += count
        if pending_count >= INSTANCE_CHUNK:
            flush()
    flush()
    post_pos = np.concatenate(pos_parts) if pos_parts else np.zeros(0, dtype=np.int32)
    post_tf = np.concatenate(tf_parts) if tf_parts else np.zeros(0, dtype=np.uint16)
    del pos_parts, tf_parts
    bounds = np.r_[0, np.cumsum(np.asarray(per_term, dtype=np.int64))].astype(np.int64)
    doclen = np.bincount(post_pos, weights=post_tf, minlength=n) if n else np.zeros(0)
    # The dictionary in byte order (FTS5 keeps it so; sorting makes the binary search safe anyway).
    order = sorted(range(len(terms)), key=terms.__getitem__)
    if order != list(range(len(terms))):
        post_parts = [(post_pos[bounds[i]:bounds[i + 1]], post_tf[bounds[i]:bounds[i + 1]]) for i in order]
        terms = [terms[i] for i in order]
        bounds = np.r_[0, np.cumsum([len(p) for p, _ in post_parts], dtype=np.int64)].astype(np.int64)
        post_pos = np.concatenate([p for p, _ in post_parts]) if post_parts else post_pos
        post_tf = np.concatenate([t for _, t in post_parts]) if post_parts else post_tf
    term_off = np.r_[0, np.cumsum([len(t) for t in terms], dtype=np.int64)].astype(np.int64)
    term_text = np.frombuffer(b"".join(terms), dtype=np.uint8).copy()
    return term_text, term_off, bounds, post_pos, post_tf, np.minimum(doclen, 2**32 - 1).astype(np.uint32)


def _position_of(rowids: np.ndarray):
    """``locate`` over fixed ``rowids`` (ascending), as a function: through a table indexed by
    rowid when rowids are dense enough (a gather per instance instead of a binary search:
    a million passages' 130M instances took ~14 s of searching), else ``locate``."""
    if not len(rowids) or int(rowids[-1]) - int(rowids[0]) >= 4 * len(rowids) + 1024:
        return lambda docs: locate(rowids, docs)
    low = int(rowids[0])
    table = np.full(int(rowids[-1]) - low + 1, -1, dtype=np.int64)
    table[rowids - low] = np.arange(len(rowids), dtype=np.int64)

    def where(docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = docs - low
        inside = (at >= 0) & (at < len(table))
        pos = table[np.where(inside, at, 0)]
        found = inside & (pos >= 0)
        return np.where(found, pos, 0), found

    return where


def locate(sorted_rowids: np.ndarray, rowids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``rowids`` in ``sorted_rowids`` and a mask of those really there."""
    if not len(sorted_rowids):
        return np.zeros(len(rowids), dtype=np.int64), np.zeros(len(rowids), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_rowids, rowids), len(sorted_rowids) - 1)
    return pos, sorted_rowids[pos] == rowids

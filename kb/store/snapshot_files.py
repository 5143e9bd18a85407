"""The search snapshot on disk (``KB_HOME/search-snapshot``), and keeping it up to date.

Layout: one folder per segment (``seg-<n>/<array>.npy``, written once, never changed), a
dead-passage mask per update (``dead-<n>.npy``), ``docs.json`` (each document's filter
fields, to notice an edited document) and ``manifest.json``, which names the segments and
mask in use, the code tables and the fingerprint of the SQLite state they describe.

An update writes its new files first and replaces ``manifest.json`` last (write, fsync,
rename): a process killed at any point leaves the previous manifest, whose files are all
still there, so a snapshot on disk is always whole. Files no manifest names are removed by
the next update. Readers memory-map the arrays, so opening a million-passage snapshot costs
milliseconds and its pages are shared with every other process that opens it.

``refresh`` brings the snapshot to the database's state: nothing when the fingerprint
matches; otherwise the passages added since become a new segment (tokenised by a temporary
FTS5 table with the index's own tokenizer, vectors from the embedding cache) and the ones
deleted or replaced are marked dead. It builds from scratch only when there is no usable
snapshot, when more than ``MAX_SEGMENTS`` segments or a quarter dead passages (and over ``SMALL_CHANGE``) have piled up
(compaction), or when something changed that it cannot follow (an edited document's
filter fields, retagged themes, another embedding backend).
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from kb.store.snapshot import (DIM, MIN_PASSAGES, PASSAGE_ROWS, SEGMENT_FIELDS, Codes, Segment, Snapshot,
                               build_segment, fingerprint, postings_on_own_connection, quantise)

log = logging.getLogger(__name__)

DIRNAME = "search-snapshot"
MANIFEST = "manifest.json"
FORMAT = 3
MAX_SEGMENTS = 8
MAX_DEAD_FRACTION = 0.25
SMALL_CHANGE = 2_000  # passages: below this, a change is always appended (a rebuild would gain nothing)
KEY_BATCH = 500
KEY_WIDTH = 64  # a text key is a SHA-256 in hex (nlp.embed.text_key)
VECTOR_CHUNK = 20_000  # cached vectors quantised at once: bounds a build's memory
SCAN_RATIO = 8  # read the whole cache when it holds at most this many vectors per one wanted


def snapshot_dir(settings) -> Path:
    return Path(settings.home) / DIRNAME


def read_manifest(folder: Path) -> dict | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if manifest.get("format") == FORMAT else None


def load(folder: Path, manifest: dict | None = None) -> Snapshot | None:
    """The snapshot a manifest names, memory-mapped; None when there is none or it is damaged."""
    manifest = manifest or read_manifest(folder)
    if manifest is None:
        return None
    try:
        # Plain arrays over the mapped files: a memmap's own slicing costs ~50 µs a slice.
        segments = [Segment(**{name: np.asarray(np.load(folder / seg / f"{name}.npy", mmap_mode="r"))
                               for name in SEGMENT_FIELDS}) for seg in manifest["segments"]]
        dead = np.load(folder / manifest["dead"], mmap_mode="r") if manifest.get("dead") else None
        if dead is not None and len(dead) != sum(len(s) for s in segments):
            raise ValueError("dead mask and segments disagree")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("search snapshot in %s is unreadable (%s): searches use SQLite until it is rebuilt", folder, exc)
        return None
    snap = Snapshot(segments, dead, manifest["sources"], manifest["doc_types"], manifest["theme_bits"],
                    fingerprint=manifest["fingerprint"], built_s=manifest.get("built_s", 0.0))
    snap.manifest = manifest
    return snap


def open_current(settings, conn: sqlite3.Connection) -> Snapshot | None:
    """The on-disk snapshot if it describes the database as it is now (else None): what a
    one-shot ``kb search`` uses, without importing Chroma or loading anything but the manifest."""
    folder = snapshot_dir(settings)
    manifest = read_manifest(folder)
    if manifest is None:
        return None
    try:
        if _json(fingerprint(conn)) != manifest["fingerprint"]:
            return None
    except sqlite3.Error:
        return None
    return load(folder, manifest)


def _json(value):
    return json.loads(json.dumps(value))


@contextmanager
def _locked(folder: Path, wait_s: float) -> Iterator[bool]:
    """One updater at a time (an ingest and a server may both try): True when this one holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.2)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def refresh(kbase, allow_full: bool = True, wait_s: float = 600.0) -> Snapshot | None:
    """Bring the on-disk snapshot up to the database's state and return it (memory-mapped);
    incrementally where possible. None when another process holds the update lock past
    ``wait_s``, or when only a full build would do and ``allow_full`` is False."""
    folder = snapshot_dir(kbase.settings)
    variant = getattr(kbase.embedder, "variant", "")
    with _locked(folder, wait_s) as held:
        if not held:
            return None
        path = kbase.settings.sqlite_path
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("BEGIN")  # one read transaction: every part describes the same state
            try:
                return _refresh(conn, folder, variant, allow_full)
            finally:
                conn.execute("COMMIT")
        finally:
            conn.close()


def _refresh(conn: sqlite3.Connection, folder: Path, variant: str, allow_full: bool) -> Snapshot | None:
    started = time.perf_counter()
    stamp = _json(fingerprint(conn))
    manifest = read_manifest(folder)
    old = load(folder, manifest) if manifest and manifest.get("variant") == variant and manifest.get("dim") == DIM \
        else None
    if old is not None and manifest["fingerprint"] == stamp:
        return old
    docs = _documents(conn)
    reason = _why_full(conn, folder, old, docs) if old is not None else "no snapshot yet"
    if reason is None:
        snap = _update(conn, folder, old, manifest, stamp, docs, variant, started)
        if snap is not None:
            return snap
        reason = "the update could not account for every change"
    if not allow_full:
        return None
    return _full(conn, folder, manifest, stamp, docs, variant, started, reason)


def _documents(conn: sqlite3.Connection) -> dict[str, list]:
    return {r[0]: [r[1], r[2], r[3] if isinstance(r[3], int) else None]
            for r in conn.execute("SELECT id, source, doc_type, year FROM documents")}


def _why_full(conn, folder: Path, old: Snapshot, docs: dict) -> str | None:
    if len(old.segments) >= MAX_SEGMENTS:
        return f"compacting {len(old.segments)} segments"
    if old.dead_count > max(MAX_DEAD_FRACTION * len(old), SMALL_CHANGE):
        return f"compacting {old.dead_count} dead passages"
    try:
        before = json.loads((folder / old.manifest["docs"]).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError):
        return "no record of the documents' filter fields"
    if any(doc in docs and docs[doc] != fields for doc, fields in before.items()):
        return "a document's source, type or year changed"
    return None


def _update(conn, folder: Path, old: Snapshot, manifest: dict, stamp, docs: dict, variant: str,
            started: float) -> Snapshot | None:
    """Append the passages added since ``old`` as a segment and mark those gone dead."""
    db = conn.execute("SELECT rowid, id FROM passages ORDER BY rowid").fetchall()
    db_rowids = np.fromiter((r[0] for r in db), dtype=np.int64, count=len(db))
    width = max([len(r[1]) for r in db] + [1])
    db_ids = np.array([r[1].encode() for r in db], dtype=f"S{width}")
    del db
    live = np.flatnonzero(old.alive)
    live_rowids = old.rowids[live]
    live_ids = np.concatenate([np.asarray(seg.ids, dtype=f"S{max(width, seg.ids.dtype.itemsize)}")
                               for seg in old.segments])[live] if len(live) else np.zeros(0, dtype="S1")
    # A passage is kept when its rowid is still there with the same id (a rowid SQLite reused
    # for a new passage after deleting the old one is a removal and an addition).
    order = np.argsort(db_rowids)
    sorted_db = db_rowids[order]
    at = np.minimum(np.searchsorted(sorted_db, live_rowids), max(len(sorted_db) - 1, 0))
    kept = (sorted_db[at] == live_rowids) & (db_ids[order][at] == live_ids) if len(sorted_db) \
        else np.zeros(len(live), dtype=bool)
    gone = live[~kept]
    held = np.zeros(len(db_rowids), dtype=bool)
    held[order[at[kept]]] = True
    new_rowids = np.sort(db_rowids[~held])
    if len(new_rowids) + len(gone) > max(0.5 * len(db_rowids), SMALL_CHANGE):
        return None  # most of it changed: a full build is as quick and leaves no dead weight
    codes = Codes(manifest["sources"], manifest["doc_types"], manifest["theme_bits"])
    dead = ~old.alive
    dead[gone] = True
    segments = list(manifest["segments"])
    generation = manifest.get("generation", 0) + 1
    theme_len = np.concatenate([np.asarray(seg.theme_len, dtype=np.int64) for seg in old.segments])
    live_theme_len = int(theme_len[live[kept]].sum())
    segment = _delta_segment(conn, new_rowids, codes, variant) if len(new_rowids) else None
    if segment is not None:
        live_theme_len += int(np.asarray(segment.theme_len, dtype=np.int64).sum())
    themes = conn.execute("SELECT TOTAL(LENGTH(themes)) FROM passages").fetchone()[0]
    if live_theme_len != int(themes):
        return None  # themes retagged in place: only a full build follows that
    if segment is not None:
        name = f"seg-{generation}"
        _write_segment(folder, name, segment)
        segments.append(name)
        dead = np.r_[dead, np.zeros(len(segment), dtype=bool)]
    new_manifest = dict(manifest, fingerprint=stamp, segments=segments, sources=codes.sources,
                        doc_types=codes.doc_types, theme_bits=codes.theme_bits, generation=generation,
                        updates=manifest.get("updates", 0) + 1)
    snap = _commit(folder, new_manifest, dead, docs, started)
    log.info("search snapshot updated: %d passages added, %d removed (%d segments) in %.2f s",
             len(new_rowids), len(gone), len(segments), snap.built_s)
    return snap


def _delta_segment(conn, rowids: np.ndarray, codes: Codes, variant: str) -> Segment:
    """The new passages as a segment: tokenised by a temporary FTS5 table with the index's
    tokenizer (identical tokens to the main index), vectors from the embedding cache."""
    from kb.store.snapshot import TOKENIZER

    conn.execute("DROP TABLE IF EXISTS temp.snapshot_delta")
    conn.execute(f"CREATE VIRTUAL TABLE temp.snapshot_delta USING fts5(text, tokenize='{TOKENIZER}')")
    conn.execute("DROP TABLE IF EXISTS temp.snapshot_new")
    conn.execute("CREATE TABLE temp.snapshot_new(rowid INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO temp.snapshot_new(rowid) VALUES (?)", ((int(r),) for r in rowids))
    conn.execute("""INSERT INTO temp.snapshot_delta(rowid, text)
                    SELECT p.rowid, p.text FROM passages p JOIN temp.snapshot_new n ON n.rowid = p.rowid""")
    rows = conn.execute(PASSAGE_ROWS + " JOIN temp.snapshot_new n ON n.rowid = p.rowid ORDER BY p.rowid")
    try:
        return build_segment(conn, rows, codes, CachedVectors(conn, variant), "snapshot_delta", "temp")
    finally:
        conn.execute("DROP TABLE IF EXISTS temp.vinst_temp_snapshot_delta")
        conn.execute("DROP TABLE IF EXISTS temp.snapshot_delta")
        conn.execute("DROP TABLE IF EXISTS temp.snapshot_new")


def _full(conn, folder: Path, manifest: dict | None, stamp, docs: dict, variant: str, started: float,
          reason: str) -> Snapshot:
    codes = Codes()
    path = next(r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot-postings") as beside:
        postings = beside.submit(postings_on_own_connection, path, stamp) if path else None
        rows = conn.execute(PASSAGE_ROWS + " ORDER BY p.rowid")
        segment = build_segment(conn, rows, codes, CachedVectors(conn, variant), postings_beside=postings)
    generation = (manifest or {}).get("generation", 0) + 1
    name = f"seg-{generation}"
    _write_segment(folder, name, segment)
    new_manifest = {"format": FORMAT, "dim": DIM, "variant": variant, "fingerprint": stamp, "segments": [name],
                    "sources": codes.sources, "doc_types": codes.doc_types, "theme_bits": codes.theme_bits,
                    "generation": generation, "full_builds": (manifest or {}).get("full_builds", 0) + 1,
                    "updates": (manifest or {}).get("updates", 0)}
    snap = _commit(folder, new_manifest, np.zeros(len(segment), dtype=bool), docs, started)
    log.info("search snapshot built (%s): %d passages, %d vectors in %.1f s", reason, snap.n_rows,
             int(snap.has_vector.sum()), snap.built_s)
    return snap


class CachedVectors:
    """The vector source of ``build_segment``: each passage's vector from SQLite's embedding
    cache (the vectors Chroma was given are the cached ones), quantised to int8.

    A full build needs nearly every vector in the cache, and a million keyed look-ups cost
    about 26 s (two B-tree searches each, in hash order) where one pass over the table in
    storage order costs under 2 s; an update needs a few, which look-ups fetch without
    reading the rest. ``SCAN_RATIO`` picks between them."""

    def __init__(self, conn: sqlite3.Connection, variant: str):
        self.conn = conn
        self.variant = variant

    def keys_of(self, rows) -> np.ndarray:
        from nlp.embed import text_key

        return np.array([text_key(r[6], self.variant).encode() for r in rows], dtype=f"S{KEY_WIDTH}")

    def vectors_for(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """int8 vectors and scales in the order of ``keys``; a key the cache lacks (or holds
        a vector of the wrong size for) gets a zero row and scale 0."""
        q = np.zeros((len(keys), DIM), dtype=np.int8)
        scale = np.zeros(len(keys), dtype=np.float32)
        if not len(keys):
            return q, scale
        order = np.argsort(keys, kind="stable")
        wanted = keys[order]
        cached = self.conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        pairs = self._scan() if cached <= SCAN_RATIO * len(keys) else self._look_up(np.unique(wanted))
        for chunk in pairs:
            _place(chunk, wanted, order, q, scale)
        return q, scale

    def _scan(self) -> Iterator[list]:
        cursor = self.conn.execute("SELECT key, vector FROM embeddings")
        while chunk := cursor.fetchmany(VECTOR_CHUNK):
            yield chunk

    def _look_up(self, unique_keys: np.ndarray) -> Iterator[list]:
        chunk: list = []
        for start in range(0, len(unique_keys), KEY_BATCH):
            batch = [k.decode() for k in unique_keys[start:start + KEY_BATCH]]
            chunk += self.conn.execute(
                f"SELECT key, vector FROM embeddings WHERE key IN ({','.join('?' * len(batch))})", batch)
            if len(chunk) >= VECTOR_CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _place(pairs: list, wanted: np.ndarray, order: np.ndarray, q: np.ndarray, scale: np.ndarray) -> None:
    """Write the cached ``(key, blob)`` pairs that some row wants into ``q``/``scale``:
    ``wanted`` is every row's key sorted, ``order`` the rows in that order, so a text shared
    by several passages fills each of them."""
    usable = [(k, b) for k, b in pairs
              if isinstance(k, str) and len(k) == KEY_WIDTH and isinstance(b, bytes) and len(b) == DIM * 4]
    if not usable:
        return
    found = np.array([k.encode() for k, _ in usable], dtype=f"S{KEY_WIDTH}")
    left = np.searchsorted(wanted, found, side="left")
    counts = np.searchsorted(wanted, found, side="right") - left
    keep = counts > 0
    if not keep.any():
        return
    matrix = np.frombuffer(b"".join(b for (_, b), ok in zip(usable, keep.tolist()) if ok),
                           dtype=np.float32).reshape(-1, DIM)
    cq, cs = quantise(matrix)
    counts, left = counts[keep], left[keep]
    source = np.repeat(np.arange(len(counts)), counts)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = order[np.repeat(left, counts) + within]
    q[rows] = cq[source]
    scale[rows] = cs[source]


def _write_segment(folder: Path, name: str, segment: Segment) -> None:
    tmp = folder / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for field in SEGMENT_FIELDS:
        with open(tmp / f"{field}.npy", "wb") as handle:
            np.save(handle, np.ascontiguousarray(getattr(segment, field)))
            handle.flush()
            os.fsync(handle.fileno())
    target = folder / name
    shutil.rmtree(target, ignore_errors=True)  # a leftover of an update killed before its manifest
    os.replace(tmp, target)


def _commit(folder: Path, manifest: dict, dead: np.ndarray, docs: dict, started: float) -> Snapshot:
    """Write the dead mask and documents, then the manifest (atomically, last); drop what no
    manifest names any more; return the snapshot the new manifest describes."""
    generation = manifest["generation"]
    dead_name, docs_name = f"dead-{generation}.npy", f"docs-{generation}.json"
    with open(folder / dead_name, "wb") as handle:
        np.save(handle, np.asarray(dead, dtype=bool))
        handle.flush()
        os.fsync(handle.fileno())
    (folder / docs_name).write_text(json.dumps(docs), encoding="utf-8")
    manifest = dict(manifest, dead=dead_name, docs=docs_name, built_s=round(time.perf_counter() - started, 2),
                    written_at=time.time())
    tmp = folder / f".{MANIFEST}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(manifest, indent=1))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / MANIFEST)
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
    keep = set(manifest["segments"]) | {dead_name, docs_name, MANIFEST, ".lock"}
    for entry in folder.iterdir():
        if entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
    snap = load(folder, manifest)
    if snap is None:
        raise RuntimeError(f"the search snapshot just written to {folder} does not load")
    return snap


# --- keeping one fresh in a long-lived reader -----------------------------------------------

class SnapshotKeeper:
    """Holds a knowledge base's snapshot (memory-mapped from disk) and brings it up to date,
    in a thread, when the data changes — incrementally where it can (``snapshot_files.refresh``).

    ``current()`` is what a search asks for: the snapshot if its fingerprint still matches
    the database, else None (and a refresh starts). Checking costs one ``PRAGMA
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
        """Bring the snapshot up to date synchronously (benchmarks, tests, evaluation); None
        when the KB has fewer passages than ``min_passages`` (default: the keeper's)."""
        floor = self.min_passages if min_passages is None else min_passages
        conn = self._connect()
        try:
            if conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0] < floor:
                self.snapshot = None
                return None
        finally:
            conn.close()
        snap = refresh(self.kbase)
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
        return {"state": state, "passages": snap.n_rows if snap else 0, "built_s": snap.built_s if snap else None,
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
            fresh = fingerprint(conn) == snap.fingerprint
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

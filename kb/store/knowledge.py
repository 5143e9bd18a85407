"""The handle every command works through: settings, the SQLite store, Chroma, the embedder.

Heavy parts (Chroma, the model) open on first use, so ``kb stats`` stays instant.
"""
from __future__ import annotations

import threading
from functools import cached_property

from kb.config import Settings
from kb.store.db import Store


class KnowledgeBase:
    def __init__(self, settings: Settings, readonly: bool = False, embedder=None):
        self.settings = settings
        self.readonly = readonly
        self._embedder = embedder
        self._seen_stamp = None
        self._follow_lock = threading.Lock()
        if not readonly:
            settings.home.mkdir(parents=True, exist_ok=True)

    @classmethod
    def open(cls, home=None, **kwargs) -> "KnowledgeBase":
        return cls(Settings.from_env(home), **kwargs)

    @cached_property
    def store(self) -> Store:
        return Store(self.settings.sqlite_path, readonly=self.readonly)

    @cached_property
    def vectors(self):
        from kb.store.vectors import connect

        return connect(self.settings)

    def follow_writers(self) -> bool:
        """For a long-lived reader (the web server): when another process has finished writing
        since the last look, reopen embedded Chroma so its vectors are seen; True when it did.
        While a writer still holds the write lock nothing changes (its half-written state is
        never read); the next look after it finishes picks everything up. Costs one ``PRAGMA
        data_version`` and one ``stat`` while nothing changed."""
        from kb.store.lock import LOCK_NAME, writer_active

        def mtime(path) -> int | None:
            try:
                return path.stat().st_mtime_ns
            except OSError:
                return None

        # Every writer's release touches the lock file; Chroma's own files catch a writer that
        # took no lock (a script, a Chroma restored by hand).
        stamp = (self.store.conn.execute("PRAGMA data_version").fetchone()[0],
                 mtime(self.settings.home / LOCK_NAME), mtime(self.settings.chroma_path / "chroma.sqlite3"),
                 mtime(self.settings.chroma_path / "chroma.sqlite3-wal"))
        if stamp == self._seen_stamp:
            return False
        with self._follow_lock:
            if stamp == self._seen_stamp or writer_active(self.settings.home):
                return False
            self._seen_stamp = stamp
            if "vectors" not in self.__dict__:
                return False  # nothing opened yet: the first open reads the files
            from kb.store.vectors import reopen

            self.__dict__["vectors"] = reopen(self.settings)
            return True

    @property
    def embedder(self):
        if self._embedder is None:
            from nlp.embed import shared_embedder

            self._embedder = shared_embedder(self.settings.embed_backend, self.settings.embed_batch_size,
                                             self.settings.embed_threads or None)
        return self._embedder

    @cached_property
    def cached_embedder(self) -> "CachedEmbedder":
        """An embedder whose ``encode`` goes through this knowledge base's cache: extraction
        embeds barrier candidates with it, so ingest then finds them cached, not embeds twice."""
        return CachedEmbedder(self)

    @cached_property
    def snapshots(self):
        """The search snapshot's keeper (``kb/store/snapshot_files.py``): created only by a
        long-lived reader that asks for it, so one-shot commands never pay for building one."""
        from kb.store.snapshot_files import SnapshotKeeper

        return SnapshotKeeper(self)

    def snapshot(self):
        """The current search snapshot, or None (none built yet, or out of date): the one a
        long-lived reader keeps, else the one on disk (memory-mapped once per process and
        state of the database, so a one-shot ``kb search`` reads no Chroma at all)."""
        keeper = self.__dict__.get("snapshots")
        if keeper is not None:
            return keeper.current()
        from kb.store.snapshot_files import MANIFEST, open_current, snapshot_dir

        conn = self.store.conn
        try:
            written = (snapshot_dir(self.settings) / MANIFEST).stat().st_mtime_ns
        except OSError:
            return None
        # Other connections' commits move data_version, this one's total_changes.
        state = (conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes, written)
        held = self.__dict__.get("_disk_snapshot")
        if held is not None and held[0] == state:
            return held[1]
        snap = open_current(self.settings, conn)
        self.__dict__["_disk_snapshot"] = (state, snap)
        return snap

    def refresh_snapshot(self):
        """Bring the on-disk search snapshot up to date after a write (incrementally where it
        can: ``kb/store/snapshot_files.py``). A failure is logged, never raised: searches
        then use SQLite until the next refresh."""
        from kb.store.snapshot_files import refresh

        try:
            return refresh(self)
        except Exception as exc:
            import logging

            logging.getLogger(__name__).warning("search snapshot not updated (%s: %s); searches use SQLite "
                                                "until the next ingest or `kb serve` brings it up to date",
                                                type(exc).__name__, exc)
            return None

    def key(self, text: str) -> str:
        """Cache key of ``text`` for the embedder in use (its backend is part of the key)."""
        from nlp.embed import text_key

        return text_key(text, getattr(self.embedder, "variant", ""))

    def embed(self, texts: list[str]):
        """Embeddings through the SQLite cache: a text is only ever embedded once per backend."""
        import numpy as np

        from nlp.embed import DIMENSIONS

        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        keys = [self.key(t) for t in texts]
        cached = self.store.cached_vectors(list(set(keys)))
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in cached}.items())
        if missing:
            fresh = self.embedder.encode([t for _, t in missing])
            cached.update(self.remember({k: v for (k, _), v in zip(missing, fresh)}))
        return np.stack([cached[k] for k in keys])

    def store_vectors(self, texts: list[str], vectors) -> None:
        """Cache vectors computed elsewhere for this embedder (the barrier classifier's ONNX run
        gives the onnx-int8 vectors of its sentences): keyed like ``embed``'s, stored only where
        missing, so a later ``embed`` finds them instead of running the model again."""
        if not len(texts):
            return
        given = {self.key(t): v for t, v in zip(texts, vectors)}
        cached = self.store.cached_vectors(list(given))
        self.remember({k: v for k, v in given.items() if k not in cached})

    def remember(self, vectors: dict) -> dict:
        """Cache ``vectors`` (key -> vector) unless read-only; returns them."""
        if vectors and not self.readonly:
            with self.store.transaction():
                self.store.cache_vectors(vectors)
        return vectors

    def embed_query(self, text: str):
        """One search query's vector, fast in a fresh process: from the cache (under this
        backend's key or the fp32 one); else from the loaded model when there is one (a
        server); else from the numpy encoder (``nlp/query_encoder.py``: the fp32 model's
        vectors, without importing torch), cached under the fp32 key it matches."""
        from nlp.embed import text_key

        variant = getattr(self.embedder, "variant", "")
        keys = [text_key(text, variant), text_key(text, "")]
        cached = self.store.cached_vectors(list(dict.fromkeys(keys)))
        for key in keys:
            if key in cached:
                return cached[key]
        if getattr(self.embedder, "_model", None) is not None or not hasattr(self.embedder, "_model"):
            return self.embed([text])[0]
        from nlp.query_encoder import query_encoder

        vector = query_encoder().encode_one(text)
        if not self.readonly:
            with self.store.transaction():
                self.store.cache_vectors({keys[1]: vector})
        return vector

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()


class CachedEmbedder:
    """The ``Embedder`` interface (``encode``, ``variant``) over ``KnowledgeBase.embed``."""

    def __init__(self, kbase: KnowledgeBase):
        self.kbase = kbase

    @property
    def base(self):
        return self.kbase.embedder

    @property
    def variant(self) -> str:
        return getattr(self.kbase.embedder, "variant", "")

    def encode(self, texts):
        return self.kbase.embed(list(texts))

    def store_vectors(self, texts, vectors) -> None:
        self.kbase.store_vectors(list(texts), vectors)

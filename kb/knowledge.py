"""The handle every command works through: settings, the SQLite store, Chroma, the embedder.

Heavy parts (Chroma, the model) open on first use, so ``kb stats`` stays instant.
"""
from __future__ import annotations

from functools import cached_property

from kb.config import Settings
from kb.store import Store


class KnowledgeBase:
    def __init__(self, settings: Settings, readonly: bool = False, embedder=None):
        self.settings = settings
        self.readonly = readonly
        self._embedder = embedder
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
        from kb.vectors import connect

        return connect(self.settings)

    @property
    def embedder(self):
        if self._embedder is None:
            from nlp.embed import shared_embedder

            self._embedder = shared_embedder()
        return self._embedder

    def embed(self, texts: list[str]):
        """Embeddings through the SQLite cache: a text is only ever embedded once."""
        import numpy as np

        from nlp.embed import DIMENSIONS, text_key

        keys = [text_key(t) for t in texts]
        cached = self.store.cached_vectors(list(set(keys))) if texts else {}
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in cached}.items())
        if missing:
            fresh = self.embedder.encode([t for _, t in missing])
            new = {k: v for (k, _), v in zip(missing, fresh)}
            if not self.readonly:
                with self.store.transaction():
                    self.store.cache_vectors(new)
            cached.update(new)
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([cached[k] for k in keys])

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()

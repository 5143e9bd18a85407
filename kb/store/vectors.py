"""Chroma collections of passage and recommendation vectors — derived data, rebuildable.

We always hand Chroma our own embeddings (its default embedding function would download a
model). Ids are the content-derived ids of the SQLite rows, so re-adding is an upsert.
"""
from __future__ import annotations

import logging
from typing import Iterable, Sequence
from urllib.parse import urlparse

import numpy as np

log = logging.getLogger(__name__)

PASSAGES = "passages"
RECOMMENDATIONS = "recommendations"
FINDINGS = "findings"  # barrier sentences: what reports find, compared across years
COLLECTIONS = (PASSAGES, RECOMMENDATIONS, FINDINGS)
BATCH = 2000


def reopen(settings) -> "VectorIndex":
    """A fresh view of the vectors for a long-lived reader. Embedded Chroma keeps one index per
    path and process and never sees what another process wrote to it (queries miss the new
    vectors and reading them fails with "Error finding id"); dropping the process's cached
    system makes the next client read the files again. Clients already handed out keep
    working on their old view, so requests in flight are not disturbed."""
    if not settings.chroma_url:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    return connect(settings)


def connect(settings) -> "VectorIndex":
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                     ssl=url.scheme == "https", settings=chroma_settings)
    else:
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    return VectorIndex(client)


class VectorIndex:
    def __init__(self, client):
        self.client = client
        self._collections: dict = {}

    def collection(self, name: str):
        if name not in self._collections:
            self._collections[name] = self.client.get_or_create_collection(
                name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        return self._collections[name]

    def upsert(self, name: str, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict]) -> None:
        col = self.collection(name)
        for start in range(0, len(ids), BATCH):
            end = start + BATCH
            col.upsert(ids=list(ids[start:end]), embeddings=np.asarray(vectors[start:end]),
                       metadatas=list(metadatas[start:end]))

    def delete(self, name: str, ids: Iterable[str]) -> None:
        ids = list(ids)
        col = self.collection(name)
        for start in range(0, len(ids), BATCH):
            col.delete(ids=ids[start:start + BATCH])

    def query(self, name: str, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Nearest ids with cosine similarity, best first (unfiltered: filters run in SQLite)."""
        col = self.collection(name)
        total = col.count()
        if total == 0:
            return []
        res = col.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=min(n, total),
                        include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0])]

    def all_ids(self, name: str) -> set[str]:
        col = self.collection(name)
        ids: set[str] = set()
        offset = 0
        while True:
            got = col.get(limit=5000, offset=offset, include=[])["ids"]
            if not got:
                return ids
            ids.update(got)
            offset += len(got)

    def count(self, name: str) -> int:
        return self.collection(name).count()

    def reset(self, name: str) -> None:
        try:
            self.client.delete_collection(name)
        except Exception:  # a missing collection is already reset
            pass
        self._collections.pop(name, None)

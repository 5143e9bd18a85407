"""Synthetic data at archive scale, made from real corpus sentences.

Embedding 100k real passages would take the benchmark longer than the thing it measures, so:

* texts are real corpus sentences recombined (4–8 per passage, ~130 words);
* only the distinct sentences are embedded, by the project's embedder, and each passage's
  vector is the normalised mean of its sentences' vectors plus a little noise — close to
  what the model gives a passage, and with the corpus's real topical structure;
* recommendation-like items take a real sentence's vector, a little of another's and noise
  (so most items, like most real recommendations, have no partner above the threshold), and
  one in ten re-states an earlier item (a near copy from another document), as recurrences do.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

from kb.vocabulary import SOURCES, THEMES

DOC_TYPES = ("report", "policy_paper", "guidance", "independent_report", "research")
PASSAGES_PER_DOC = 100


def _unit(m: np.ndarray) -> np.ndarray:
    return (m / np.linalg.norm(m, axis=-1, keepdims=True)).astype(np.float32)


def synth_passages(sentences: list[str], vectors: np.ndarray, n: int, seed: int = 7):
    """``n`` passages: (texts, vectors) built from real sentences and their embeddings."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(4, 9, size=n)
    picks = [rng.integers(0, len(sentences), size=k) for k in sizes]
    texts = [" ".join(sentences[i] for i in pick) for pick in picks]
    noise = rng.normal(0, 0.02, size=(n, vectors.shape[1])).astype(np.float32)
    out = np.stack([vectors[pick].mean(axis=0) for pick in picks]) + noise
    return texts, _unit(out)


CHUNK = 100_000  # passages generated and written at a time: a million never sit in memory at once


def build_search_kb(kbase, sentences: list[str], vectors: np.ndarray, n: int, seed: int = 7,
                    chroma: bool = True) -> None:
    """Fill an empty knowledge base with ``n`` synthetic passages in ``n/100`` documents:
    SQLite rows (FTS included), cached vectors and (with ``chroma``) the Chroma passage
    collection. Above ``CHUNK`` passages they are made and written a chunk at a time (the
    million-passage bench skips Chroma: the search snapshot reads vectors from the cache)."""
    if n <= CHUNK:
        _build_chunk(kbase, sentences, vectors, n, seed, 0, n, chroma)
        return
    for start in range(0, n, CHUNK):
        _build_chunk(kbase, sentences, vectors, n, seed + start, start, min(start + CHUNK, n), chroma)


def _build_chunk(kbase, sentences: list[str], vectors: np.ndarray, n: int, seed: int, first: int, last: int,
                 chroma: bool) -> None:
    """Passages ``first``..``last`` of ``n`` (documents are written with the first chunk)."""
    from kb.store.vectors import PASSAGES

    rng = np.random.default_rng(seed + 1)
    texts, pvecs = synth_passages(sentences, vectors, last - first, seed)
    n_docs = max(1, n // PASSAGES_PER_DOC)
    docs = []
    for d in range(n_docs):
        year = int(rng.integers(2008, 2026))
        docs.append((f"doc{d:06d}", hashlib.sha256(f"synthetic:{d}".encode()).hexdigest(),
                     f"https://example.org/synthetic/{d}", SOURCES[d % len(SOURCES)], f"Synthetic report {d}",
                     f"{year}-06-01", year, DOC_TYPES[d % len(DOC_TYPES)], "Synthetic", "pdf", PASSAGES_PER_DOC,
                     json.dumps({}), None, None, None, "2026-01-01T00:00:00+00:00"))
    rows, metas = [], []
    for i, text in enumerate(texts, first):
        d = i % n_docs
        themes = ""
        if rng.random() < 0.15:  # about one passage in seven states a barrier
            chosen = sorted(set(rng.choice(THEMES, size=int(rng.integers(1, 3)))))
            themes = "|" + "|".join(chosen) + "|"
        pid = hashlib.sha256(f"synthetic:{i}".encode()).hexdigest()[:32]
        rows.append((pid, docs[d][0], i // n_docs, 1 + (i // n_docs) % 40, text, themes))
        metas.append({"doc_id": docs[d][0], "source": docs[d][3], "year": docs[d][6], "page": rows[-1][3]})
    store = kbase.store
    with store.transaction() as conn:
        if first == 0:
            conn.executemany(
                """INSERT INTO documents(id, sha256, url, source, title, published, year, doc_type, publisher,
                       format, pages, identifiers, referrer, content_type, raw_path, ingested_at)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""", docs)
        conn.executemany("INSERT INTO passages(id, doc_id, seq, page, text, themes) VALUES (?,?,?,?,?,?)", rows)
        store.cache_vectors({kbase.key(t): v for t, v in zip(texts, pvecs)})
    if chroma:
        kbase.vectors.upsert(PASSAGES, [r[0] for r in rows], pvecs, metas)


def synth_recommendations(sentences: list[str], vectors: np.ndarray, n: int, seed: int = 11):
    """``n`` recurrence ``Item``s and their vectors; one in ten re-states an earlier one."""
    vectors = np.asarray(vectors, dtype=np.float32)
    from kb.analysis.recurrence import Item

    rng = np.random.default_rng(seed)
    n_docs = max(2, n // 25)
    items: list[Item] = []
    out = np.empty((n, vectors.shape[1]), dtype=np.float32)
    for i in range(n):
        doc = int(rng.integers(0, n_docs))
        if i > 10 and rng.random() < 0.1:
            src = int(rng.integers(0, i))
            words = items[src].text.split()
            words[int(rng.integers(0, len(words)))] = "also"
            text = " ".join(words)
            vec = out[src] + rng.normal(0, rng.uniform(0.3, 0.8) / np.sqrt(vectors.shape[1]), vectors.shape[1])
            doc = (int(items[src].doc_id[3:]) + 1 + doc) % n_docs
        else:
            a, b = rng.integers(0, len(sentences), size=2)
            text = sentences[a]
            # A real sentence's direction, a little of another's, and enough noise that items
            # sharing a sentence are not all near-duplicates: most recommendations are unique.
            vec = vectors[a] + 0.3 * vectors[b] + rng.normal(0, 1.0 / np.sqrt(vectors.shape[1]), vectors.shape[1])
        out[i] = vec / np.linalg.norm(vec)
        items.append(Item(f"r{i}", f"doc{doc}", 2008 + doc % 18, text))
    return items, out

"""Recurrence grouping time on synthetic recommendation-like items (vectors given: the
embeddings are cached in a real knowledge base, so regrouping never re-embeds)."""
from __future__ import annotations

import time

import numpy as np


def bench_recurrence(n: int, sentences: list[str], vectors: np.ndarray, threshold: float) -> dict:
    from bench.synth import synth_recommendations
    from kb.analysis.recurrence import group_items

    items, vecs = synth_recommendations(sentences, vectors, n)
    started = time.perf_counter()
    groups = group_items(items, vecs, threshold)
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "groups": len(groups),
            "grouped_items": sum(len(g.members) for g in groups)}

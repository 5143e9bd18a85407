"""Hybrid search latency (query embedding included) over a synthetic knowledge base.

The knowledge base is opened read-only, as the web server opens it, so every query is
embedded afresh (a read-only handle never writes the embedding cache). Each size is timed
twice: straight on SQLite/FTS5/Chroma (``sql_*``: a one-shot ``kb search``), then with the
in-memory snapshot the web server keeps (``kb/store/snapshot.py``), which gives the headline.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from bench.corpus import REPO

EXTRA_QUERIES = [
    "pooled budgets under the Better Care Fund",
    "shared care records and interoperability",
    "delayed transfers of care",
    "integrated care boards accountability",
    "social care workforce vacancies and pay",
    "evaluation of new care models",
    "prevention and population health",
    "hospital discharge funding",
]
FILTERS = [
    {"theme": "workforce"},
    {"source": "nao"},
    {"year_from": 2018},
    {"source": "govuk", "year_from": 2015, "year_to": 2020},
    {"doc_type": "guidance"},
    {"theme": "information_sharing", "source": "parliament"},
]


def queries() -> list[str]:
    judged = json.loads((REPO / "bench" / "search_judgements.json").read_text())
    return [j["query"] for j in judged] + EXTRA_QUERIES


def _percentiles(times: list[float]) -> tuple[float, float]:
    ms = np.array(times) * 1000
    return round(float(np.percentile(ms, 50)), 1), round(float(np.percentile(ms, 95)), 1)


def time_searches(kbase, rounds: int = 2) -> dict:
    from kb.search.engine import Filters, search

    qs = queries()
    for q in qs[:3]:  # warm-up: model, Chroma's index load, SQLite page cache
        search(kbase, q)
    plain, filtered = [], []
    for _ in range(rounds):
        for i, q in enumerate(qs):
            started = time.perf_counter()
            search(kbase, q)
            plain.append(time.perf_counter() - started)
            started = time.perf_counter()
            search(kbase, q, filters=Filters(**FILTERS[i % len(FILTERS)]))
            filtered.append(time.perf_counter() - started)
    p50, p95 = _percentiles(plain)
    f50, f95 = _percentiles(filtered)
    return {"p50": p50, "p95": p95, "filtered_p50": f50, "filtered_p95": f95, "queries": len(plain)}


def bench_search(n: int, sentences: list[str], vectors: np.ndarray, workdir: Path, settings_for) -> dict:
    """Build an ``n``-passage knowledge base under ``workdir`` and time searches over it."""
    from bench.synth import build_search_kb
    from kb.store.knowledge import KnowledgeBase

    home = workdir / f"search-{n}"
    writer = KnowledgeBase(settings_for(home))
    started = time.perf_counter()
    build_search_kb(writer, sentences, vectors, n)
    build_s = time.perf_counter() - started
    writer.close()
    reader = KnowledgeBase(settings_for(home), readonly=True)
    try:
        sql = time_searches(reader)  # a one-shot reader: FTS5, Chroma and SQL filters
        snap = reader.snapshots.build_now()  # what the web server keeps (kb/store/snapshot.py)
        result = time_searches(reader) if snap is not None else dict(sql)
    finally:
        reader.close()
    result.update({f"sql_{name}": value for name, value in sql.items() if name != "queries"})
    result["build_s"] = round(build_s, 1)
    result["snapshot_s"] = snap.built_s if snap is not None else None
    result["snapshot_mb"] = round(snapshot_bytes(snap) / 1e6, 1) if snap is not None else None
    return result


def snapshot_bytes(snap) -> int:
    """The snapshot's arrays (ids and the token dictionary add little beside them)."""
    return sum(v.nbytes for v in vars(snap).values() if isinstance(v, np.ndarray))

"""Hybrid search latency (query embedding included) over a synthetic knowledge base.

The knowledge base is opened read-only, as the web server opens it, so every query is
embedded afresh (a read-only handle never writes the embedding cache). Each size is timed
twice: straight on SQLite/FTS5/Chroma (``sql_*``: what answers while no snapshot is current),
then with the search snapshot (``kb/store/snapshot.py``, memory-mapped from disk), which
gives the headline; then ``cold_search_s``: a fresh ``kb search`` process per new query.
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
    kbase.embedder.model  # a server has its model loaded (webapp/serve.py warm_up)
    for q in qs[:3]:  # warm-up: Chroma's index load, SQLite page cache
        search(kbase, q)
    plain, filtered, plain_cpu, filtered_cpu = [], [], [], []
    for _ in range(rounds):
        for i, q in enumerate(qs):
            started, cpu = time.perf_counter(), time.process_time()
            search(kbase, q)
            plain.append(time.perf_counter() - started)
            plain_cpu.append(time.process_time() - cpu)
            started, cpu = time.perf_counter(), time.process_time()
            search(kbase, q, filters=Filters(**FILTERS[i % len(FILTERS)]))
            filtered.append(time.perf_counter() - started)
            filtered_cpu.append(time.process_time() - cpu)
    p50, p95 = _percentiles(plain)
    f50, f95 = _percentiles(filtered)
    # CPU time of this process per query (all its threads): what a quiet machine's wall clock
    # would show, when other work on the cores stretches the wall clock.
    c50, c95 = _percentiles(plain_cpu)
    fc50, fc95 = _percentiles(filtered_cpu)
    return {"p50": p50, "p95": p95, "filtered_p50": f50, "filtered_p95": f95, "queries": len(plain),
            "cpu_p50": c50, "cpu_p95": c95, "filtered_cpu_p50": fc50, "filtered_cpu_p95": fc95}


# Never in the judgements or the timed queries above, so never cached: each costs a real embedding.
COLD_QUERIES = [
    "respite breaks for unpaid carers",
    "capital funding for community diagnostic centres",
    "councils' market shaping of home care providers",
    "digital social care records in residential homes",
    "mental health crisis beds and out-of-area placements",
]


def bench_search(n: int, sentences: list[str], vectors: np.ndarray, workdir: Path, settings_for,
                 sql: bool = True, cold: bool = True) -> dict:
    """Build an ``n``-passage knowledge base under ``workdir`` and time searches over it: on
    SQLite/FTS5/Chroma (``sql``, skipped for the million, which has no Chroma), on the search
    snapshot, and as one-shot ``kb search`` processes of new queries (``cold``)."""
    from bench.synth import build_search_kb
    from kb.store.knowledge import KnowledgeBase

    home = workdir / f"search-{n}"
    writer = KnowledgeBase(settings_for(home))
    started = time.perf_counter()
    build_search_kb(writer, sentences, vectors, n, chroma=sql)
    build_s = time.perf_counter() - started
    writer.close()
    reader = KnowledgeBase(settings_for(home), readonly=True)
    try:
        sql_times = time_searches(reader) if sql else {}  # a one-shot reader: FTS5, Chroma and SQL filters
        snap = reader.snapshots.build_now(min_passages=0)  # written to disk, memory-mapped (kb/store/snapshot.py)
        result = time_searches(reader)
    finally:
        reader.close()
    result.update({f"sql_{name}": value for name, value in sql_times.items() if name != "queries"})
    result["build_s"] = round(build_s, 1)
    result["snapshot_s"] = snap.built_s if snap is not None else None
    result["snapshot_mb"] = round(snapshot_bytes(settings_for(home)) / 1e6, 1) if snap is not None else None
    if cold:
        result["cold_search_s"] = cold_search(home)
    return result


def snapshot_bytes(settings) -> int:
    """The snapshot's size on disk (every array, the token dictionary and the manifest)."""
    from kb.store.snapshot_files import snapshot_dir

    return sum(f.stat().st_size for f in snapshot_dir(settings).rglob("*") if f.is_file())


def cold_search(home: Path, queries: list[str] = COLD_QUERIES) -> float:
    """Median wall time of ``kb search QUERY`` in a fresh process, one per never-seen query:
    what a researcher in a terminal waits for (imports, opening the snapshot, embedding)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, KB_HOME=str(home), PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.pop("KB_CHROMA_URL", None)
    times = []
    for query in queries:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kb.cli", "search", query], env=env, cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        times.append(time.perf_counter() - started)
    return round(float(np.median(times)), 2)

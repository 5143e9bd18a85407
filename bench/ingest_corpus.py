"""End-to-end ``kb ingest`` of the corpus into an empty knowledge base, as a user runs it.

A child process, so the peak resident memory measured (``wait4``'s ``ru_maxrss``) is the
ingest's own, model and Chroma included, and nothing is warm from the benchmark process.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.corpus import REPO


def run_ingest(home: Path, paths: list[Path]) -> tuple[float, float, dict, float]:
    """Seconds, peak RSS in MB, the JSON summary and the CPU seconds (user + system, all
    threads) of one ``kb ingest`` run. The CPU time is what a busy machine cannot inflate:
    wall time there is mostly waiting for a core."""
    env = dict(os.environ, KB_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", PYTHONPATH=str(REPO))
    env.pop("KB_CHROMA_URL", None)
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "ingest", "--json", *map(str, paths)],
                            cwd=REPO, env=env, stdout=out, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    if proc.returncode not in (0, 1):  # 1: some files failed, reported in the summary
        raise RuntimeError(f"kb ingest exited {proc.returncode}: {err.read().decode()[-2000:]}")
    report = json.loads(out.read() or b"{}")
    return seconds, usage.ru_maxrss / 1024, report.get("summary", {}), usage.ru_utime + usage.ru_stime


def bench_ingest(paths: list[Path], workdir: Path) -> dict:
    home = workdir / "ingest-kb"
    seconds, rss, summary, cpu = run_ingest(home, paths)
    again, _, _, _ = run_ingest(home, paths)  # unchanged files: hashing and lookups only
    import sqlite3

    with sqlite3.connect(home / "kb.sqlite") as conn:
        passages = conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        pages = conn.execute("SELECT COALESCE(SUM(pages), 0) FROM documents").fetchone()[0]
    return {
        "ingest_corpus_s": round(seconds, 1),
        "ingest_cpu_s": round(cpu, 1),
        "ingest_peak_rss_mb": round(rss),
        "reingest_unchanged_s": round(again, 1),
        "ingest_files": len(paths),
        "ingest_summary": summary,
        "ingest_passages": passages,
        "ingest_pdf_pages": pages,
    }

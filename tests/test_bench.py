"""The benchmark suite runs end to end: CI's smoke test of ``bench/run.py --quick``.

Benchmarks are not timed tests: this checks that every metric of the performance issue is
measured and written, never how fast anything was.
"""
import json
import math
import subprocess
import sys

import pytest

from conftest import CORPUS, REPO, kb_env

pytestmark = pytest.mark.slow

REQUIRED = [
    "embed_per_s", "naive_embed_per_s", "embed_cosine_min",
    "ingest_corpus_s", "ingest_peak_rss_mb",
    "search_p50_ms", "search_p95_ms", "filtered_search_p95_ms",
    "search_p50_ms_10k", "search_p95_ms_10k", "filtered_search_p95_ms_10k",
    "cold_search_s", "search_snapshot_mb_100k",
    "recurrence_s_10k", "recurrence_s_100k",
    "extract_words_per_s",
]


def test_quick_benchmark_writes_every_metric(tmp_path):
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "bench/run.py", "--quick", "--json", str(out)], cwd=REPO,
                          env=kb_env(tmp_path / "home"), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads(out.read_text())
    for key in REQUIRED:
        assert isinstance(metrics[key], (int, float)) and math.isfinite(metrics[key]) and metrics[key] > 0, key
    assert metrics["quick"] is True
    assert 0.98 <= metrics["embed_cosine_min"] <= 1.0001  # the quality bar of the faster embedder
    assert metrics["ingest_summary"]["failed"] == 0
    assert "| `search_p95_ms` |" in proc.stdout  # the Markdown table the README is pasted from


def test_unknown_section_is_a_one_line_error(tmp_path):
    proc = subprocess.run([sys.executable, "bench/run.py", "--only", "embed,nonsense"], cwd=REPO,
                          env=kb_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "bench: error: unknown section(s) nonsense; expected embed, ingest, search, recurrence, extract"]

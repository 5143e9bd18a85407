"""Refrain's benchmark suite: ``python bench/run.py [--quick] [--json PATH] [--only NAMES]``.

One run measures embedding throughput, end-to-end corpus ingest, hybrid search latency at
10k and 100k passages (and a million with ``--large``) and a one-shot ``kb search``'s wall time, recurrence grouping at 10k and 100k items and extraction speed, then
prints a Markdown table (the README's Performance section is pasted from it) and writes the
metrics as JSON. ``--quick`` runs everything at small sizes in a couple of minutes: CI runs it
as a smoke test only — benchmarks are never timed tests.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_name, _value)

SECTIONS = ("embed", "ingest", "search", "recurrence", "extract")
FULL = {"embed_sentences": 1000, "base_sentences": 2000, "search": (10_000, 100_000), "search_large": 1_000_000,
        "recurrence": (10_000, 100_000), "ingest_files": None, "extract_pdf": "largest"}
QUICK = {"embed_sentences": 64, "base_sentences": 400, "search": (1_000, 3_000), "search_large": 10_000,
         "recurrence": (1_000, 3_000), "ingest_files": 3, "extract_pdf": "smallest"}
# (metric, target, 'min' when the value must reach the target, 'max' when it must stay under)
# bench_search's timings -> metric names (each also as sql_<name>, without the snapshot)
SEARCH_METRICS = {"p50": "search_p50_ms", "p95": "search_p95_ms",
                  "filtered_p50": "filtered_search_p50_ms", "filtered_p95": "filtered_search_p95_ms",
                  # CPU per query (time.process_time), beside the wall clock other jobs stretch
                  "cpu_p50": "search_cpu_p50_ms", "cpu_p95": "search_cpu_p95_ms",
                  "filtered_cpu_p50": "filtered_search_cpu_p50_ms", "filtered_cpu_p95": "filtered_search_cpu_p95_ms"}
TARGETS = [
    ("embed_speedup", 1.5, "min"),
    ("embed_cosine_min", 0.98, "min"),
    ("ingest_corpus_s", 180, "max"),
    ("ingest_peak_rss_mb", 3000, "max"),
    ("search_p95_ms", 50, "max"),
    ("filtered_search_p95_ms", 50, "max"),
    ("cold_search_s", 1.0, "max"),
    ("search_p95_ms_1m", 50, "max"),
    ("filtered_search_p95_ms_1m", 50, "max"),
    ("search_snapshot_mb_1m", 1500, "max"),
    ("search_snapshot_s_1m", 60, "max"),
    ("recurrence_s_100k", 60, "max"),
]


def machine() -> dict:
    from nlp.embed import BF16_CPU_FLAGS, cpu_flags

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "torch": torch.__version__,
            "load_avg_start": [round(x, 2) for x in os.getloadavg()],
            "bf16_native": bool(cpu_flags() & set(BF16_CPU_FLAGS)), "vnni": "avx512_vnni" in cpu_flags()}


def settings_for(home: Path):
    from kb.config import Settings

    return dataclasses.replace(Settings.from_env(home), chroma_url=None)


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(quick: bool, only: set[str], workdir: Path, save=lambda result: None, big: bool = False) -> dict:
    from bench import corpus
    from nlp.embed import resolve_backend

    sizes = QUICK if quick else FULL
    settings = settings_for(workdir / "unused")
    out: dict = {"quick": quick, "machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                 "embed_backend": resolve_backend(settings.embed_backend)}
    base_texts = base_vectors = None

    def base():
        nonlocal base_texts, base_vectors
        if base_texts is None:
            from nlp.embed import Embedder

            base_texts = corpus.sample_sentences(sizes["base_sentences"])
            base_texts += [s for s in corpus.recommendation_like() if s not in set(base_texts)]
            _say(f"embedding {len(base_texts)} corpus sentences for the synthetic data")
            base_vectors = Embedder(batch_size=settings.embed_batch_size, backend=settings.embed_backend) \
                .encode(base_texts)
        return base_texts, base_vectors

    if "embed" in only:
        from bench.embedding import bench_embedding

        texts = corpus.sample_sentences(sizes["embed_sentences"])
        _say(f"embedding {len(texts)} sentences: fp32 naive, then {settings.embed_backend}")
        out.update(bench_embedding(texts, settings.embed_backend, settings.embed_batch_size))
    save(out)  # what is measured so far survives an interrupted run
    if "ingest" in only:
        from bench.ingest_corpus import bench_ingest

        files = corpus.corpus_files()
        if sizes["ingest_files"]:
            files = sorted((f for f in files if f.suffix.lower() != ".pdf"), key=lambda p: p.stat().st_size)
            files = files[len(files) // 2: len(files) // 2 + sizes["ingest_files"]]
        _say(f"kb ingest of {len(files)} corpus files into an empty knowledge base")
        out.update(bench_ingest(files, workdir))
    save(out)  # what is measured so far survives an interrupted run
    if "search" in only:
        from bench.search_speed import bench_search

        texts, vectors = base()
        small, large = sizes["search"]
        runs = [(small, "_10k"), (large, "")]
        if big:  # opt-in (--large): a million passages, SQLite and the snapshot only
            runs.append((sizes["search_large"], "_1m"))
        for n, suffix in runs:
            _say(f"search over {n} synthetic passages (building the knowledge base first)")
            r = bench_search(n, texts, vectors, workdir, settings_for, sql=suffix != "_1m",
                             cold=suffix == "")  # cold_search_s: the bench's (100k) knowledge base
            for name, metric in SEARCH_METRICS.items():
                out[f"{metric}{suffix}"] = r[name]
                if f"sql_{name}" in r:
                    out[f"sql_{metric}{suffix}"] = r[f"sql_{name}"]
            out[f"search_build_s{suffix or '_100k'}"] = r["build_s"]
            out[f"search_snapshot_s{suffix or '_100k'}"] = r["snapshot_s"]
            out[f"search_snapshot_mb{suffix or '_100k'}"] = r["snapshot_mb"]
            if "cold_search_s" in r:
                out[f"cold_search_s{suffix}"] = r["cold_search_s"]
            _say(f"{n} passages: p95 {r['p95']} ms, filtered p95 {r['filtered_p95']} ms, "
                 f"snapshot {r['snapshot_s']} s / {r['snapshot_mb']} MB, cold {r.get('cold_search_s')} s")
            save(out)
        out["search_passages"] = [n for n, _ in runs]
    save(out)  # what is measured so far survives an interrupted run
    if "recurrence" in only:
        from bench.recurrence_speed import bench_recurrence

        texts, vectors = base()
        for n, key in zip(sizes["recurrence"], ("recurrence_s_10k", "recurrence_s_100k")):
            _say(f"recurrence grouping of {n} synthetic recommendations")
            r = bench_recurrence(n, texts, vectors, settings.recurrence_threshold)
            out[key] = r["seconds"]
            out[key.replace("_s_", "_groups_")] = r["groups"]
        out["recurrence_items"] = list(sizes["recurrence"])
    save(out)  # what is measured so far survives an interrupted run
    if "extract" in only:
        from bench.extraction import bench_extract
        from nlp.embed import Embedder

        pdf = corpus.largest_pdf() if sizes["extract_pdf"] == "largest" else corpus.smallest_pdf()
        _say(f"extraction of {pdf.name}")
        out.update(bench_extract(pdf, Embedder(batch_size=settings.embed_batch_size,
                                               backend=settings.embed_backend)))
    save(out)  # what is measured so far survives an interrupted run
    out["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    out["checks"] = {name: _check(out.get(name), target, how) for name, target, how in TARGETS if name in out}
    return out


def _check(value, target, how) -> str:
    if value is None:
        return "n/a"
    ok = value >= target if how == "min" else value <= target
    return "met" if ok else "missed"


def markdown(result: dict) -> str:
    """The README table: metric, value, target."""
    targets = {name: (target, how) for name, target, how in TARGETS}
    rows = ["| metric | value | target |", "| --- | --- | --- |"]
    for name, value in result.items():
        if isinstance(value, (dict, list)) or name in ("quick", "started", "embed_backend", "checks"):
            continue
        target = ""
        if name in targets:
            t, how = targets[name]
            target = f"{'≥' if how == 'min' else '≤'} {t} ({result['checks'].get(name)})"
        rows.append(f"| `{name}` | {value} | {target} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test in a couple of minutes")
    parser.add_argument("--json", metavar="PATH", help="write the metrics as JSON to PATH")
    parser.add_argument("--large", action="store_true",
                        help="also search a million synthetic passages (needs ~4 GB RAM and 10+ minutes)")
    parser.add_argument("--only", metavar="NAMES", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {','.join(SECTIONS)}")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        print(f"bench: error: unknown section(s) {', '.join(sorted(unknown))}; expected {', '.join(SECTIONS)}",
              file=sys.stderr)
        return 2
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="refrain-bench-") as tmp:
        def save(result: dict) -> None:
            if args.json:
                Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

        result = run(args.quick, only, Path(tmp), save, big=args.large)
    result["bench_wall_s"] = round(time.perf_counter() - started, 1)
    print(markdown(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        _say(f"metrics written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

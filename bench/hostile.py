"""Server memory and response sizes on a hostile document: one 5 MB line of "£5.3 billion".

Ingesting such a file is itself slow (issue 17), so this builds the knowledge base the honest
short way: a real ``kb ingest`` of one small file, then that document given what extraction
gives the hostile file — its 5 MB text as its one page and one funding row per "£5.3 billion"
(357,142) — inserted with SQL. Then ``kb serve`` runs in its own process and every route that
shows the document or its figures is fetched while the server's peak RSS (VmHWM) is read.

    python bench/hostile.py [--home /tmp/kb-hostile] [--json]

``--ingest`` instead times a real ``kb ingest`` of each hostile shape of ``bench/shapes.py`` at
full size (the 5.6 MB line of "£5.3 billion", a 3,000-page PDF, an HTML page of 200,000 links,
a 1 MB Markdown table, a 10 MB GOV.UK JSON body, a PDF table of 10,000 £ figures), each into an
empty knowledge base in a child process: wall seconds, CPU seconds, peak RSS, the outcome and
the caps hit (keys ``hostile_<shape>_s``, ``_cpu_s``, ``_rss_mb``, ``_status``, ``_reason``,
``_capped``).

    python bench/hostile.py --ingest [--only long_pdf,links_html] [--workdir /tmp/shapes] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PHRASE = "£5.3 billion "
SIZE = 5_000_000


def build(home: Path) -> str:
    sample = home.parent / f"{home.name}-inbox"
    sample.mkdir(parents=True, exist_ok=True)
    (sample / "hostile.txt").write_text("Hostile funding note\n\nThe fund is worth £5.3 billion.\n")
    env = dict(os.environ, KB_HOME=str(home), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    subprocess.run([sys.executable, "-m", "kb.cli", "ingest", str(sample)], cwd=REPO, env=env, check=True,
                   capture_output=True)
    conn = sqlite3.connect(home / "kb.sqlite")
    doc_id = conn.execute("SELECT id FROM documents").fetchone()[0]
    text = PHRASE * (SIZE // len(PHRASE.encode()))
    n = text.count("£")
    with conn:
        conn.execute("DELETE FROM pages WHERE doc_id = ?", (doc_id,))
        conn.execute("INSERT INTO pages(doc_id, page, text) VALUES (?, 1, ?)", (doc_id, text))
        conn.execute("DELETE FROM funding WHERE doc_id = ?", (doc_id,))
        columns = [r[1] for r in conn.execute("PRAGMA table_info(funding)")]
        row = {"doc_id": doc_id, "amount_gbp": 5.3e9, "mention": "£5.3 billion", "subject": None, "period": None,
               "kind": "other", "sentence": text[:2000], "page": 1, "per_unit": 0}
        names = [c for c in columns if c in row]
        sql = f"INSERT INTO funding({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        conn.executemany(sql, ([row[c] for c in names] for _ in range(n)))
    conn.close()
    return doc_id


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def ingest_shape(path: Path, home: Path) -> dict:
    """One ``kb ingest`` of ``path`` into ``home`` in a child process: times, peak RSS, outcome."""
    import shutil
    import tempfile

    shutil.rmtree(home, ignore_errors=True)
    env = dict(os.environ, KB_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", PYTHONPATH=str(REPO))
    out = tempfile.TemporaryFile()
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "ingest", "--json", str(path)], cwd=REPO, env=env,
                            stdout=out, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    out.seek(0)
    result = (json.loads(out.read() or b"{}").get("results") or [{}])[0]
    return {"s": round(seconds, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "rss_mb": round(usage.ru_maxrss / 1024), "status": result.get("status"),
            "reason": result.get("reason"), "capped": result.get("capped"), "bytes": path.stat().st_size}


def bench_shapes(workdir: Path, only: list[str] | None = None) -> dict:
    """``hostile_<shape>_*`` keys for every shape (made once under ``workdir``, then reused)."""
    sys.path.insert(0, str(REPO))
    from bench.shapes import MAKERS, make

    out: dict = {}
    for name in only or MAKERS:
        ext = MAKERS[name][1]
        path = workdir / f"{name}.{ext}"
        if not path.is_file():
            path = make(name, workdir)
        for key, value in ingest_shape(path, workdir / f"kb-{name}").items():
            out[f"hostile_{name}_{key}"] = value
        print(f"{name}: {out[f'hostile_{name}_s']} s, {out[f'hostile_{name}_cpu_s']} CPU s, "
              f"{out[f'hostile_{name}_rss_mb']} MB, {out[f'hostile_{name}_status']}"
              f"{' — ' + str(out[f'hostile_{name}_reason']) if out[f'hostile_{name}_reason'] else ''}"
              f"{' capped ' + str(out[f'hostile_{name}_capped']) if out[f'hostile_{name}_capped'] else ''}",
              file=sys.stderr, flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, default=Path("/tmp/kb-hostile"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--ingest", action="store_true", help="time kb ingest of each hostile shape")
    parser.add_argument("--only", help="comma-separated shapes (with --ingest)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/kb-hostile-shapes"))
    args = parser.parse_args()
    if args.ingest:
        args.workdir.mkdir(parents=True, exist_ok=True)
        report = bench_shapes(args.workdir.resolve(), args.only.split(",") if args.only else None)
        print(json.dumps(report, indent=2))
        return 0
    home = args.home.resolve()
    if not (home / "kb.sqlite").is_file():
        build(home)
    doc_id = sqlite3.connect(home / "kb.sqlite").execute("SELECT id FROM documents").fetchone()[0]
    env = dict(os.environ, KB_HOME=str(home), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    server = subprocess.Popen([sys.executable, "-m", "kb.cli", "serve", "--port", "0"], cwd=REPO, env=env,
                              stderr=subprocess.PIPE, text=True)
    try:
        url = None
        while url is None:
            line = server.stderr.readline()
            match = re.search(r"serving at (http://\S+)", line)
            url = match.group(1) if match else None
        time.sleep(3)
        report = {"documents_funding_rows": None, "baseline_rss_mb": round(rss_mb(server.pid)), "routes": []}
        for path in (f"/documents/{doc_id}", f"/documents/{doc_id}?part=2", f"/api/documents/{doc_id}",
                     "/api/funding?format=csv", "/api/funding", "/funding"):
            began = time.monotonic()
            with urllib.request.urlopen(url + path, timeout=600) as response:
                size = len(response.read())
            report["routes"].append({"path": path.replace(doc_id, "<id>"), "bytes": size,
                                     "seconds": round(time.monotonic() - began, 2),
                                     "peak_rss_mb": round(peak_rss_mb(server.pid))})
        # Four readers of the document page at once (before: 42-66 s each, 7.8 GB RSS).
        from concurrent.futures import ThreadPoolExecutor

        def fetch(path: str) -> tuple[int, float]:
            began = time.monotonic()
            with urllib.request.urlopen(url + path, timeout=600) as response:
                return len(response.read()), time.monotonic() - began

        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(fetch, [f"/documents/{doc_id}", f"/documents/{doc_id}?part=3",
                                        f"/api/documents/{doc_id}", f"/documents/{doc_id}?part=4"]))
        report["four_at_once"] = {"seconds": [round(t, 2) for _, t in got], "bytes": [b for b, _ in got],
                                  "peak_rss_mb": round(peak_rss_mb(server.pid))}
        report["documents_funding_rows"] = sqlite3.connect(home / "kb.sqlite").execute(
            "SELECT COUNT(*) FROM funding").fetchone()[0]
        report["final_rss_mb"] = round(rss_mb(server.pid))
    finally:
        server.terminate()
        server.wait(30)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for r in report["routes"]:
            print(f"{r['path']:32} {r['bytes']:>12,} B {r['seconds']:>7} s  peak RSS {r['peak_rss_mb']} MB")
        four = report["four_at_once"]
        print(f"four document pages at once: {four['seconds']} s, peak RSS {four['peak_rss_mb']} MB")
        print(f"baseline RSS {report['baseline_rss_mb']} MB, final {report['final_rss_mb']} MB, "
              f"{report['documents_funding_rows']:,} funding rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

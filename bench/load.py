"""Bounded load test of the production server on loopback.

Starts ``kb serve`` (waitress) over a knowledge base — the demo one, built here with
``kb demo --no-serve`` unless ``--home`` names an existing one — and lets N client threads send
a mix of page, search and API requests for D seconds, each over its own keep-alive connection.
Reports requests per second, latency percentiles, the error rate (any status other than 200,
or a broken connection) and the server's resident memory at the start, the end and its peak.

    python bench/load.py                       # 32 clients for 60 s over a fresh demo KB
    python bench/load.py --home kbdata --quick # 4 clients for 10 s over an existing KB
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode, urlparse

REPO = Path(__file__).resolve().parent.parent
QUERIES = ["information governance", "home care workforce", "Better Care Fund", "delayed discharge",
           "pooled budgets", "data sharing between NHS and councils", "social care precept",
           "\"Better Care Fund\" -precept", "integration barriers", "funding pressures in adult social care"]
THEMES = ["information_sharing", "workforce", "funding_pressure", "governance_and_accountability"]
SOURCES = ["nao", "govuk", "nhs-digital", "parliament"]


def kb_env(home: Path) -> dict:
    return dict(os.environ, KB_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO))


def build_demo(home: Path) -> None:
    print(f"building the demo knowledge base in {home} …", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "kb.cli", "demo", "--no-serve", "--json"], cwd=REPO, env=kb_env(home),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_server(home: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "serve", "--port", "0"], cwd=REPO,
                            env=kb_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stderr.readline()
        m = re.search(r"serving at (http://\S+)", line or "")
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # drain
            return proc, m.group(1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("the server did not start")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def targets(home: Path) -> tuple[list[str], list[str]]:
    conn = sqlite3.connect(f"file:{home / 'kb.sqlite'}?mode=ro", uri=True)
    docs = [r[0] for r in conn.execute("SELECT id FROM documents")]
    groups = [r[0] for r in conn.execute("SELECT id FROM recurrence_groups")]
    conn.close()
    return docs, groups


def next_request(rng: random.Random, docs: list[str], groups: list[str]) -> tuple[str, str]:
    """(route name, path) drawn from the mix: searches dominate, as they do for real visitors."""
    q = rng.choice(QUERIES)
    params = {"q": q}
    if rng.random() < 0.4:
        params[rng.choice(["theme", "source", "from"])] = None
        if "theme" in params:
            params["theme"] = rng.choice(THEMES)
        if "source" in params:
            params["source"] = rng.choice(SOURCES)
        if "from" in params:
            params["from"] = str(rng.randint(2014, 2020))
    r = rng.random()
    if r < 0.30:
        return "/search", "/search?" + urlencode(params)
    if r < 0.50:
        return "/api/search", "/api/search?" + urlencode(params)
    if r < 0.65 and docs:
        return "/documents/<id>", f"/documents/{rng.choice(docs)}"
    if r < 0.75 and docs:
        return "/api/documents/<id>", f"/api/documents/{rng.choice(docs)}"
    if r < 0.82:
        return "/recurrences", "/recurrences"
    if r < 0.87 and groups:
        return "/recurrences/<id>", f"/recurrences/{rng.choice(groups)}"
    if r < 0.89:
        return "/api/recurrences", "/api/recurrences?min_years=2"
    if r < 0.91:
        return "/barriers/<theme>", f"/barriers/{rng.choice(THEMES)}"
    if r < 0.92:
        return "/barriers", "/barriers"
    if r < 0.94:
        return "/funding", "/funding?" + urlencode({"sort": rng.choice(["amount", "year", "kind"])})
    if r < 0.95:
        return "/api/funding", "/api/funding"
    if r < 0.96:
        return "/api/lifecycle", "/api/lifecycle"
    if r < 0.97:
        return "/api/stats", "/api/stats"
    if r < 0.99:
        return "/about", "/about"
    return "/", "/"


def client(base: str, stop_at: float, seed: int, docs, groups, out: list, lock: threading.Lock) -> None:
    url = urlparse(base)
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    mine = []
    while time.time() < stop_at:
        route, path = next_request(rng, docs, groups)
        t0 = time.perf_counter()
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            status = f"{type(exc).__name__}"
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        mine.append((route, status, time.perf_counter() - t0))
    conn.close()
    with lock:
        out.extend(mine)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run(home: Path, clients: int, duration: float) -> dict:
    docs, groups = targets(home)
    server, base = start_server(home)
    try:
        # Warm up: the first search loads the model; the load starts once it answers.
        conn_url = urlparse(base)
        for _ in range(120):
            try:
                c = http.client.HTTPConnection(conn_url.hostname, conn_url.port, timeout=120)
                c.request("GET", "/api/search?q=warm+up")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        rss_start = rss_mb(server.pid)
        samples = [rss_start]
        results: list = []
        lock = threading.Lock()
        stop_at = time.time() + duration
        threads = [threading.Thread(target=client, args=(base, stop_at, i, docs, groups, results, lock))
                   for i in range(clients)]
        t0 = time.time()
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            time.sleep(1.0)
            samples.append(rss_mb(server.pid))
        elapsed = time.time() - t0
        rss_end = rss_mb(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    latencies = [r[2] for r in results]
    errors = [r for r in results if r[1] != 200]
    routes: dict = defaultdict(list)
    for route, status, latency in results:
        routes[route].append(latency)
    by_error: dict = defaultdict(int)
    for route, status, _ in errors:
        by_error[f"{route} {status}"] += 1
    return {
        "clients": clients, "duration_s": round(elapsed, 1), "requests": len(results),
        "requests_per_s": round(len(results) / elapsed, 1),
        "latency_ms": {p: round(percentile(latencies, float(p[1:])) * 1000, 1) for p in ("p50", "p95", "p99")}
        | {"max": round(max(latencies, default=0) * 1000, 1)},
        "errors": len(errors), "error_rate": round(len(errors) / max(1, len(results)), 5),
        "errors_by_route": dict(by_error),
        "server_rss_mb": {"start": round(rss_start, 1), "end": round(rss_end, 1), "max": round(max(samples), 1)},
        "routes": {r: {"requests": len(v), "p95_ms": round(percentile(v, 95) * 1000, 1)}
                   for r, v in sorted(routes.items())},
        "documents": len(docs), "load_average": os.getloadavg(), "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--home", help="an existing knowledge base (default: build the demo one in a temp folder)")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    p.add_argument("--quick", action="store_true", help="4 clients for 10 s")
    p.add_argument("--json", action="store_true", help="print only the JSON report")
    args = p.parse_args(argv)
    clients, duration = (4, 10.0) if args.quick else (args.clients, args.duration)
    with tempfile.TemporaryDirectory(prefix="refrain-load-") as tmp:
        home = Path(args.home).resolve() if args.home else Path(tmp) / "kb"
        if not (home / "kb.sqlite").is_file():
            if args.home:
                raise SystemExit(f"no knowledge base in {home}")
            build_demo(home)
        report = run(home, clients, duration)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        lat = report["latency_ms"]
        print(f"{report['clients']} clients × {report['duration_s']} s: {report['requests']} requests, "
              f"{report['requests_per_s']} req/s, p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms, "
              f"errors {report['errors']} ({report['error_rate']:.2%}); server RSS {report['server_rss_mb']}")
        for route, r in report["routes"].items():
            print(f"  {route:22} {r['requests']:6} requests  p95 {r['p95_ms']} ms")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

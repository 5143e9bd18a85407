"""The crawler against a misbehaving publisher: a real HTTP server on 127.0.0.1 whose pages
are slow, missing, huge, truncated, redirected off-site, or unchanged since last time.

Every crawl here is the real thing (``python -m crawler.run`` in a subprocess: Scrapy, its
downloader and our middlewares against real sockets). The site is an NAO-shaped listing →
report page → PDFs, built per test from a small table of routes.
"""
from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from demosite.site import render_pdf

REPO = Path(__file__).resolve().parent.parent


# -- a publisher we control -------------------------------------------------------------------


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "application/pdf"
    statuses: list[int] = field(default_factory=list)  # served in turn before the final 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    validators: bool = True  # send ETag / Last-Modified and answer 304 when they match
    short_by: int = 0  # announce this many more bytes than are sent, then hang up


class Publisher:
    """Routes, plus a log of every request as (path, status, request headers, time)."""

    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, int, dict, float]] = []
        self.lock = threading.Lock()
        self.base_url = ""

    def add_report(self, slug: str, title: str, published: str, pdfs: dict[str, Route]) -> None:
        links = "".join(f'<li><a href="{href}">Appendix {n}</a></li>' for n, href in enumerate(pdfs, 1))
        page = f"""<html><head><meta property="article:published_time" content="{published}"></head>
<body><h1 class="entry-title">{title}</h1><p class="report-hc">HC 42 Session 2019–20</p>
<ul class="report-downloads">{links}</ul></body></html>"""
        self.routes[f"/reports/{slug}/"] = Route(page.encode(), "text/html; charset=utf-8", validators=False)
        self.routes.update(pdfs)
        cards = "".join(
            f'<article class="report-card"><h3><a href="{path}">{path}</a></h3><time datetime="2020-01-15"></time></article>'
            for path in self.routes if path.startswith("/reports/") and path.count("/") == 3)
        self.routes["/reports/"] = Route(f"<html><body>{cards}</body></html>".encode(),
                                         "text/html; charset=utf-8", validators=False)

    def served(self, path: str, status: int | None = None) -> list:
        with self.lock:
            return [r for r in self.requests if r[0] == path and (status is None or r[1] == status)]

    def fetched_pdfs(self) -> set[str]:
        with self.lock:
            return {r[0] for r in self.requests if r[0].endswith(".pdf") and r[1] == 200}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one connection per request: no keep-alive surprises

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        publisher: Publisher = self.server.publisher
        path = self.path.split("?")[0]
        route = publisher.routes.get(path)
        if path == "/robots.txt" and route is None:
            route = Route(b"User-agent: *\nAllow: /\n", "text/plain", validators=False)
        status, headers, body = 200, {}, b""
        if route is None:
            status, body = 404, b"not found"
        else:
            time.sleep(route.delay)
            with publisher.lock:
                status = route.statuses.pop(0) if route.statuses else 200
            body, headers = route.body, dict(route.headers)
            etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
            if route.validators and status == 200:
                headers.update({"ETag": etag, "Last-Modified": "Wed, 15 Jan 2020 10:00:00 GMT"})
                if self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
            if status >= 300 and status != 304 and "Location" not in headers:
                body = b"error"
        with publisher.lock:
            publisher.requests.append((path, status, dict(self.headers), time.monotonic()))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Type", route.content_type if route and status == 200 else "text/plain")
            self.send_header("Content-Length", str(len(body) + (route.short_by if route else 0)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)
        if route and route.short_by:
            self.close_connection = True


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """The crawler hanging up on a slow or oversized answer is what these tests provoke."""


@pytest.fixture
def publisher():
    site = Publisher()
    server = QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.publisher = site
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    yield site
    server.shutdown()
    server.server_close()


@pytest.fixture
def topic(tmp_path) -> Path:
    """Only the NAO listing, every title relevant: the crawl is exactly the routes we add."""
    path = tmp_path / "topic.json"
    path.write_text(json.dumps({"name": "test", "nao": {"listing_paths": ["/reports/"]}}))
    return path


def command(home: Path, base_url: str, topic: Path, *settings: str, restart: bool = False) -> list[str]:
    args = [sys.executable, "-m", "crawler.run", "--home", str(home), "--base-url", base_url,
            "--source", "nao", "--set", f"REFRAIN_TOPIC={topic}"]
    for setting in settings:
        args += ["--set", setting]
    return args + (["--restart"] if restart else [])


def crawl(home: Path, publisher: Publisher, topic: Path, *settings: str) -> dict:
    done = subprocess.run(command(home, publisher.base_url, topic, *settings), cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout)
    result["stderr"] = done.stderr
    return result


def pdf(text: str) -> bytes:
    return render_pdf(f"title: {text}\n---\n{text}\n\n" + "Integration of health and social care.\n\n" * 20)


def reasons(result: dict) -> dict[str, str]:
    return {f["url"].rsplit("/", 1)[-1]: f["reason"] for f in result["failed"]}


# -- incremental: ask before downloading again ----------------------------------------------


def test_a_recrawl_asks_if_modified_and_counts_new_changed_unchanged(publisher, topic, tmp_path):
    one, two = pdf("One"), pdf("Two")
    publisher.add_report("care", "Care", "2020-01-15", {
        "/up/One.pdf": Route(one), "/up/Two.pdf": Route(two),
        "/up/Plain.pdf": Route(pdf("Plain"), validators=False),  # a server without ETags
    })
    first = crawl(tmp_path, publisher, topic)
    assert first["counts"] == {"new": 3, "changed": 0, "unchanged": 0, "failed": 0}
    assert "new" in first["stderr"] and "/up/One.pdf" in first["stderr"], "progress is shown as it goes"

    publisher.routes["/up/Two.pdf"].body = pdf("Two, revised")
    second = crawl(tmp_path, publisher, topic)
    assert second["counts"] == {"new": 0, "changed": 1, "unchanged": 2, "failed": 0}
    by_name = {s["url"].rsplit("/", 1)[-1]: s for s in second["stored"]}
    assert by_name["One.pdf"]["change"] == "unchanged" and by_name["One.pdf"]["not_modified"] is True
    assert by_name["Plain.pdf"]["change"] == "unchanged" and by_name["Plain.pdf"]["not_modified"] is False
    assert by_name["Two.pdf"]["change"] == "changed"
    # One.pdf was asked about with its ETag and answered 304: no bytes downloaded again.
    (asked,) = [r for r in publisher.served("/up/One.pdf") if "If-None-Match" in r[2]]
    assert asked[1] == 304
    assert len(publisher.served("/up/One.pdf", 200)) == 1
    # Both versions of Two are kept, keyed by hash; the 304'd file is untouched.
    assert Path(by_name["Two.pdf"]["path"]).read_bytes() == pdf("Two, revised")
    assert Path(by_name["One.pdf"]["path"]).read_bytes() == one
    assert len(list((tmp_path / "raw").rglob("*.pdf"))) == 4


# -- failures, each recorded with its reason, the crawl going on ------------------------------


def test_every_failure_is_recorded_with_its_reason_and_the_good_file_is_still_stored(publisher, topic, tmp_path):
    good = pdf("Good")
    publisher.add_report("broken", "Care home funding", "2020-01-15", {
        "/up/Good.pdf": Route(good),
        "/up/Missing.pdf": None,  # placeholder, removed below: served as 404
        "/up/Error.pdf": Route(good, statuses=[500, 500, 500]),
        "/up/Slow.pdf": Route(good, delay=5.0),
        "/up/Huge.pdf": Route(b"%PDF-1.4\n" + b"0" * 300_000 + b"\n%%EOF\n"),
        "/up/Cut.pdf": Route(good[: len(good) // 2]),
        "/up/Lost.pdf": Route(good[:1000], short_by=5000),
        "/up/Page.pdf": Route(b"<html>Please log in</html>", "text/html"),
        "/up/Away.pdf": Route(b"", statuses=[302], headers={}),
        "/up/Moved.pdf": Route(b"", statuses=[301], headers={"Location": "/up/Good.pdf"}),
    })
    del publisher.routes["/up/Missing.pdf"]
    port = publisher.base_url.rsplit(":", 1)[1]
    publisher.routes["/up/Away.pdf"].headers["Location"] = f"http://localhost:{port}/up/Good.pdf"
    result = crawl(tmp_path, publisher, topic, "DOWNLOAD_TIMEOUT=2", "DOWNLOAD_MAXSIZE=200000")
    got = reasons(result)
    assert got["Missing.pdf"] == "HTTP 404"
    assert got["Error.pdf"] == "HTTP 500"
    assert got["Slow.pdf"].startswith("timeout")
    assert got["Huge.pdf"].startswith("too large: 300016 bytes, over the 200000-byte size cap")
    assert got["Cut.pdf"].startswith("truncated PDF")
    assert got["Lost.pdf"].startswith(("truncated response", "connection lost"))
    assert got["Page.pdf"] == "wrong content type: expected application/pdf, got text/html"
    assert got["Away.pdf"] == f"redirected off-site to http://localhost:{port}/up/Good.pdf"
    assert len(got) == 8 and result["counts"]["failed"] == 8
    assert all(f["source"] == "nao" and f["referrer"].endswith("/reports/broken/") for f in result["failed"])
    # An on-site redirect is followed; the document is stored once under its final URL.
    assert [s["url"] for s in result["stored"]] == [publisher.base_url + "/up/Good.pdf"]
    assert not publisher.served("/up/Good.pdf", 200)[1:], "fetched once, though linked twice"
    # Nothing of the failures reached the raw store.
    stored = {p.name for p in (tmp_path / "raw").rglob("*.pdf")}
    assert stored == {hashlib.sha256(good).hexdigest() + ".pdf"}


def test_retries_wait_for_retry_after_or_back_off_exponentially(publisher, topic, tmp_path):
    publisher.add_report("busy", "Busy care", "2020-01-15", {
        "/up/Busy.pdf": Route(pdf("Busy"), statuses=[503], headers={"Retry-After": "1"}),
        "/up/Error.pdf": Route(pdf("Error"), statuses=[500, 500, 500]),
    })
    result = crawl(tmp_path, publisher, topic)
    assert result["counts"] == {"new": 1, "changed": 0, "unchanged": 0, "failed": 1}
    first, second = publisher.served("/up/Busy.pdf")
    assert (first[1], second[1]) == (503, 200) and second[3] - first[3] >= 0.95
    # 500 is retried twice (three requests), waiting longer each time (0.05 s, then 0.1 s on loopback).
    attempts = [r[3] for r in publisher.served("/up/Error.pdf")]
    assert len(attempts) == 3 and reasons(result) == {"Error.pdf": "HTTP 500"}
    assert attempts[2] - attempts[1] >= 0.1 and attempts[1] - attempts[0] >= 0.05


# -- politeness --------------------------------------------------------------------------------


def test_robots_crawl_delay_spaces_out_requests_to_the_host(publisher, topic, tmp_path):
    publisher.routes["/robots.txt"] = Route(b"User-agent: *\nCrawl-delay: 0.5\nAllow: /\n", "text/plain",
                                            validators=False)
    publisher.add_report("polite", "Polite care", "2020-01-15",
                         {f"/up/P{n}.pdf": Route(pdf(f"P{n}")) for n in range(4)})
    result = crawl(tmp_path, publisher, topic)  # loopback: 16 concurrent requests, no delay...
    assert result["counts"]["new"] == 4
    times = sorted(r[3] for r in publisher.requests if r[0] != "/robots.txt")
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) == 6 and min(gaps) >= 0.45, gaps  # ...but robots.txt asks for 0.5 s


def test_robots_txt_disallow_is_obeyed(publisher, topic, tmp_path):
    publisher.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /up/secret/\n", "text/plain",
                                            validators=False)
    publisher.add_report("mixed", "Mixed care", "2020-01-15",
                         {"/up/Open.pdf": Route(pdf("Open")), "/up/secret/Closed.pdf": Route(pdf("Closed"))})
    result = crawl(tmp_path, publisher, topic)
    assert [s["url"].rsplit("/", 1)[-1] for s in result["stored"]] == ["Open.pdf"]
    assert not publisher.served("/up/secret/Closed.pdf") and result["failed"] == []
    user_agents = {r[2].get("User-Agent") for r in publisher.requests}
    assert len(user_agents) == 1 and user_agents.pop().startswith("Refrain/0.1 (+http")


# -- resumable ---------------------------------------------------------------------------------


def test_an_interrupted_crawl_resumes_without_fetching_again_what_it_stored(publisher, topic, tmp_path):
    names = [f"/up/R{n:02}.pdf" for n in range(24)]
    publisher.add_report("long", "A long care report", "2020-01-15",
                         {name: Route(pdf(name), delay=0.25) for name in names})
    slow = ("CONCURRENT_REQUESTS=2", "CONCURRENT_REQUESTS_PER_DOMAIN=2")
    proc = subprocess.Popen(command(tmp_path, publisher.base_url, topic, *slow), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(publisher.fetched_pdfs()) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # Ctrl-C: Scrapy stops gracefully, the job folder stays
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    first = json.loads(out)
    assert first["interrupted"] == ["nao"] and 6 <= len(first["stored"]) < len(names)
    assert (tmp_path / "crawl" / "job-nao" / "requests.seen").is_file()
    done_first = {s["url"].removeprefix(publisher.base_url) for s in first["stored"]}
    requests_before = len(publisher.requests)

    second = crawl(tmp_path, publisher, topic, *slow)
    assert second["resumed"] == ["nao"] and second["interrupted"] == []
    asked_again = {r[0] for r in publisher.requests[requests_before:]}
    assert not asked_again & done_first, "what the first run stored is not fetched again"
    assert "/reports/" not in asked_again, "the listing is not read again"
    done_second = {s["url"].removeprefix(publisher.base_url) for s in second["stored"]}
    assert done_first | done_second == set(names)
    assert not (tmp_path / "crawl" / "job-nao").exists(), "a finished crawl leaves nothing to resume"

    third = crawl(tmp_path, publisher, topic)  # a fresh crawl: everything asked, nothing downloaded
    assert third["resumed"] == [] and third["counts"]["unchanged"] == len(names)


# -- failures no middleware may swallow ----------------------------------------------------------


def gzip_bomb(size: int) -> bytes:
    import gzip

    return gzip.compress(b"\0" * size, compresslevel=9)


def test_redirect_loops_chains_bombs_and_robots_refusals_are_each_recorded(publisher, topic, tmp_path):
    publisher.add_report("tricks", "Tricky care", "2020-01-15", {
        "/up/Good.pdf": Route(pdf("Good")),
        "/up/Loop.pdf": Route(b"", statuses=[302] * 5, headers={"Location": "/up/Loop2.pdf"}),
        "/up/Chain.pdf": Route(b"", statuses=[302], headers={"Location": "/up/chain/1.pdf"}),
        "/up/Bomb.pdf": Route(gzip_bomb(5_000_000), headers={"Content-Encoding": "gzip"}),
        "/up/private/Closed.pdf": Route(pdf("Closed")),
    })
    # A → B → A, B linked from nowhere (a CMS's trailing-slash dance gone wrong).
    publisher.routes["/up/Loop2.pdf"] = Route(b"", statuses=[302] * 5, headers={"Location": "/up/Loop.pdf"})
    for n in range(1, 30):  # an endless chain of fresh URLs, each redirecting to the next
        publisher.routes[f"/up/chain/{n}.pdf"] = Route(b"", statuses=[302], headers={"Location": f"/up/chain/{n + 1}.pdf"})
    publisher.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /up/private/\n", "text/plain",
                                            validators=False)
    result = crawl(tmp_path, publisher, topic, "DOWNLOAD_MAXSIZE=1000000", "REDIRECT_MAX_TIMES=10")
    got = reasons(result)
    assert got["Loop.pdf"].startswith("redirect loop: ") and got["Loop.pdf"].endswith("/up/Loop.pdf")
    assert got["Chain.pdf"].startswith("too many redirects")
    assert got["Bomb.pdf"] == "too large after decompression: over the 1000000-byte size cap"
    assert len(got) == 3 and result["counts"]["failed"] == 3
    assert [(r["url"].rsplit("/", 1)[-1], r["reason"]) for r in result["refused"]] == [
        ("Closed.pdf", "disallowed by robots.txt")]
    assert result["counts"]["refused"] == 1 and not publisher.served("/up/private/Closed.pdf")
    assert [s["url"].rsplit("/", 1)[-1] for s in result["stored"]] == ["Good.pdf"]
    logged = [json.loads(line) for line in Path(result["log"]).read_text().splitlines()]
    assert sorted(r["status"] for r in logged) == ["failed"] * 3 + ["refused", "stored"]
    assert all(r.get("reason") for r in logged if r["status"] != "stored")


def test_kb_crawl_exits_1_when_robots_txt_refuses_everything(publisher, topic, tmp_path):
    publisher.add_report("closed", "Closed care", "2020-01-15", {"/up/A.pdf": Route(pdf("A"))})
    publisher.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /\n", "text/plain", validators=False)
    env = dict(__import__("os").environ, KB_HOME=str(tmp_path / "kb"), HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-m", "kb.cli", "crawl", "--source", "nao", "--base-url",
                           publisher.base_url, "--topic", str(topic), "--no-ingest", "--json"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["stored"] == 0 and report["counts"]["refused"] >= 1
    assert all(r["reason"] == "disallowed by robots.txt" for r in report["refused"])

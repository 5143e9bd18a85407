"""Run the spiders from Python: one crawl, selected sources, a result read from the items log.

Each spider keeps its pending requests in ``<home>/crawl/job-<source>`` (Scrapy's
``JOBDIR``) while it runs. A crawl that finishes removes its job folder; one that is
interrupted (Ctrl-C, SIGTERM) leaves it, and the next crawl of that source with the same
arguments continues from it instead of starting again (``resume=False`` starts afresh).

:func:`run_crawl` can be called **once per process**: Scrapy runs on a Twisted reactor, and a
reactor cannot be restarted. Callers that crawl more than once (tests, ``kb demo`` re-runs)
start ``python -m crawler.run`` in a subprocess, which prints the :class:`CrawlResult` as
JSON on stdout; Scrapy's own log goes to stderr only.
"""
from __future__ import annotations

import argparse
import logging
import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy.crawler import AsyncCrawlerProcess
from scrapy.settings import Settings

from crawler.items import SOURCES
from crawler.pipelines import OUTCOMES
from crawler.scope import Scope, is_loopback, parse_since
from crawler.settings import user_agent
from crawler.source_spider import job_dir
from crawler.topic import load_topic
from crawler.store import read_log

# On 127.0.0.1 nobody needs protecting from us: the demo crawl should take seconds.
LOOPBACK_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_TIMEOUT": 15,
    "REFRAIN_RETRY_BACKOFF": 0.05,
}


@dataclass
class CrawlResult:
    """What one crawl stored (sidecars, each with ``path``) and what failed (with ``reason``)."""

    stored: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)  # disallowed by robots.txt: not fetched, on purpose
    log: str | None = None  # the items log this result was read from
    # Documents by how they compare with the last crawl ("new", "changed", "unchanged"),
    # and failures; stored = new + changed + unchanged.
    counts: dict = field(default_factory=lambda: {outcome: 0 for outcome in OUTCOMES})
    interrupted: list[str] = field(default_factory=list)  # sources left to resume
    resumed: list[str] = field(default_factory=list)  # sources that continued a job

    def stored_paths(self) -> list[str]:
        """The raw files stored, each with its sidecar beside it: what ``kb`` ingests."""
        return sorted({s["path"] for s in self.stored if s.get("path")})


def crawl_settings(
    home: Path,
    items_log: Path,
    base_url: str | None = None,
    overrides: dict | None = None,
) -> Settings:
    """Project settings, relaxed for a loopback ``base_url``, then the caller's overrides,
    then where this crawl writes (which nothing overrides)."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    if is_loopback(base_url):
        settings.setdict(LOOPBACK_SETTINGS, priority="project")
    overrides = dict(overrides or {})
    if "REFRAIN_CONTACT_URL" in overrides and "USER_AGENT" not in overrides:
        overrides["USER_AGENT"] = user_agent(overrides["REFRAIN_CONTACT_URL"])
    settings.setdict(overrides, priority="cmdline")
    settings.setdict({"KB_HOME": str(home), "REFRAIN_ITEMS_LOG": str(items_log),
                      "REFRAIN_JOB_ROOT": str(home / "crawl")}, priority="cmdline")
    return settings


JOB_ARGS = "refrain-job.json"


def prepare_job(home: Path, source: str, args: dict, resume: bool) -> bool:
    """Keep ``source``'s job folder when it holds an interrupted crawl with the same
    arguments and ``resume`` is on (True: this crawl resumes); otherwise empty it."""
    folder = Path(job_dir(home / "crawl", source))
    marker = folder / JOB_ARGS
    if resume and marker.is_file():
        try:
            if json.loads(marker.read_text(encoding="utf-8")) == args:
                return True
        except ValueError:
            pass
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    marker.write_text(json.dumps(args, sort_keys=True), encoding="utf-8")
    return False


def new_log_path(home: Path) -> Path:
    """A fresh ``<home>/crawl/<timestamp>.jsonl`` for this crawl's records."""
    crawl_dir = home / "crawl"
    crawl_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path, n = crawl_dir / f"{stamp}.jsonl", 1
    while path.exists():
        n += 1
        path = crawl_dir / f"{stamp}-{n}.jsonl"
    path.touch()
    return path


def run_crawl(
    home: Path,
    sources: list[str],
    base_url: str | None = None,
    since: str | None = None,
    overrides: dict | None = None,
    resume: bool = True,
) -> CrawlResult:
    """Crawl ``sources`` into ``<home>/raw`` in one Scrapy process and report what happened.

    ``base_url`` replaces every publisher's real hosts (the demo site); ``since`` drops
    documents published before that date; ``resume`` continues an interrupted crawl with the
    same arguments (see the module doc). Callable once per process (see the module doc).
    """
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ValueError(f"unknown source(s) {unknown}; choose from {list(SOURCES)}")
    since = parse_since(since)
    Scope((), base_url=base_url)  # a bad base URL is the caller's error, before Scrapy starts
    topic = (overrides or {}).get("REFRAIN_TOPIC")
    if topic:
        try:
            load_topic(topic)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"cannot read the topic file {topic}: {error}") from None
    home = Path(home).resolve()
    items_log = new_log_path(home)
    if not sources:
        return read_result(items_log)
    # When the caller (the kb CLI) already logs to stderr, Scrapy must not add a second handler.
    settings = crawl_settings(home, items_log, base_url, overrides)
    if logging.getLogger().handlers:
        settings.set("LOG_INSTALL_ROOT_HANDLER", False)
    process = AsyncCrawlerProcess(settings)
    if not settings.getbool("LOG_INSTALL_ROOT_HANDLER"):
        # Under the kb CLI, Scrapy's per-request chatter stays out of the user's progress lines.
        logging.getLogger("scrapy").setLevel(max(logging.getLogger().level, logging.WARNING))
    job_args = {"base_url": base_url, "since": since, "topic": settings.get("REFRAIN_TOPIC")}
    crawlers, resumed = {}, []
    for source in dict.fromkeys(sources):
        if prepare_job(home, source, job_args, resume):
            resumed.append(source)
            logging.getLogger("crawler.progress").info("%s: resuming the interrupted crawl", source)
        crawlers[source] = process.create_crawler(source)
        process.crawl(crawlers[source], base_url=base_url, since=since)
    process.start()
    result = read_result(items_log)
    result.resumed = resumed
    for source, crawler in crawlers.items():
        reason = getattr(crawler.spider, "finish_reason", None)
        if reason == "finished" or crawler.spider is None:
            shutil.rmtree(job_dir(home / "crawl", source), ignore_errors=True)
        if reason not in (None, "finished"):
            result.interrupted.append(source)
    return result


def read_result(items_log: Path) -> CrawlResult:
    result = CrawlResult(log=str(items_log))
    for record in read_log(items_log):
        status = record.pop("status", None)
        if status == "stored":
            result.stored.append(record)
            change = record.get("change") or "new"
            result.counts[change] = result.counts.get(change, 0) + 1
        elif status == "failed":
            result.failed.append(record)
            result.counts["failed"] += 1
        elif status == "refused":
            result.refused.append(record)
            result.counts["refused"] = result.counts.get("refused", 0) + 1
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.run",
        description="Crawl publishers into a Refrain home; prints the result as JSON.",
    )
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("KB_HOME") or "kbdata"))
    parser.add_argument("--source", action="append", choices=SOURCES, dest="sources",
                        help="repeat for several; default: all four")
    parser.add_argument("--base-url", help="one URL replacing every publisher's hosts (the demo site)")
    parser.add_argument("--since", help="drop documents published before this date (YYYY-MM-DD)")
    parser.add_argument("--restart", action="store_true",
                        help="start afresh even if an interrupted crawl could be resumed")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a Scrapy setting override (value parsed as JSON when it can be)")
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {}
    for pair in args.set:
        name, _, value = pair.partition("=")
        try:
            overrides[name] = json.loads(value)
        except ValueError:
            overrides[name] = value
    result = run_crawl(args.home, args.sources or list(SOURCES), args.base_url, args.since, overrides,
                       resume=not args.restart)
    json.dump(asdict(result), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

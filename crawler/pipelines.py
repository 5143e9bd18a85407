"""The one item pipeline: check each fetched body, store it by hash, log what happened.

Configuration reaches it through ``from_crawler``: the raw store's home is the ``KB_HOME``
setting, else the ``KB_HOME`` environment variable, else ``./kbdata``; the items log is the
file named by ``REFRAIN_ITEMS_LOG`` (no log when unset). Every document is classified
against the crawl state as new, changed or unchanged, and each outcome is logged as it
happens, so a long crawl shows its progress.
"""
from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler.checks import body_problem
from crawler.items import DocumentItem, FetchFailure
from crawler.records import CrawledDocument
from crawler.state import CrawlState, Fetched, state_path
from crawler.rawstore import RawStore
from crawler.store import ItemsLog, extension_for

log = logging.getLogger(__name__)
# One line per document as the crawl goes: the live progress `kb crawl` shows on stderr.
progress = logging.getLogger("crawler.progress")

OUTCOMES = ("new", "changed", "unchanged", "failed")


def kb_home(settings) -> Path:
    return Path(settings.get("KB_HOME") or os.environ.get("KB_HOME") or "kbdata")


class RawStorePipeline:
    def __init__(self, home: Path, items_log: Path | None = None, source: str | None = None):
        self.home = Path(home).resolve()
        self.store = RawStore.under(self.home)
        self.log = ItemsLog(items_log)
        self.state = CrawlState(state_path(self.home))
        self.counts: Counter = Counter({outcome: 0 for outcome in OUTCOMES})
        self.source = source

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        spider = getattr(crawler, "spidercls", None)
        return cls(kb_home(settings), settings.get("REFRAIN_ITEMS_LOG") or None,
                   getattr(spider, "name", None))

    def open_spider(self) -> None:
        self.log.open()

    def close_spider(self) -> None:
        self.log.close()
        self.state.close()
        if any(self.counts.values()):
            progress.info("%s done: %s", self.source or "crawl", self.summary())

    def summary(self) -> str:
        shown = [*OUTCOMES, "refused"] if self.counts["refused"] else OUTCOMES
        return ", ".join(f"{self.counts[o]} {o}" for o in shown)

    def process_item(self, item):
        if isinstance(item, FetchFailure) and item.get("refused"):
            self.counts["refused"] += 1
            log.warning("refused: %s (%s)", item["url"], item["reason"])
            self.log.write({"status": "refused", "url": item["url"], "source": item["source"],
                            "reason": item["reason"], "referrer": item.get("referrer")})
            raise DropItem(f"refused: {item['reason']} <{item['url']}>", log_level="DEBUG")
        if isinstance(item, FetchFailure):
            self._failed(item["url"], item["source"], item["reason"], item.get("referrer"))
            raise DropItem(f"fetch failed: {item['reason']} <{item['url']}>", log_level="DEBUG")
        if not isinstance(item, DocumentItem):
            return item
        problem = body_problem(item["url"], item.get("content_type"), item.get("body") or b"")
        if problem:
            self._failed(item["url"], item.get("source"), problem, item.get("referrer"))
            raise DropItem(f"{problem} <{item['url']}>", log_level="DEBUG")
        sidecar = CrawledDocument.from_json(ItemAdapter(item).asdict()).to_json()
        ext = extension_for(item.get("content_type"), item["url"])
        sidecar = self.store.put(item["body"], sidecar, ext)
        item["sha256"], item["path"] = sidecar["sha256"], sidecar["path"]
        change = self.state.change(item["url"], sidecar["sha256"])
        self.state.record(Fetched(
            url=item["url"], sha256=sidecar["sha256"], path=sidecar["path"],
            content_type=item.get("content_type"), etag=item.get("etag"),
            last_modified=item.get("last_modified"), fetched_at=item.get("fetched_at"),
        ))
        not_modified = bool(item.get("not_modified"))
        self.counts[change] += 1
        self.log.write({"status": "stored", "change": change, "not_modified": not_modified, **sidecar})
        progress.info("%s %-9s %s  [%s]", item.get("source"), change, item["url"], self.summary())
        return item

    def _failed(self, url: str, source: str | None, reason: str, referrer: str | None) -> None:
        self.counts["failed"] += 1
        log.warning("failed: %s (%s)", url, reason)
        self.log.write(
            {"status": "failed", "url": url, "source": source, "reason": reason, "referrer": referrer}
        )

"""The one item pipeline: check each fetched body, store it by hash, log what happened.

Configuration reaches it through ``from_crawler``: the raw store's home is the ``KB_HOME``
setting, else the ``KB_HOME`` environment variable, else ``./kbdata``; the items log is the
file named by ``REFRAIN_ITEMS_LOG`` (no log when unset).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler.checks import body_problem
from crawler.items import SIDECAR_FIELDS, DocumentItem, FetchFailure
from crawler.store import ItemsLog, RawStore, extension_for

log = logging.getLogger(__name__)


def kb_home(settings) -> Path:
    return Path(settings.get("KB_HOME") or os.environ.get("KB_HOME") or "kbdata")


class RawStorePipeline:
    def __init__(self, home: Path, items_log: Path | None = None):
        self.store = RawStore(home)
        self.log = ItemsLog(items_log)

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        return cls(kb_home(settings), settings.get("REFRAIN_ITEMS_LOG") or None)

    def open_spider(self) -> None:
        self.log.open()

    def close_spider(self) -> None:
        self.log.close()

    def process_item(self, item):
        if isinstance(item, FetchFailure):
            self._failed(item["url"], item["source"], item["reason"], item.get("referrer"))
            raise DropItem(f"fetch failed: {item['reason']} <{item['url']}>", log_level="DEBUG")
        if not isinstance(item, DocumentItem):
            return item
        problem = body_problem(item["url"], item.get("content_type"), item.get("body") or b"")
        if problem:
            self._failed(item["url"], item.get("source"), problem, item.get("referrer"))
            raise DropItem(f"{problem} <{item['url']}>", log_level="DEBUG")
        fields = ItemAdapter(item).asdict()
        sidecar = {name: fields.get(name) for name in SIDECAR_FIELDS}
        ext = extension_for(item.get("content_type"), item["url"])
        sidecar = self.store.put(item["body"], sidecar, ext)
        item["sha256"], item["path"] = sidecar["sha256"], sidecar["path"]
        self.log.write({"status": "stored", **sidecar})
        return item

    def _failed(self, url: str, source: str | None, reason: str, referrer: str | None) -> None:
        log.warning("failed: %s (%s)", url, reason)
        self.log.write(
            {"status": "failed", "url": url, "source": source, "reason": reason, "referrer": referrer}
        )

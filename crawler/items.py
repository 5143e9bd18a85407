"""What the spiders hand to the pipeline: a fetched document, or a fetch that failed."""
from __future__ import annotations

import scrapy

from crawler.records import SIDECAR_FIELDS, SOURCES  # noqa: F401  (re-exported for the spiders)


class DocumentItem(scrapy.Item):
    """One fetched document and what its publisher's pages say about it.

    ``body`` holds the raw bytes and never reaches the sidecar; ``sha256`` and ``path`` are
    filled in by the pipeline when it stores them.
    """

    url = scrapy.Field()
    source = scrapy.Field()  # one of SOURCES
    title = scrapy.Field()
    published = scrapy.Field()  # YYYY-MM-DD, or None when the publisher gives no date
    doc_type = scrapy.Field()
    publisher = scrapy.Field()
    identifiers = scrapy.Field()  # hc_number, command_paper_number, session, ...
    referrer = scrapy.Field()  # the page that linked it
    content_type = scrapy.Field()
    sha256 = scrapy.Field()
    fetched_at = scrapy.Field()  # ISO 8601, UTC
    path = scrapy.Field()  # where the raw copy was stored
    body = scrapy.Field()
    # How the server validates this URL next time, and whether this fetch was answered
    # "304 Not Modified" (the body is then the stored copy). Crawl state, not sidecar.
    etag = scrapy.Field()
    last_modified = scrapy.Field()
    not_modified = scrapy.Field()

    def __repr__(self) -> str:
        # Scrapy logs scraped items; megabytes of PDF bytes in a log line help nobody.
        shown = {k: v for k, v in self.items() if k != "body"}
        return f"DocumentItem({shown!r}, body=<{len(self.get('body') or b'')} bytes>)"


class FetchFailure(scrapy.Item):
    """A request that could not give us a document; the pipeline records it, nothing more."""

    url = scrapy.Field()
    source = scrapy.Field()
    reason = scrapy.Field()
    referrer = scrapy.Field()
    refused = scrapy.Field()  # True: we chose not to fetch it (robots.txt), not a publisher's failure


# The sidecar's keys (crawler.records.CrawledDocument), and the fields that never reach it.
CRAWL_ONLY_FIELDS = ("body", "etag", "last_modified", "not_modified")
assert set(SIDECAR_FIELDS) == set(DocumentItem.fields) - set(CRAWL_ONLY_FIELDS)

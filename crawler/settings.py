"""Scrapy settings for Refrain's crawler: polite by default, because it visits public bodies.

``scrapy crawl <spider>`` from the repository root reads this module (see ``scrapy.cfg``);
:func:`crawler.run.run_crawl` reads it too and layers its own overrides on top. Only the
environment variables named here are read, and only here.
"""
from __future__ import annotations

import os

BOT_NAME = "refrain"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Who we are, so a webmaster can reach us before blocking us.
REFRAIN_CONTACT_URL = os.environ.get("REFRAIN_CONTACT_URL", "https://github.com/refrain-kb/refrain")


def user_agent(contact_url: str) -> str:
    return f"Refrain/0.1 (+{contact_url})"


USER_AGENT = user_agent(REFRAIN_CONTACT_URL)

# Politeness.
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote-control HTTP server runs code sent to it; a crawler needs none of that.
REMOTE_CONTROL_ENABLED = False

# Transient failures are retried; what still fails is recorded by the spiders' errbacks.
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 100 * 1024 * 1024
DOWNLOAD_WARNSIZE = 32 * 1024 * 1024

# A local HTTP cache makes re-running against the live sites cheap while developing.
HTTPCACHE_ENABLED = os.environ.get("REFRAIN_HTTPCACHE") == "1"
HTTPCACHE_EXPIRATION_SECS = 7 * 24 * 3600
HTTPCACHE_DIR = "httpcache"

ITEM_PIPELINES = {"crawler.pipelines.RawStorePipeline": 300}

# Scrapy's robots.txt middleware runs at 100 and its redirects at 600.
DOWNLOADER_MIDDLEWARES = {
    # robots.txt Crawl-delay, which Scrapy parses but ignores; capped at this many seconds.
    "crawler.middlewares.CrawlDelayMiddleware": 110,
    # If-None-Match / If-Modified-Since from the crawl state; 304 → the stored copy.
    "crawler.middlewares.ConditionalRequestMiddleware": 120,
    # Retries wait (Retry-After, else exponential backoff) instead of hammering at once.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    # A redirect off the publisher's hosts is recorded as a failure, not followed.
    "crawler.middlewares.OffsiteRedirectMiddleware": 650,
}
REFRAIN_MAX_CRAWL_DELAY = 60.0
# First retry waits this many seconds, then twice as long each time; Retry-After wins, capped.
REFRAIN_RETRY_BACKOFF = 2.0
REFRAIN_RETRY_MAX_WAIT = 120.0

# Documents go to the raw store and the items log, never to feed exports.
FEEDS: dict = {}
FEED_EXPORT_ENCODING = "utf-8"

LOG_LEVEL = "INFO"

# Where the raw store lives (the pipeline falls back to env KB_HOME, then ./kbdata), the
# JSON-lines log of what was stored or failed, and the topic file (None: crawler/data/topic.json).
KB_HOME = None
REFRAIN_ITEMS_LOG = os.environ.get("REFRAIN_ITEMS_LOG") or None
REFRAIN_TOPIC = os.environ.get("REFRAIN_TOPIC") or None

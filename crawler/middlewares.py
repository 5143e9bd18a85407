"""Downloader middlewares for what Scrapy leaves undone: Crawl-delay, conditional requests,
redirects that would lead a spider off its publisher's site, and waiting before retries.

Each is switched on in ``crawler/settings.py``; each holds one rule.
"""
from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.responsetypes import responsetypes

from crawler.pipelines import kb_home
from crawler.state import CrawlState, state_path

log = logging.getLogger(__name__)

# request.meta key: True when the server answered 304 and the stored copy stands in.
NOT_MODIFIED = "refrain_not_modified"


class CrawlDelayMiddleware:
    """Honour robots.txt ``Crawl-delay``: at least that many seconds between two requests to
    one host, whatever AutoThrottle or ``DOWNLOAD_DELAY`` would allow.

    Scrapy parses robots.txt but ignores the delay; its ``robots_parsed`` signal hands us the
    parser, and each request then waits for the next free moment of its host. Requests
    reserve their moment before they sleep, so two concurrent requests stay a delay apart.
    """

    def __init__(self, crawler):
        self.user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get("USER_AGENT")
        self.max_delay = crawler.settings.getfloat("REFRAIN_MAX_CRAWL_DELAY", 60.0)
        self.delays: dict[str, float] = {}
        self.next_free: dict[str, float] = {}
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler)
        crawler.signals.connect(middleware.robots_parsed, signal=signals.robots_parsed)
        return middleware

    def robots_parsed(self, robotparser, request) -> None:
        netloc = urlsplit(request.url).netloc
        try:
            delay = robotparser.crawl_delay(self.user_agent)
        except (AttributeError, NotImplementedError):  # a parser backend without Crawl-delay
            delay = None
        if delay and delay > 0:
            if delay > self.max_delay:
                log.warning("%s asks for Crawl-delay %ss; waiting %ss (REFRAIN_MAX_CRAWL_DELAY)",
                            netloc, delay, self.max_delay)
            self.delays[netloc] = min(float(delay), self.max_delay)
            log.info("%s: robots.txt Crawl-delay %ss honoured", netloc, self.delays[netloc])

    def wait_for(self, netloc: str, now: float) -> float:
        """Reserve the next moment ``netloc`` may be asked; returns seconds to wait for it."""
        delay = self.delays.get(netloc)
        if not delay:
            return 0.0
        start = max(now, self.next_free.get(netloc, now))
        self.next_free[netloc] = start + delay
        return start - now

    async def process_request(self, request, spider=None):
        if request.meta.get("dont_obey_robotstxt"):
            return None  # robots.txt itself
        wait = self.wait_for(urlsplit(request.url).netloc, time.monotonic())
        if wait > 0:
            self.stats.inc_value("refrain/crawl_delay/waits")
            await asyncio.sleep(wait)
        return None


class ConditionalRequestMiddleware:
    """Ask before downloading again: a URL stored by an earlier crawl is requested with
    ``If-None-Match`` / ``If-Modified-Since``; a 304 answer is replaced by the stored bytes,
    so the spider still follows the document's links while nothing is downloaded again.
    """

    def __init__(self, state: CrawlState):
        self.state = state

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(CrawlState(state_path(kb_home(crawler.settings))))
        crawler.signals.connect(middleware.state.close, signal=signals.spider_closed)
        return middleware

    def process_request(self, request, spider=None):
        before = self.state.get(request.url)
        if before is None or not Path(before.path).is_file():
            return None
        if before.etag:
            request.headers.setdefault(b"If-None-Match", before.etag)
        if before.last_modified:
            request.headers.setdefault(b"If-Modified-Since", before.last_modified)
        return None

    def process_response(self, request, response: Response, spider=None):
        if response.status != 304:
            return response
        before = self.state.get(request.url)
        if before is None or not Path(before.path).is_file():
            return response  # nothing to stand in; HttpErrorMiddleware records the 304
        body = Path(before.path).read_bytes()
        headers = response.headers.copy()
        if before.content_type:
            headers[b"Content-Type"] = before.content_type
        request.meta[NOT_MODIFIED] = True
        cls = responsetypes.from_args(headers=headers, url=response.url, body=body)
        return cls(url=response.url, status=200, headers=headers, body=body, request=request,
                   flags=[*response.flags, "not-modified"])


class RedirectFailure(IgnoreRequest):
    """A redirect we refuse to follow, recorded as a failure with this message as its reason."""


class OffsiteRedirect(RedirectFailure):
    """A redirect to a host the spider may not visit."""


class RedirectLoop(RedirectFailure):
    """A redirect back to a URL of its own chain: Scrapy's duplicate filter would drop it
    silently, and the document would vanish from the crawl without a line in the log."""


class TooManyRedirects(RedirectFailure):
    """A chain longer than ``REDIRECT_MAX_TIMES``: an endless chain of fresh URLs."""


class OffsiteRedirectMiddleware:
    """Drop redirects that leave the spider's allowed domains, and say so.

    Scrapy's offsite filter would drop them silently; a publisher moving a PDF to another
    host is worth a line in the failure log.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response: Response, spider=None):
        location = response.headers.get(b"Location")
        if not (300 <= response.status < 400 and location) or request.meta.get("dont_redirect"):
            return response
        target = urljoin(response.url, location.decode("latin-1"))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if target in chain:
            self.crawler.stats.inc_value("refrain/redirect_loop")
            raise RedirectLoop(f"redirect loop: {' → '.join(chain[chain.index(target):])} → {target}")
        limit = self.crawler.settings.getint("REDIRECT_MAX_TIMES", 20)
        if len(chain) > limit:
            self.crawler.stats.inc_value("refrain/too_many_redirects")
            raise TooManyRedirects(f"too many redirects: more than {limit}, from {chain[0]}")
        allowed = getattr(self.crawler.spider, "allowed_domains", None) or []
        if not allowed or allowed_host(urlsplit(target).hostname, allowed):
            return response
        self.crawler.stats.inc_value("refrain/offsite_redirect")
        raise OffsiteRedirect(f"redirected off-site to {target}")


def allowed_host(host: str | None, domains: list[str]) -> bool:
    """Scrapy's rule: a domain or any of its subdomains."""
    host = (host or "").lower()
    return any(host == d.lower() or host.endswith("." + d.lower()) for d in domains)


# request.meta key: the monotonic time before which a retried request must not be sent.
NOT_BEFORE = "refrain_not_before"


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries (429 and 5xx, connection errors), with a wait before each retry.

    Scrapy retries at once; a server answering 429 or 503 is asking us to slow down. The
    wait is the server's ``Retry-After`` when it gives one (capped), else
    ``REFRAIN_RETRY_BACKOFF`` seconds doubled on each attempt.
    """

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("REFRAIN_RETRY_BACKOFF", 1.0)
        self.max_wait = settings.getfloat("REFRAIN_RETRY_MAX_WAIT", 60.0)

    async def process_request(self, request, spider=None):
        wait = request.meta.get(NOT_BEFORE, 0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        return None

    def process_response(self, request, response: Response, spider=None):
        result = super().process_response(request, response)
        if isinstance(result, Request):
            retry_after = retry_after_seconds(response.headers.get(b"Retry-After"))
            self._schedule(result, retry_after)
        return result

    def process_exception(self, request, exception, spider=None):
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            self._schedule(result, None)
        return result

    def _schedule(self, retry: Request, retry_after: float | None) -> None:
        attempt = max(retry.meta.get("retry_times", 1), 1)
        wait = retry_after if retry_after is not None else self.base * 2 ** (attempt - 1)
        retry.meta[NOT_BEFORE] = time.monotonic() + min(wait, self.max_wait)
        self.crawler.stats.inc_value("refrain/retry_backoff_seconds", min(wait, self.max_wait))


def retry_after_seconds(value: bytes | None) -> float | None:
    """``Retry-After: 120`` or ``Retry-After: <HTTP date>`` as seconds from now; None if absent."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())

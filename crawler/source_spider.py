"""What every Refrain spider does the same way, so the site modules hold only selectors.

A spider is created with the Scrapy arguments ``base_url`` (one origin replacing all of the
publisher's real hosts: the demo site) and ``since`` (YYYY-MM-DD). Every request it makes
carries an errback, so a page or file that cannot be fetched becomes a ``FetchFailure``
record instead of a silent gap, and the crawl goes on.
"""
from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from typing import Any, ClassVar

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.web._newclient import ResponseFailed

from crawler.checks import GENERIC_TYPES, PDF_TYPE, media_type
from crawler.items import DocumentItem, FetchFailure
from crawler.middlewares import NOT_MODIFIED, RedirectFailure
from crawler.scope import Scope
from crawler.topic import Topic, load_topic

REFERRER = "refrain_referrer"


def referrer_of(response: Response) -> str | None:
    """The page that linked to this response (None for a response built outside a crawl)."""
    request = getattr(response, "request", None)
    return request.meta.get(REFERRER) if request is not None else None


def content_type_of(response: Response) -> str | None:
    """The response's media type; from its class when the server sent none."""
    declared = media_type(response.headers.get("Content-Type"))
    if declared:
        return declared
    if isinstance(response, HtmlResponse):
        return "text/html"
    return None


def text_of(selection) -> str:
    """All text inside the selected elements, whitespace collapsed."""
    return " ".join(" ".join(selection.css("::text").getall()).split())


def header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def job_dir(root, name: str) -> str:
    """Where Scrapy keeps one spider's pending requests between interrupted runs."""
    return os.path.join(str(root), f"job-{name}")


def too_large(error: Exception) -> str:
    """Scrapy's max-size message, said shortly: "too large: 5242880 bytes over the 1048576-byte cap"."""
    numbers = re.findall(r"(\d+) bytes.*?max size \((\d+)\)", str(error))
    if numbers:
        size, cap = numbers[0]
        return f"too large: {size} bytes, over the {cap}-byte size cap"
    return "too large: over the size cap"


class SourceSpider(scrapy.Spider):
    """Base class of the four publisher spiders (it has no ``name``, so Scrapy skips it)."""

    source: ClassVar[str]
    publisher: ClassVar[str | None] = None
    hosts: ClassVar[tuple[str, ...]]

    def __init__(
        self,
        base_url: str | None = None,
        since: str | None = None,
        topic: Topic | str | None = None,
        *args: Any,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.topic = topic if isinstance(topic, Topic) else load_topic(topic)
        self.scope = Scope(self.hosts, base_url=base_url, since=since, date_from=self.topic.date_from)
        self.allowed_domains = self.scope.allowed_domains

    @classmethod
    def update_settings(cls, settings) -> None:
        """Give each spider its own Scrapy ``JOBDIR`` under ``REFRAIN_JOB_ROOT`` (when set), so
        an interrupted crawl of several sources resumes each one where it stopped."""
        super().update_settings(settings)
        root = settings.get("REFRAIN_JOB_ROOT")
        if root and not settings.get("JOBDIR"):
            settings.set("JOBDIR", job_dir(root, cls.name), priority="spider")

    def closed(self, reason: str) -> None:
        """Remember why the crawl ended: "finished" means there is nothing left to resume."""
        self.finish_reason = reason

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        if not kwargs.get("topic"):
            kwargs["topic"] = crawler.settings.get("REFRAIN_TOPIC") or None
        return super().from_crawler(crawler, *args, **kwargs)

    # -- requests ------------------------------------------------------------------------------

    def request(self, url: str, callback, *, referrer: str | None = None, **cb_kwargs: Any) -> scrapy.Request:
        """A request to ``url`` (moved onto ``base_url`` if it is one of our hosts) that
        reports its failure instead of vanishing."""
        return scrapy.Request(
            self.scope.rebase(url),
            callback=callback,
            errback=self.fetch_failed,
            cb_kwargs=cb_kwargs,
            meta={REFERRER: referrer},
        )

    def fetch_file(self, url: str, *, referrer: str, expect: str = PDF_TYPE, **doc: Any) -> scrapy.Request:
        """Fetch a linked file as a document; ``doc`` holds what the linking page said of it."""
        return self.request(url, self.parse_file, referrer=referrer, expect=expect, doc=doc)

    def parse_file(self, response: Response, expect: str, doc: dict):
        referrer = referrer_of(response)
        got = content_type_of(response) or ""
        if expect and got != expect:
            if got not in GENERIC_TYPES:
                yield self.failure(response.url, f"wrong content type: expected {expect}, got {got}", referrer)
                return
            got = expect  # an unlabelled file: the pipeline checks the body itself
        yield self.document(response, referrer=referrer, content_type=got, **doc)

    def document(self, response: Response, *, referrer: str | None = None, **fields: Any) -> DocumentItem:
        """The response itself as a document."""
        fields.setdefault("content_type", content_type_of(response))
        fields.setdefault("publisher", self.publisher)
        return DocumentItem(
            url=response.url,
            source=self.source,
            title=fields.pop("title", None),
            published=fields.pop("published", None),
            doc_type=fields.pop("doc_type", None),
            publisher=fields.pop("publisher"),
            identifiers={k: v for k, v in (fields.pop("identifiers", None) or {}).items() if v},
            referrer=referrer if referrer is not None else referrer_of(response),
            content_type=fields.pop("content_type"),
            fetched_at=utc_now(),
            body=response.body,
            etag=header(response, "ETag"),
            last_modified=header(response, "Last-Modified"),
            not_modified=bool(response.meta.get(NOT_MODIFIED)) if getattr(response, "request", None) else False,
            **fields,
        )

    def read_json(self, response: Response) -> Any:
        """The response's JSON, or None (the caller yields ``self.bad_json(response)``)."""
        try:
            return json.loads(response.body)
        except ValueError:
            return None

    def bad_json(self, response: Response) -> FetchFailure:
        return self.failure(response.url, "invalid JSON", referrer_of(response))

    # -- failures ------------------------------------------------------------------------------

    def failure(self, url: str, reason: str, referrer: str | None = None) -> FetchFailure:
        return FetchFailure(url=url, source=self.source, reason=reason, referrer=referrer)

    def fetch_failed(self, failure):
        """Errback of every request: turn the failure into a record the pipeline logs.

        Every request that ends without a document is recorded: redirect loops and chains, size
        caps met while decompressing, anything a middleware dropped. A URL disallowed by
        robots.txt is recorded as refused (counted apart: our choice, not the publisher's
        failure); only links to other sites, filtered before any request, are not recorded.
        """
        request = failure.request
        if failure.check(HttpError):
            reason = f"HTTP {failure.value.response.status}"
        elif failure.check(RedirectFailure):  # recorded under the URL the link named
            yield self.failure((request.meta.get("redirect_urls") or [request.url])[0], str(failure.value),
                               request.meta.get(REFERRER))
            return
        elif failure.check(IgnoreRequest):
            message = str(failure.value)
            if message.startswith("Filtered offsite request"):
                return
            if "robots.txt" in message:
                yield FetchFailure(url=request.url, source=self.source, reason="disallowed by robots.txt",
                                   referrer=request.meta.get(REFERRER), refused=True)
                return
            if "during decompression" in message:
                cap = request.meta.get("download_maxsize") or self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
                reason = f"too large after decompression: over the {cap}-byte size cap"
            elif "max redirections" in message:
                yield self.failure((request.meta.get("redirect_urls") or [request.url])[0], "too many redirects",
                                   request.meta.get(REFERRER))
                return
            else:
                reason = f"dropped: {message}"
        elif failure.check(TimeoutError, TCPTimedOutError, DownloadTimeoutError):
            limit = request.meta.get("download_timeout")
            reason = f"timeout: no complete answer within {limit:g} s" if limit else "timeout"
        elif failure.check(DownloadCancelledError) and "max size" in str(failure.value):
            reason = too_large(failure.value)
        elif failure.check(DNSLookupError, CannotResolveHostError):
            reason = "DNS lookup failed"
        elif failure.check(ConnectionRefusedError, DownloadConnectionRefusedError):
            reason = "connection refused"
        elif failure.check(ResponseDataLossError):
            reason = "truncated response: fewer bytes than the server announced"
        elif failure.check(ConnectionLost, ResponseFailed):
            reason = "connection lost"
        else:
            reason = f"{type(failure.value).__name__}: {failure.value}"
        yield self.failure(request.url, reason, request.meta.get(REFERRER))

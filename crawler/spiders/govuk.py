"""GOV.UK: the Search API finds publications, the Content API describes them.

Search API ``/api/search.json`` (q, filter_organisations, filter_content_store_document_type,
filter_public_timestamp=from:…, count/start paging) → Content API ``/api/content<base_path>``
→ the content item itself is a document when it has a body (HTML publications above all),
and its PDF attachments are fetched as files, carrying their command paper and House of
Commons paper numbers.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from crawler.checks import PDF_TYPE, media_type
from crawler.scope import parse_date, parse_session
from crawler.source_spider import SourceSpider, referrer_of

GOVUK = "https://www.gov.uk"
ASSETS = "https://assets.publishing.service.gov.uk"
SEARCH_FIELDS = (
    "title", "link", "description", "public_timestamp", "format",
    "content_store_document_type", "organisations",
)
# Content items that only point at other documents: followed, not stored.
_CONTAINERS = {"document_collection", "organisation", "finder", "mainstream_browse_page", "taxon"}


def attachment_identifiers(attachment: dict) -> dict:
    """Command paper / House of Commons paper numbers and session of one attachment."""
    session = attachment.get("parliamentary_session")
    return {
        key: value
        for key, value in {
            "command_paper_number": (attachment.get("command_paper_number") or "").strip(),
            "hc_number": (attachment.get("hoc_paper_number") or "").strip(),
            "session": parse_session(session) or (session or "").strip(),
            "isbn": (attachment.get("isbn") or "").strip(),
            "number_of_pages": pages_of(attachment),
        }.items()
        if value
    }


def pages_of(attachment: dict) -> int | None:
    """``number_of_pages`` as a whole number (GOV.UK sends an integer; odd values are dropped)."""
    value = attachment.get("number_of_pages")
    try:
        pages = int(value)
    except (TypeError, ValueError):
        return None
    return pages if pages > 0 else None


_HREF = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*["']([^"']+)["'][^>]*>(.*?)</a>""", re.I | re.S)


def documents_links(details: dict) -> list[tuple[str, str | None]]:
    """(url, title) of the PDF files linked from ``details.documents``.

    Older publications (and some current ones) carry their attachments only as rendered
    HTML blocks in ``details.documents`` rather than as ``details.attachments`` records.
    """
    found: dict[str, str | None] = {}
    for block in details.get("documents") or []:
        if isinstance(block, dict):  # a few items give records here instead of HTML
            url = block.get("url") or ""
            if url and is_pdf_attachment(block):
                found.setdefault(url, block.get("title"))
            continue
        if not isinstance(block, str):
            continue
        for href, label in _HREF.findall(block):
            if urlsplit(href).path.lower().endswith(".pdf"):
                title = " ".join(re.sub(r"<[^>]+>", " ", label).split()) or None
                found.setdefault(href, title)
    return list(found.items())


def shared_identifiers(attachments: list[dict]) -> dict:
    """Identifiers every numbered attachment agrees on, for the publication as a whole."""
    found: dict[str, set] = {}
    for attachment in attachments:
        for key, value in attachment_identifiers(attachment).items():
            if key == "number_of_pages":
                continue  # one file's length, not the publication's
            found.setdefault(key, set()).add(value)
    return {key: values.pop() for key, values in found.items() if len(values) == 1}


def publisher_of(item: dict) -> str | None:
    links = item.get("links") or {}
    for key in ("primary_publishing_organisation", "organisations"):
        for organisation in links.get(key) or []:
            if organisation.get("title"):
                return organisation["title"]
    return None


def is_pdf_attachment(attachment: dict) -> bool:
    url = attachment.get("url") or ""
    return media_type(attachment.get("content_type")) == PDF_TYPE or urlsplit(url).path.lower().endswith(".pdf")


def is_html_attachment(attachment: dict) -> bool:
    return attachment.get("attachment_type") == "html" or media_type(attachment.get("content_type")) == "text/html"


class GovukContent:
    """Reading GOV.UK Content API items; shared by the parliament spider's Treasury Minutes."""

    content_doc_type: str | None = None  # None: the item's own document_type

    def owned_elsewhere(self, item: dict) -> bool:
        return False

    def content_url(self, base_path: str) -> str:
        return self.scope.url("/api/content" + base_path, GOVUK)

    def parse_content(self, response, identifiers: dict | None = None):
        item = self.read_json(response)
        if not isinstance(item, dict):
            yield self.bad_json(response)
            return
        if self.owned_elsewhere(item):
            return
        details = item.get("details") or {}
        links = item.get("links") or {}
        document_type = item.get("document_type")
        published = parse_date(
            item.get("first_published_at") or details.get("first_public_at") or item.get("public_updated_at")
        )
        # A collection started years ago still gains new documents: only its members are dated.
        if document_type not in _CONTAINERS and not self.scope.keeps(published):
            return
        attachments = [a for a in details.get("attachments") or [] if isinstance(a, dict)]
        common = {
            "published": published,
            "publisher": publisher_of(item) or self.publisher,
            "doc_type": self.content_doc_type or document_type,
        }
        if details.get("body") and document_type not in _CONTAINERS:
            yield self.document(
                response,
                title=item.get("title"),
                identifiers={**shared_identifiers(attachments), **(identifiers or {})},
                content_type="application/json",
                **common,
            )
        # Collections (the Treasury Minutes, for one) list their publications.
        for document in links.get("documents") or []:
            if document.get("base_path"):
                yield self.request(self.content_url(document["base_path"]), self.parse_content,
                                   referrer=response.url)
        # HTML publications: children of the publication, and "html" attachments.
        by_path = {urlsplit(a.get("url") or "").path: a for a in attachments if is_html_attachment(a)}
        children = [c.get("base_path") for c in links.get("children") or [] if c.get("base_path")]
        for path in dict.fromkeys(children + [p for p in by_path if p]):
            yield self.request(self.content_url(path), self.parse_content, referrer=response.url,
                               identifiers=attachment_identifiers(by_path.get(path, {})))
        fetched = set()
        for attachment in attachments:
            if is_pdf_attachment(attachment) and attachment.get("url"):
                fetched.add(urlsplit(response.urljoin(attachment["url"])).path)
                yield self.fetch_file(
                    response.urljoin(attachment["url"]),
                    referrer=response.url,
                    title=attachment.get("title") or item.get("title"),
                    identifiers=attachment_identifiers(attachment),
                    **common,
                )
        # Files linked only from the rendered ``details.documents`` blocks.
        for href, title in documents_links(details):
            url = response.urljoin(href)
            if urlsplit(url).path in fetched:
                continue
            fetched.add(urlsplit(url).path)
            yield self.fetch_file(url, referrer=response.url, title=title or item.get("title"),
                                  identifiers=shared_identifiers(attachments), **common)


class GovukSpider(GovukContent, SourceSpider):
    name = "govuk"
    source = "govuk"
    hosts = (GOVUK, ASSETS)

    def owned_elsewhere(self, item: dict) -> bool:
        """Treasury Minutes belong to the parliament source (they answer the PAC), so whichever
        spider runs first, a minute is always stored and counted as 'parliament'."""
        if not self.topic.parliament.treasury_minutes_collection:
            return False
        collection = "/" + self.topic.parliament.treasury_minutes_collection
        return any(str(c.get("base_path", "")).endswith(collection)
                   for c in (item.get("links") or {}).get("document_collections") or [] if isinstance(c, dict))

    async def start(self):
        for query in self.topic.govuk.queries:
            yield self.request(self.search_url(query, 0), self.parse_search, query=query, start=0)

    def search_url(self, query: str, start: int) -> str:
        topic = self.topic.govuk
        params: list[tuple[str, Any]] = [("q", query)]
        params += [("filter_organisations", org) for org in topic.organisations]
        params += [("filter_content_store_document_type", kind) for kind in topic.document_types]
        if self.scope.earliest:
            params.append(("filter_public_timestamp", f"from:{self.scope.earliest}"))
        params += [("count", topic.page_size), ("start", start), ("order", "-public_timestamp")]
        params += [("fields", name) for name in SEARCH_FIELDS]
        return self.scope.url("/api/search.json?" + urlencode(params), GOVUK)

    def parse_search(self, response, query: str, start: int):
        data = self.read_json(response)
        if not isinstance(data, dict):
            yield self.bad_json(response)
            return
        results = [r for r in data.get("results") or [] if isinstance(r, dict)]
        for result in results:
            link = result.get("link") or ""
            # public_timestamp is the last change: older than `since` means published before it.
            if not link.startswith("/") or not self.scope.keeps(parse_date(result.get("public_timestamp"))):
                continue
            yield self.request(self.content_url(link), self.parse_content, referrer=response.url)
        following = start + len(results)
        if results and following < int(data.get("total") or 0):
            yield self.request(self.search_url(query, following), self.parse_search,
                               referrer=referrer_of(response), query=query, start=following)

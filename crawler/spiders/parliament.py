"""Parliament: the Public Accounts Committee's reports, and the Treasury Minutes answering them.

Committees API ``/api/Publications?CommitteeId=127&SearchTerm=…&StartDate=…&Skip=…&Take=…``
→ ``/api/Publications/{id}`` → its document files at
``/api/Publications/{id}/Document/{documentId}/OriginalFormat``; older reports also live as
HTML chapters under ``publications.parliament.uk/pa/…`` (``additionalContentUrl``). The
government's replies, the Treasury Minutes, are a GOV.UK collection read through the
Content API exactly as the govuk spider reads it.
"""
from __future__ import annotations

import posixpath
import re
from urllib.parse import urlencode, urlsplit

from crawler.scope import parse_date, parse_session
from crawler.source_spider import SourceSpider, referrer_of, text_of
from crawler.spiders.govuk import ASSETS, GOVUK, GovukContent

COMMITTEES_API = "https://committees-api.parliament.uk"
PUBLICATIONS = "https://publications.parliament.uk"
COMMITTEES = "https://committees.parliament.uk"
_PDF_FORMATS = ("application/pdf", "pdf")


def slug(text: str | None) -> str | None:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or None if text else None


def has_pdf(document: dict) -> bool:
    """Whether a publication document has a PDF file (or says nothing of its files)."""
    files = document.get("files") or []
    return not files or any(
        str(f.get("fileDataFormat") or "").lower() in _PDF_FORMATS
        or str(f.get("fileName") or "").lower().endswith(".pdf")
        for f in files
    )


class ParliamentSpider(GovukContent, SourceSpider):
    name = "parliament"
    source = "parliament"
    publisher = "Public Accounts Committee"
    hosts = (COMMITTEES_API, PUBLICATIONS, COMMITTEES, GOVUK, ASSETS)
    content_doc_type = "treasury_minutes"

    async def start(self):
        topic = self.topic.parliament
        for term in topic.search_terms:
            yield self.request(self.publications_url(term, 0), self.parse_publications, term=term, skip=0)
        if topic.treasury_minutes_collection:
            path = "/government/collections/" + topic.treasury_minutes_collection
            yield self.request(self.content_url(path), self.parse_content)

    def publications_url(self, term: str, skip: int) -> str:
        topic = self.topic.parliament
        params = {"CommitteeId": topic.committee_id, "SearchTerm": term}
        if self.scope.earliest:
            params["StartDate"] = self.scope.earliest
        params.update({"Skip": skip, "Take": topic.page_size})
        return self.scope.url("/api/Publications?" + urlencode(params), COMMITTEES_API)

    def parse_publications(self, response, term: str, skip: int):
        data = self.read_json(response)
        if not isinstance(data, dict):
            yield self.bad_json(response)
            return
        items = [i for i in data.get("items") or [] if isinstance(i, dict)]
        for item in items:
            if item.get("id") is None or not self.scope.keeps(parse_date(item.get("publicationStartDate"))):
                continue
            yield self.request(self.scope.url(f"/api/Publications/{item['id']}", COMMITTEES_API),
                               self.parse_publication, referrer=response.url)
        following = skip + len(items)
        if items and following < int(data.get("totalResults") or 0):
            yield self.request(self.publications_url(term, following), self.parse_publications,
                               referrer=referrer_of(response), term=term, skip=following)

    def parse_publication(self, response):
        item = self.read_json(response)
        if not isinstance(item, dict) or item.get("id") is None:
            yield self.bad_json(response)
            return
        published = parse_date(item.get("publicationStartDate"))
        if not self.scope.keeps(published):
            return
        extra_url = item.get("additionalContentUrl") or ""
        hc_numbers = [h for h in item.get("hcNumbers") or [] if isinstance(h, dict) and h.get("number")]
        doc = {
            "title": (item.get("description") or "").strip() or f"Publication {item['id']}",
            "published": published,
            "doc_type": slug((item.get("type") or {}).get("name")) or "publication",
            "publisher": (item.get("committee") or {}).get("name") or self.publisher,
            "identifiers": {
                "hc_number": str(hc_numbers[0]["number"]) if hc_numbers else None,
                "session": parse_session(urlsplit(extra_url).path) if extra_url else None,
                "session_id": str(hc_numbers[0].get("sessionId") or "") if hc_numbers else None,
                "publication_id": str(item["id"]),
            },
        }
        for document in item.get("documents") or []:
            if document.get("documentId") is None or not has_pdf(document):
                continue
            path = f"/api/Publications/{item['id']}/Document/{document['documentId']}/OriginalFormat"
            yield self.fetch_file(self.scope.url(path, COMMITTEES_API), referrer=response.url, **doc)
        if extra_url:
            url = response.urljoin(extra_url)
            path = urlsplit(url).path
            if path.lower().endswith(".pdf"):
                yield self.fetch_file(url, referrer=response.url, **doc)
            elif path.startswith("/pa/"):
                yield self.request(url, self.parse_legacy_report, referrer=response.url, doc=doc)

    def parse_legacy_report(self, response, doc: dict):
        """One HTML page of a report under /pa/…; its sibling chapter pages follow."""
        title = doc["title"]
        heading = text_of(response.css("h2")[:1]) or text_of(response.css("h1")[:1])
        if heading and heading.lower() not in title.lower():
            title = f"{title}: {heading}"  # the chapter: "…: Conclusions and recommendations"
        yield self.document(response, **{**doc, "title": title, "content_type": "text/html"})
        here = posixpath.dirname(urlsplit(response.url).path)
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href).split("#")[0]
            path = urlsplit(url).path
            if posixpath.dirname(path) == here and path.endswith((".htm", ".html")) and url != response.url:
                yield self.request(url, self.parse_legacy_report, referrer=response.url, doc=doc)

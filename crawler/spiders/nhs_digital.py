"""NHS Digital statistical publications: series pages → edition pages → PDF attachments.

The edition page is itself a document (its summary carries the headline figures); its PDF
attachments (the reports) are fetched as files.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from crawler.scope import parse_date
from crawler.source_spider import SourceSpider, text_of

DIGITAL = "https://digital.nhs.uk"
FILES = "https://files.digital.nhs.uk"
SERIES_PATH = "/data-and-information/publications/statistical/"


class NhsDigitalSpider(SourceSpider):
    name = "nhs-digital"
    source = "nhs-digital"
    publisher = "NHS Digital"
    hosts = (DIGITAL, FILES)

    async def start(self):
        for series in self.topic.nhs_digital.series:
            yield self.request(self.scope.url(SERIES_PATH + series), self.parse_series, series=series)

    def parse_series(self, response, series: str):
        prefix = SERIES_PATH + series + "/"
        hrefs = response.css("a.cta__button::attr(href)").getall() + response.css("a::attr(href)").getall()
        for href in dict.fromkeys(hrefs):
            url = response.urljoin(href)
            edition = urlsplit(url).path[len(prefix):].strip("/") if urlsplit(url).path.startswith(prefix) else ""
            if edition and "/" not in edition:
                yield self.request(url, self.parse_edition, referrer=response.url, series=series)

    def parse_edition(self, response, series: str | None = None):
        title = text_of(response.css('h1[data-uipath="document.title"]')) or text_of(response.css("h1"))
        published = parse_date(text_of(response.css('[data-uipath="ps.publication.publication-date"]')))
        if not self.scope.keeps(published):
            return
        series_link = response.xpath('//*[text()[contains(., "Part of")]]/a[1]')[:1]
        identifiers = {
            "series": series or urlsplit(response.url).path[len(SERIES_PATH):].split("/")[0],
            "series_title": text_of(series_link) if series_link else None,
            "edition": urlsplit(response.url).path.rstrip("/").rsplit("/", 1)[-1],
        }
        yield self.document(response, title=title, published=published,
                            doc_type="statistical_publication", identifiers=identifiers)
        for link in response.css("a.attachment-hyperlink"):
            href = response.urljoin(link.attrib.get("href", ""))
            if not urlsplit(href).path.lower().endswith(".pdf"):
                continue
            yield self.fetch_file(
                href,
                referrer=response.url,
                title=text_of(link) or title,
                published=published,
                doc_type="statistical_report",
                identifiers=identifiers,
            )

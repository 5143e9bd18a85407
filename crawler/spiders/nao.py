"""National Audit Office: report listings → report pages → PDFs under /wp-content/uploads/.

The report page states the HC number, session and publication date, so they are read there
and carried to each PDF it links. The PDF's cover page ('Report by the Comptroller and
Auditor General', departments, title, 'HC <n> SESSION <yyyy–yy> <date>') is read once, at
ingest, by ``nlp.cover``: it fills what the page left out and names the departments audited.
"""
from __future__ import annotations

import re
from urllib.parse import quote_plus, urlsplit

from crawler.scope import parse_date, parse_session
from crawler.source_spider import SourceSpider, referrer_of, text_of

NAO = "https://www.nao.org.uk"
_HC = re.compile(r"\bHC\s*(\d+(?:-[IVX]+)?)", re.IGNORECASE)


def download_doc_type(label: str) -> str:
    label = label.lower()
    if "summary" in label:
        return "summary"
    if "report" in label or not label:
        return "report"
    return "supporting_document"


class NaoSpider(SourceSpider):
    name = "nao"
    source = "nao"
    publisher = "National Audit Office"
    hosts = (NAO,)

    async def start(self):
        topic = self.topic.nao
        for path in topic.listing_paths:
            yield self.request(self.scope.url(path), self.parse_listing)
        for term in topic.search_terms:
            listing = topic.listing_paths[0] if topic.listing_paths else "/reports/"
            yield self.request(self.scope.url(f"{listing}?s={quote_plus(term)}"), self.parse_listing)

    def relevant(self, title: str) -> bool:
        keywords = self.topic.nao.title_keywords
        return not keywords or any(k in title.lower() for k in keywords)

    def parse_listing(self, response):
        cards = response.css("article.report-card")
        dates = []
        for card in cards:
            link = card.css("h3 a, h2 a, a")[:1]
            href = link.attrib.get("href") if link else None
            title = text_of(link) if link else ""
            published = parse_date(card.css("time::attr(datetime)").get() or text_of(card.css("time")))
            dates.append(published)
            if not href or not self.relevant(title) or not self.scope.keeps(published):
                continue
            yield self.request(response.urljoin(href), self.parse_report, referrer=response.url)
        # Listings run newest first: once a whole page is older than `since`, stop paging.
        all_older = dates and all(d and not self.scope.keeps(d) for d in dates)
        following = response.css("a.next.page-numbers::attr(href)").get()
        if following and not all_older:
            yield self.request(response.urljoin(following), self.parse_listing, referrer=referrer_of(response))

    def parse_report(self, response):
        title = text_of(response.css("h1.entry-title")) or text_of(response.css("h1"))
        published = parse_date(response.css('meta[property="article:published_time"]::attr(content)').get()) \
            or parse_date(text_of(response.css("p.report-date")))
        if not self.scope.keeps(published):
            return
        hc_line = text_of(response.css("p.report-hc"))
        hc = _HC.search(hc_line)
        identifiers = {"hc_number": hc.group(1) if hc else None, "session": parse_session(hc_line)}
        links = response.css("ul.report-downloads a") or response.css('a[href*="/wp-content/uploads/"]')
        for link in links:
            href = response.urljoin(link.attrib.get("href", ""))
            if not urlsplit(href).path.lower().endswith(".pdf"):
                continue
            label = text_of(link)
            doc_type = download_doc_type(label)
            yield self.fetch_file(
                href,
                referrer=response.url,
                title=title if doc_type == "report" else f"{title}: {label}",
                published=published,
                doc_type=doc_type,
                identifiers=identifiers,
            )

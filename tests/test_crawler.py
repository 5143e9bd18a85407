"""The crawler, as a user meets it: spiders run for real through Scrapy against the demo site.

Scrapy's Twisted reactor cannot restart, so every real crawl runs in a subprocess
(``python -m crawler.run``), exactly as ``kb demo`` runs it. Parse callbacks, the pipeline and
the scope rules are also tested in-process on small saved pages in tests/fixtures/crawler/.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fpdf import FPDF
from scrapy import Request
from scrapy.exceptions import DropItem, IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import TimeoutError
from twisted.python.failure import Failure

from crawler.checks import body_problem, pdf_problem
from crawler.items import DocumentItem, FetchFailure
from crawler.pipelines import RawStorePipeline
from crawler.run import CrawlResult, crawl_settings, read_result, run_crawl
from crawler.scope import Scope, parse_date, parse_session, parse_since
from crawler.source_spider import REFERRER
from crawler.spiders.govuk import GovukSpider
from crawler.spiders.nao import NaoSpider
from crawler.spiders.nhs_digital import NhsDigitalSpider
from crawler.spiders.parliament import ParliamentSpider
from crawler.store import extension_for, read_log
from crawler.topic import load_topic
from demosite.site import build_site, render_pdf, serve_site

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "crawler"
BASE = "http://127.0.0.1:8000"
NAO_PDF = "/wp-content/uploads/2017/02/Health-and-social-care-integration.pdf"


# -- helpers ----------------------------------------------------------------------------------


def crawl(home: Path, base_url: str, *sources: str, since: str | None = None) -> dict:
    """Run ``python -m crawler.run`` as kb demo does; returns the CrawlResult it prints."""
    command = [sys.executable, "-m", "crawler.run", "--home", str(home), "--base-url", base_url]
    for source in sources:
        command += ["--source", source]
    if since:
        command += ["--since", since]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Deprecat" not in done.stderr, done.stderr[-4000:]
    result = json.loads(done.stdout)  # stdout holds the result and nothing else
    result["stderr"] = done.stderr
    return result


def one(result: dict, url_end: str, source: str | None = None) -> dict:
    found = [s for s in result["stored"] if s["url"].endswith(url_end) and (source is None or s["source"] == source)]
    assert len(found) == 1, (url_end, [s["url"] for s in result["stored"]])
    return found[0]


def html(name: str, url: str, referrer: str | None = None) -> HtmlResponse:
    request = Request(url, meta={REFERRER: referrer})
    return HtmlResponse(url=url, body=(FIXTURES / name).read_bytes(), encoding="utf-8", request=request)


def api(name: str, url: str, referrer: str | None = None) -> TextResponse:
    request = Request(url, meta={REFERRER: referrer})
    return TextResponse(url=url, body=(FIXTURES / name).read_bytes(), encoding="utf-8",
                        headers={"Content-Type": "application/json"}, request=request)


def requests_in(output) -> list[Request]:
    return [r for r in output if isinstance(r, Request)]


def items_in(output) -> list:
    return [r for r in output if not isinstance(r, Request)]


def start_requests(spider) -> list[Request]:
    async def collect():
        return [request async for request in spider.start()]

    return asyncio.run(collect())


def encrypted_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=timezone.utc))
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.cell(text="Restricted appendix")
    return bytes(pdf.output())


# -- the demo site, crawled for real ----------------------------------------------------------


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    site = build_site(tmp_path_factory.mktemp("demo") / "site")
    with serve_site(site) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def demo(demo_url, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    return home, crawl(home, demo_url, "nao", "govuk", "nhs-digital", "parliament")


def test_the_nao_integration_report_is_stored_with_its_hc_number_and_date(demo):
    home, result = demo
    report = one(result, NAO_PDF)
    assert report["source"] == "nao"
    assert report["title"] == "Health and social care integration"
    assert report["published"] == "2017-02-08"
    # What the report page says; the cover's departments are read at ingest (nlp.cover: see
    # test_kb_consistency's NAO cover test and test_demo_end_to_end).
    assert report["identifiers"] == {"hc_number": "1011", "session": "2016-17"}
    assert report["content_type"] == "application/pdf"
    assert report["publisher"] == "National Audit Office"
    assert report["doc_type"] == "report"
    assert report["referrer"].endswith("/reports/health-and-social-care-integration/")
    summary = one(result, "/Health-and-social-care-integration-Summary.pdf")
    assert summary["doc_type"] == "summary" and summary["identifiers"]["hc_number"] == "1011"


def test_raw_bytes_and_sidecars_sit_under_kb_home_keyed_by_hash(demo):
    home, result = demo
    assert result["stored"]
    for record in result["stored"]:
        path = Path(record["path"])
        sha = record["sha256"]
        assert path == home.resolve() / "raw" / sha[:2] / (sha + path.suffix)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
        sidecar = json.loads((path.parent / f"{sha}.meta.json").read_text())
        assert "body" not in sidecar and sidecar["path"] == str(path)
        assert set(sidecar) >= {"url", "source", "title", "published", "doc_type", "publisher",
                                "identifiers", "referrer", "content_type", "sha256", "fetched_at"}
    report = one(result, NAO_PDF)
    assert report["path"].endswith(".pdf") and Path(report["path"]).read_bytes().startswith(b"%PDF")
    assert datetime.fromisoformat(report["fetched_at"].replace("Z", "+00:00")).tzinfo is not None
    logs = list((home / "crawl").glob("*.jsonl"))
    assert len(logs) == 1 and len(read_log(logs[0])) == len(result["stored"]) + len(result["failed"])


def test_nao_follows_the_listing_to_its_second_page(demo):
    _, result = demo
    older = one(result, "/wp-content/uploads/2014/11/Planning-for-the-Better-Care-Fund.pdf")
    assert older["published"] == "2014-11-11"
    assert older["identifiers"]["hc_number"] == "781" and older["identifiers"]["session"] == "2014-15"


def test_govuk_items_carry_command_paper_numbers(demo):
    _, result = demo
    minutes = one(result, "/Treasury_Minutes_July_2017_Cm_9470.pdf", source="parliament")
    assert minutes["identifiers"]["command_paper_number"] == "Cm 9470"
    assert minutes["identifiers"]["session"] == "2016-17"
    assert minutes["published"] == "2017-07-13" and minutes["publisher"] == "HM Treasury"
    white_paper = one(result, "/api/content/government/publications/health-and-social-care-integration-joining-up-care-for-people-places-and-populations/health-and-social-care-integration-joining-up-care-for-people-places-and-populations")
    assert white_paper["doc_type"] == "html_publication"
    assert white_paper["content_type"] == "application/json"
    assert white_paper["identifiers"]["command_paper_number"] == "CP 573"
    assert json.loads(Path(white_paper["path"]).read_text())["details"]["body"]
    govuk = [s for s in result["stored"] if s["source"] == "govuk"]
    assert all(s["published"] and s["publisher"] for s in govuk)
    assert not any("/government/collections/" in s["url"] for s in govuk), "collections only list documents"


def test_nhs_digital_stores_edition_pages_and_their_pdfs(demo):
    _, result = demo
    edition = one(result, "/adult-social-care-activity-and-finance-report/adult-social-care-activity-and-finance-report-england-2016-17")
    assert edition["content_type"] == "text/html" and edition["published"] == "2017-10-25"
    assert edition["identifiers"]["series"] == "adult-social-care-activity-and-finance-report"
    report = one(result, "/Adult-Social-Care-Activity-and-Finance-Report-England-2016-17.pdf")
    assert report["source"] == "nhs-digital" and report["referrer"] == edition["url"]


def test_parliament_fetches_the_legacy_pac_report_its_pdfs_and_the_treasury_minutes(demo):
    _, result = demo
    conclusions = one(result, "/pa/cm201617/cmselect/cmpubacc/959/95905.htm")
    assert conclusions["source"] == "parliament" and conclusions["content_type"] == "text/html"
    assert conclusions["identifiers"]["hc_number"] == "959"
    assert conclusions["identifiers"]["session"] == "2016-17"
    assert conclusions["published"] == "2017-04-27"
    assert conclusions["title"] == "Integrating health and social care: Conclusions and recommendations"
    ics = one(result, "/api/Publications/34012/Document/117694/OriginalFormat")
    assert ics["content_type"] == "application/pdf" and ics["identifiers"]["hc_number"] == "1064"
    assert Path(ics["path"]).suffix == ".pdf"
    minutes = one(result, "/Treasury_Minutes_April_2023_CP_824.pdf", source="parliament")
    assert minutes["doc_type"] == "treasury_minutes"
    assert minutes["identifiers"]["command_paper_number"] == "CP 824"


def test_every_source_yields_documents_and_the_only_failures_are_missing_series(demo):
    _, result = demo
    counts = {source: sum(s["source"] == source for s in result["stored"])
              for source in ("nao", "govuk", "nhs-digital", "parliament")}
    assert all(counts.values()), counts
    # The default topic names NHS Digital series the demo site does not have.
    for failure in result["failed"]:
        assert failure["source"] == "nhs-digital" and failure["reason"] == "HTTP 404", failure
        assert "/data-and-information/publications/statistical/" in failure["url"]


def test_a_second_crawl_into_the_same_home_changes_nothing_on_disk(demo, demo_url):
    home, first = demo
    before = {p: p.read_bytes() for p in (home / "raw").rglob("*") if p.is_file()}
    again = crawl(home, demo_url, "nao", "govuk", "nhs-digital", "parliament")
    after = {p: p.read_bytes() for p in (home / "raw").rglob("*") if p.is_file()}
    assert after == before
    assert {s["sha256"] for s in again["stored"]} == {s["sha256"] for s in first["stored"]}
    assert again["counts"] == {"new": 0, "changed": 0, "unchanged": len(first["stored"]),
                               "failed": len(first["failed"])}
    assert all(s["not_modified"] for s in again["stored"]), "every document answered 304"


def test_a_mirror_on_another_port_is_the_same_site_to_the_crawl_state(tmp_path):
    from crawler.state import CrawlState, Fetched, state_key

    assert state_key("http://127.0.0.1:4242/a.pdf?x=1") == state_key("http://127.0.0.1:5151/a.pdf?x=1")
    assert state_key("https://www.nao.org.uk/a.pdf") == "https://www.nao.org.uk/a.pdf"
    state = CrawlState(tmp_path / "state.sqlite")
    state.record(Fetched(url="http://127.0.0.1:4242/a.pdf", sha256="ab", path="/x", etag='"1"'))
    assert state.get("http://127.0.0.1:5151/a.pdf").etag == '"1"'
    assert state.change("http://127.0.0.1:5151/a.pdf", "ab") == "unchanged"
    assert state.change("http://127.0.0.1:5151/a.pdf", "cd") == "changed"
    assert state.change("https://www.nao.org.uk/a.pdf", "ab") == "new"


def test_since_drops_older_documents(demo_url, tmp_path):
    result = crawl(tmp_path, demo_url, "nao", "govuk", "nhs-digital", "parliament", since="2018-01-01")
    assert result["stored"]
    assert all(s["published"] >= "2018-01-01" for s in result["stored"] if s["published"])
    urls = [s["url"] for s in result["stored"]]
    assert not any(u.endswith(NAO_PDF) for u in urls)
    assert not any("/pa/cm201617/" in u for u in urls)
    assert any(u.endswith("/The-health-and-social-care-interface.pdf") for u in urls)
    assert any(u.endswith("/Treasury_Minutes_April_2023_CP_824.pdf") for u in urls)


# -- failures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """A site whose links go wrong in every way we know, crawled by nao and govuk."""
    site = build_site(tmp_path_factory.mktemp("broken") / "site", FIXTURES / "brokensite")
    (site / "wp-content/uploads/2020/01/Encrypted.pdf").write_bytes(encrypted_pdf())
    home = tmp_path_factory.mktemp("broken-home")
    with serve_site(site) as base_url:
        return base_url, crawl(home, base_url, "nao", "govuk")


@pytest.mark.parametrize(
    ("url_end", "reason"),
    [
        ("/wp-content/uploads/2020/01/Missing.pdf", "HTTP 404"),
        ("/wp-content/uploads/2020/01/Not-a-pdf.pdf", "not a PDF"),
        ("/wp-content/uploads/2020/01/Encrypted.pdf", "encrypted PDF"),
        ("/attachment_data/file/1/missing.pdf", "HTTP 404"),
        ("/government/publications/broken/download", "wrong content type: expected application/pdf, got text/html"),
    ],
)
def test_each_broken_link_is_recorded_with_its_reason(broken, url_end, reason):
    _, result = broken
    failures = [f for f in result["failed"] if f["url"].endswith(url_end)]
    assert len(failures) == 1, result["failed"]
    assert failures[0]["reason"].startswith(reason)
    assert failures[0]["source"] in ("nao", "govuk") and failures[0]["referrer"]


def test_the_crawl_goes_on_past_failures_and_stays_on_site(broken):
    base_url, result = broken
    stored = {s["url"] for s in result["stored"]}
    assert base_url + "/wp-content/uploads/2020/01/Good.pdf" in stored
    # Linked with the real NAO host, fetched from the base URL instead.
    assert base_url + "/wp-content/uploads/2020/01/Rebased.pdf" in stored
    everything = stored | {f["url"] for f in result["failed"]}
    assert not any("example.org" in url for url in everything)
    assert len(result["failed"]) == 5


def test_scrapy_crawl_works_from_the_repo_root_with_kb_home_from_the_environment(demo_url, tmp_path):
    env = {**os.environ, "KB_HOME": str(tmp_path), "REFRAIN_ITEMS_LOG": str(tmp_path / "items.jsonl")}
    scrapy = shutil.which("scrapy", path=str(Path(sys.executable).parent)) or "scrapy"
    done = subprocess.run(
        [scrapy, "crawl", "nhs-digital", "-a", f"base_url={demo_url}", "-a", "since=2019-01-01",
         "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == ""
    result = read_result(tmp_path / "items.jsonl")
    assert result.stored and all(s["published"] >= "2019-01-01" for s in result.stored)
    assert all(Path(s["path"]).is_relative_to(tmp_path.resolve() / "raw") for s in result.stored)


# -- parse callbacks on saved pages -----------------------------------------------------------


def test_nao_listing_follows_relevant_reports_and_the_next_page():
    spider = NaoSpider(base_url=BASE)
    out = list(spider.parse_listing(html("nao_listing.html", BASE + "/reports/")))
    urls = [r.url for r in requests_in(out)]
    assert urls == [
        BASE + "/reports/the-health-and-social-care-interface/",
        BASE + "/reports/health-and-social-care-integration/",  # linked on www.nao.org.uk
        BASE + "/reports/planning-for-the-better-care-fund/",
        BASE + "/reports/page/2/",
    ]  # "The Equipment Plan" is off topic


def test_nao_listing_respects_since_and_stops_paging_when_a_page_is_all_older():
    newer = NaoSpider(base_url=BASE, since="2017-01-01")
    urls = [r.url for r in newer.parse_listing(html("nao_listing.html", BASE + "/reports/"))]
    assert BASE + "/reports/planning-for-the-better-care-fund/" not in urls
    assert urls[-1] == BASE + "/reports/page/2/"
    assert list(NaoSpider(base_url=BASE, since="2019-01-01").parse_listing(html("nao_listing.html", BASE + "/reports/"))) == []


def test_nao_report_page_gives_pdfs_with_hc_number_session_and_date():
    spider = NaoSpider(base_url=BASE)
    page = BASE + "/reports/health-and-social-care-integration/"
    requests = requests_in(spider.parse_report(html("nao_report.html", page)))
    assert [r.url for r in requests] == [
        BASE + "/wp-content/uploads/2017/02/Health-and-social-care-integration.pdf",
        BASE + "/wp-content/uploads/2017/02/Health-and-social-care-integration-Summary.pdf",
    ]
    full = requests[0].cb_kwargs["doc"]
    assert full == {
        "title": "Health and social care integration",
        "published": "2017-02-08",
        "doc_type": "report",
        "identifiers": {"hc_number": "1011", "session": "2016-17"},
    }
    assert requests[1].cb_kwargs["doc"]["title"] == "Health and social care integration: Summary"
    assert requests[0].meta[REFERRER] == page and requests[0].errback == spider.fetch_failed
    pdf = Response(requests[0].url, body=b"%PDF-1.4 ...", headers={"Content-Type": "application/pdf"},
                   request=requests[0])
    (item,) = spider.parse_file(pdf, **requests[0].cb_kwargs)
    assert isinstance(item, DocumentItem)
    assert item["source"] == "nao" and item["referrer"] == page and item["body"] == b"%PDF-1.4 ..."
    assert item["identifiers"]["hc_number"] == "1011" and item["publisher"] == "National Audit Office"


def test_a_file_link_answering_with_a_web_page_is_a_failure():
    spider = NaoSpider(base_url=BASE)
    request = Request(BASE + "/wp-content/uploads/x.pdf", meta={REFERRER: BASE + "/reports/x/"})
    page = Response(request.url, body=b"<html>", headers={"Content-Type": "text/html; charset=utf-8"}, request=request)
    (failure,) = spider.parse_file(page, expect="application/pdf", doc={"title": "x"})
    assert isinstance(failure, FetchFailure)
    assert failure["reason"] == "wrong content type: expected application/pdf, got text/html"
    assert failure["referrer"] == BASE + "/reports/x/"


def test_govuk_search_asks_for_the_topic_and_pages_through_results():
    spider = GovukSpider(base_url=BASE, since="2015-01-01")
    (first, *_) = start_requests(spider)
    query = parse_qs(urlsplit(first.url).query)
    assert query["q"] == ["health and social care integration"]
    assert "department-of-health-and-social-care" in query["filter_organisations"]
    assert "policy_paper" in query["filter_content_store_document_type"]
    assert query["filter_public_timestamp"] == ["from:2015-01-01"]
    assert query["start"] == ["0"] and query["count"] == ["50"]
    out = requests_in(spider.parse_search(api("govuk_search.json", first.url), **first.cb_kwargs))
    assert out[0].url == BASE + "/api/content/government/publications/health-and-social-care-integration-joining-up-care-for-people-places-and-populations"
    assert len(out) == 2  # 2014 guidance is before `since`; the external link is not ours
    assert parse_qs(urlsplit(out[1].url).query)["start"] == ["3"] and out[1].cb_kwargs["start"] == 3


def test_treasury_minutes_belong_to_parliament_whichever_spider_finds_them():
    url = BASE + "/api/content/government/publications/treasury-minutes-july-2017"
    response = api("govuk_publication.json", url, referrer=BASE + "/api/search.json")
    assert list(GovukSpider(base_url=BASE).parse_content(response)) == []
    assert items_in(ParliamentSpider(base_url=BASE).parse_content(response))


def test_govuk_content_item_gives_its_body_html_children_and_pdf_attachments():
    spider = ParliamentSpider(base_url=BASE)
    url = BASE + "/api/content/government/publications/treasury-minutes-july-2017"
    out = list(spider.parse_content(api("govuk_publication.json", url, referrer=BASE + "/api/search.json")))
    (item,) = items_in(out)
    assert item["content_type"] == "application/json" and item["doc_type"] == "treasury_minutes"
    assert item["identifiers"] == {"command_paper_number": "Cm 9470", "session": "2016-17"}
    assert item["publisher"] == "HM Treasury" and item["published"] == "2017-07-13"
    assert item["referrer"] == BASE + "/api/search.json"
    child, pdf = requests_in(out)
    assert child.url == url + "/treasury-minutes-july-2017-html"
    assert child.cb_kwargs["identifiers"] == {"command_paper_number": "Cm 9470"}
    # Attachments on assets.publishing.service.gov.uk move onto the base URL too.
    assert pdf.url == BASE + "/government/uploads/system/uploads/attachment_data/file/630209/Treasury_Minutes_July_2017_Cm_9470.pdf"
    assert pdf.cb_kwargs["doc"]["identifiers"] == {"command_paper_number": "Cm 9470", "session": "2016-17",
                                                   "number_of_pages": 40}


def test_a_collection_is_followed_whatever_its_age_but_not_stored():
    spider = ParliamentSpider(base_url=BASE, since="2020-01-01")
    url = BASE + "/api/content/government/collections/treasury-minutes-progress-on-implementing-recommendations-of-public-accounts-committee"
    out = list(spider.parse_content(api("govuk_collection.json", url)))
    assert items_in(out) == []
    assert [r.url for r in out] == [
        BASE + "/api/content/government/publications/treasury-minutes-april-2023",
        BASE + "/api/content/government/publications/treasury-minutes-july-2017",
    ]


def test_nhs_digital_series_page_lists_its_editions():
    spider = NhsDigitalSpider(base_url=BASE)
    series = "/data-and-information/publications/statistical/adult-social-care-activity-and-finance-report"
    out = list(spider.parse_series(html("nhs_series.html", BASE + series), series="adult-social-care-activity-and-finance-report"))
    assert [r.url for r in out] == [
        BASE + series + "/2022-23",
        BASE + series + "/adult-social-care-activity-and-finance-report-england-2016-17",
    ]


def test_nhs_digital_edition_page_is_a_document_and_links_its_pdf():
    spider = NhsDigitalSpider(base_url=BASE)
    url = BASE + "/data-and-information/publications/statistical/adult-social-care-activity-and-finance-report/adult-social-care-activity-and-finance-report-england-2016-17"
    out = list(spider.parse_edition(html("nhs_edition.html", url), series="adult-social-care-activity-and-finance-report"))
    (page,) = items_in(out)
    assert page["title"] == "Adult Social Care Activity and Finance Report, England 2016-17"
    assert page["published"] == "2017-10-25" and page["content_type"] == "text/html"
    assert page["identifiers"]["series_title"] == "Adult Social Care Activity and Finance Report"
    (pdf,) = requests_in(out)  # the xlsx is not a report
    assert pdf.url == BASE + "/publication/p/Adult-Social-Care-Activity-and-Finance-Report-England-2016-17.pdf"
    assert pdf.cb_kwargs["doc"]["doc_type"] == "statistical_report"
    assert list(NhsDigitalSpider(base_url=BASE, since="2018-01-01").parse_edition(html("nhs_edition.html", url))) == []


def test_parliament_search_asks_the_committees_api_and_pages():
    spider = ParliamentSpider(base_url=BASE, since="2016-01-01")
    first, *rest = start_requests(spider)
    query = parse_qs(urlsplit(first.url).query)
    assert urlsplit(first.url).path == "/api/Publications"
    assert query["CommitteeId"] == ["127"] and query["StartDate"] == ["2016-01-01"]
    assert query["Skip"] == ["0"] and query["Take"] == ["30"]
    assert rest[-1].url.endswith("/api/content/government/collections/treasury-minutes-progress-on-implementing-recommendations-of-public-accounts-committee")
    out = list(spider.parse_publications(api("parliament_publications.json", first.url), **first.cb_kwargs))
    assert [r.url for r in out[:2]] == [BASE + "/api/Publications/22871", BASE + "/api/Publications/20745"]
    assert parse_qs(urlsplit(out[2].url).query)["Skip"] == ["2"]
    later = ParliamentSpider(base_url=BASE, since="2018-01-01")
    assert len(list(later.parse_publications(api("parliament_publications.json", first.url), **first.cb_kwargs))) == 2


def test_parliament_publication_gives_pdf_documents_and_the_legacy_html_report():
    spider = ParliamentSpider(base_url=BASE)
    out = list(spider.parse_publication(api("parliament_publication.json", BASE + "/api/Publications/20745")))
    pdf, legacy = out  # the spreadsheet is skipped
    assert pdf.url == BASE + "/api/Publications/20745/Document/70001/OriginalFormat"
    assert legacy.url == BASE + "/pa/cm201617/cmselect/cmpubacc/959/95902.htm"
    doc = legacy.cb_kwargs["doc"]
    assert doc["identifiers"]["hc_number"] == "959" and doc["identifiers"]["session"] == "2016-17"
    assert doc["published"] == "2017-04-27" and doc["doc_type"] == "report"


def test_a_legacy_report_page_is_a_document_and_leads_to_its_sibling_chapters():
    spider = ParliamentSpider(base_url=BASE)
    url = BASE + "/pa/cm201617/cmselect/cmpubacc/959/95902.htm"
    doc = {"title": "Integrating health and social care", "published": "2017-04-27", "doc_type": "report",
           "publisher": "Public Accounts Committee", "identifiers": {"hc_number": "959"}}
    out = list(spider.parse_legacy_report(html("parliament_legacy.htm", url), doc=doc))
    (page,) = items_in(out)
    assert page["title"] == "Integrating health and social care: Contents"
    assert page["content_type"] == "text/html"
    assert [r.url for r in requests_in(out)] == [
        BASE + "/pa/cm201617/cmselect/cmpubacc/959/95903.htm",
        BASE + "/pa/cm201617/cmselect/cmpubacc/959/95905.htm",
    ]


def test_failed_requests_become_failure_records():
    spider = NaoSpider(base_url=BASE)
    request = Request(BASE + "/missing.pdf", meta={REFERRER: BASE + "/reports/x/"})
    not_found = Failure(HttpError(Response(request.url, status=404, request=request)))
    not_found.request = request
    (record,) = spider.fetch_failed(not_found)
    assert dict(record) == {"url": request.url, "source": "nao", "reason": "HTTP 404", "referrer": BASE + "/reports/x/"}
    slow = Failure(TimeoutError())
    slow.request = request
    assert [r["reason"] for r in spider.fetch_failed(slow)] == ["timeout"]
    offsite = Failure(IgnoreRequest("Filtered offsite request"))
    offsite.request = request
    assert list(spider.fetch_failed(offsite)) == []


# -- the pipeline and its checks --------------------------------------------------------------


def document(body: bytes, url: str = BASE + "/a.pdf", content_type: str = "application/pdf") -> DocumentItem:
    return DocumentItem(url=url, source="nao", title="A", published="2017-02-08", doc_type="report",
                        publisher="National Audit Office", identifiers={"hc_number": "1"},
                        referrer=BASE + "/reports/a/", content_type=content_type,
                        fetched_at="2024-01-01T00:00:00Z", body=body)


def test_the_pipeline_stores_once_by_hash_and_logs_each_document(tmp_path):
    pipeline = RawStorePipeline(tmp_path, tmp_path / "crawl" / "log.jsonl")
    pipeline.open_spider()
    body = render_pdf("title: A\n---\nHello.\n")
    stored = pipeline.process_item(document(body))
    sha = hashlib.sha256(body).hexdigest()
    path = tmp_path.resolve() / "raw" / sha[:2] / f"{sha}.pdf"
    assert stored["sha256"] == sha and stored["path"] == str(path) and path.read_bytes() == body
    sidecar = path.with_name(f"{sha}.meta.json")
    first = sidecar.read_bytes()
    assert "body" not in json.loads(first)
    pipeline.process_item(document(body, url=BASE + "/elsewhere/a.pdf"))
    assert sidecar.read_bytes() == first, "the first sidecar for a hash stays"
    pipeline.close_spider()
    log = read_log(tmp_path / "crawl" / "log.jsonl")
    assert [r["status"] for r in log] == ["stored", "stored"]
    assert not list(path.parent.glob("*.tmp"))


def test_a_local_file_is_kept_in_the_same_raw_store_as_crawled_ones(tmp_path):
    """kb ingest keeps a copy of every local file it reads: the same store, the same layout,
    so the same bytes crawled and ingested from disk are one file."""
    from kb.index.ingest import keep_raw_copy

    body = render_pdf("title: A\n---\nHello.\n")
    pipeline = RawStorePipeline(tmp_path, None)
    crawled = Path(pipeline.process_item(document(body))["path"])
    pipeline.close_spider()
    local = tmp_path / "downloads" / "My Report.PDF"
    local.parent.mkdir()
    local.write_bytes(body)
    sha = hashlib.sha256(body).hexdigest()
    assert keep_raw_copy(tmp_path.resolve() / "raw", local, sha, body) == crawled
    other = b"%PDF-1.4 another report"
    other_sha = hashlib.sha256(other).hexdigest()
    kept = keep_raw_copy(tmp_path.resolve() / "raw", local, other_sha, other)
    assert kept == tmp_path.resolve() / "raw" / other_sha[:2] / f"{other_sha}.pdf" and kept.read_bytes() == other
    assert not list((tmp_path / "raw").rglob("*.tmp"))


def test_the_pipeline_refuses_bad_bodies_and_records_fetch_failures(tmp_path):
    pipeline = RawStorePipeline(tmp_path, tmp_path / "log.jsonl")
    pipeline.open_spider()
    with pytest.raises(DropItem):
        pipeline.process_item(document(b"<html>Not found</html>"))
    with pytest.raises(DropItem):
        pipeline.process_item(FetchFailure(url=BASE + "/b.pdf", source="nao", reason="HTTP 500", referrer=None))
    pipeline.close_spider()
    log = read_log(tmp_path / "log.jsonl")
    assert [(r["status"], r["reason"]) for r in log] == [
        ("failed", "not a PDF: body does not start with %PDF"),
        ("failed", "HTTP 500"),
    ]
    assert not (tmp_path / "raw").exists()


def test_pdf_checks_catch_truncated_and_encrypted_files():
    good = render_pdf("title: A\n---\n" + "Some text.\n\n" * 50)
    assert pdf_problem(good) is None
    assert pdf_problem(good[: len(good) // 2]).startswith("truncated PDF")
    assert pdf_problem(encrypted_pdf()).startswith("encrypted PDF")
    assert body_problem(BASE + "/page", "text/html", b"<html></html>") is None
    assert body_problem(BASE + "/x.pdf", "text/html", b"<html></html>").startswith("not a PDF")
    assert body_problem(BASE + "/x", "application/json", b"") == "empty body"


@pytest.mark.parametrize(
    ("content_type", "url", "ext"),
    [
        ("application/pdf", BASE + "/api/Publications/1/Document/2/OriginalFormat", ".pdf"),
        ("text/html; charset=utf-8", BASE + "/pa/cm201617/959/95905.htm", ".html"),
        ("application/json", BASE + "/api/content/x", ".json"),
        ("text/plain", BASE + "/robots.txt", ".txt"),
        ("application/octet-stream", BASE + "/x.pdf", ".pdf"),
        (None, BASE + "/x", ".bin"),
    ],
)
def test_stored_files_get_an_extension_from_their_content_type(content_type, url, ext):
    assert extension_for(content_type, url) == ext


# -- scope, topic, settings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-02-08", "2017-02-08"),
        ("2023-04-20T09:30:00.000+01:00", "2023-04-20"),
        ("2017-04-27T00:00:00", "2017-04-27"),
        ("Published: 8 February 2017", "2017-02-08"),
        ("25 Oct 2017", "2017-10-25"),
        ("7 Dec 2023", "2023-12-07"),
        ("February 8, 2017", "2017-02-08"),
        ("08/02/2017", "2017-02-08"),
        ("no date here", None),
        (None, None),
    ],
)
def test_publishers_dates_read_as_iso(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("HC 1011 Session 2016–17", "2016-17"), ("HC 950 Session 2017–2019", "2017-19"),
     ("/pa/cm201617/cmselect/cmpubacc/959/95902.htm", "2016-17"), ("Session 2016 to 2017", "2016-17"),
     ("HC 1011", None)],
)
def test_parliamentary_sessions_read_as_yyyy_yy(text, expected):
    assert parse_session(text) == expected


def test_a_base_url_replaces_every_real_host_and_narrows_the_allowed_domains():
    scope = Scope(("https://www.gov.uk", "https://assets.publishing.service.gov.uk"), base_url=BASE + "/ignored/path")
    assert scope.base_url == BASE
    assert scope.allowed_domains == ["127.0.0.1"]
    assert scope.url("/api/search.json?q=x") == BASE + "/api/search.json?q=x"
    assert scope.rebase("https://assets.publishing.service.gov.uk/media/a/b.pdf?x=1") == BASE + "/media/a/b.pdf?x=1"
    assert scope.rebase("https://www.example.org/x.pdf") == "https://www.example.org/x.pdf"
    live = Scope(("https://www.gov.uk", "https://assets.publishing.service.gov.uk"))
    assert live.allowed_domains == ["assets.publishing.service.gov.uk", "www.gov.uk"]
    assert live.url("/api/content/x") == "https://www.gov.uk/api/content/x"
    assert live.rebase("https://www.gov.uk/x") == "https://www.gov.uk/x"


def test_since_overrides_the_topic_floor_and_undated_documents_are_kept():
    floor = Scope(("https://www.nao.org.uk",), date_from="2013-01-01")
    assert not floor.keeps("2012-12-31") and floor.keeps("2013-01-01") and floor.keeps(None)
    since = Scope(("https://www.nao.org.uk",), since="2018-01-01", date_from="2013-01-01")
    assert since.earliest == "2018-01-01" and not since.keeps("2017-02-08")
    with pytest.raises(ValueError):
        parse_since("08/02/2017")


def test_the_default_topic_and_a_users_own(tmp_path):
    topic = load_topic()
    assert topic.date_from == "2013-01-01"
    assert "better care fund" in topic.govuk.queries
    assert "department-of-health-and-social-care" in topic.govuk.organisations
    assert topic.parliament.committee_id == 127
    assert topic.parliament.treasury_minutes_collection == "treasury-minutes-progress-on-implementing-recommendations-of-public-accounts-committee"
    assert "adult-social-care-activity-and-finance-report" in topic.nhs_digital.series
    own = tmp_path / "topic.json"
    own.write_text(json.dumps({"name": "Delayed discharge", "nhs_digital": {"series": ["delayed-discharge"]}}))
    spider = NhsDigitalSpider(topic=str(own))
    assert [r.url for r in start_requests(spider)] == [
        "https://digital.nhs.uk/data-and-information/publications/statistical/delayed-discharge"]


def test_the_project_lists_the_four_spiders():
    settings = Settings()
    settings.setmodule("crawler.settings")
    assert sorted(SpiderLoader.from_settings(settings).list()) == ["govuk", "nao", "nhs-digital", "parliament"]


def test_settings_are_polite_except_on_loopback(tmp_path):
    live = crawl_settings(tmp_path, tmp_path / "log.jsonl", "https://www.gov.uk")
    assert live.getbool("ROBOTSTXT_OBEY") and live.getbool("AUTOTHROTTLE_ENABLED")
    assert live.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 2
    assert live["USER_AGENT"].startswith("Refrain/0.1 (+http")
    assert 429 in live.getlist("RETRY_HTTP_CODES") and 503 in live.getlist("RETRY_HTTP_CODES")
    assert live.getint("DOWNLOAD_MAXSIZE") == 100 * 1024 * 1024
    assert live["KB_HOME"] == str(tmp_path) and live["REFRAIN_ITEMS_LOG"] == str(tmp_path / "log.jsonl")
    demo = crawl_settings(tmp_path, tmp_path / "log.jsonl", BASE,
                          {"REFRAIN_CONTACT_URL": "mailto:team@example.org", "KB_HOME": "/elsewhere"})
    assert not demo.getbool("AUTOTHROTTLE_ENABLED") and demo.getfloat("DOWNLOAD_DELAY") == 0
    assert demo.getbool("ROBOTSTXT_OBEY")
    assert demo["USER_AGENT"] == "Refrain/0.1 (+mailto:team@example.org)"
    assert demo["KB_HOME"] == str(tmp_path), "where a crawl writes is not overridable"


def test_run_crawl_rejects_unknown_sources_before_starting(tmp_path):
    with pytest.raises(ValueError, match="unknown source"):
        run_crawl(tmp_path, ["nao", "bbc"])
    assert isinstance(CrawlResult(), CrawlResult)


# -- the demo site's APIs answer as the real ones ---------------------------------------------


def test_the_search_api_refuses_unknown_parameters_and_pages_with_start_and_count():
    from demosite.siteapi import committees_api, search_api

    stored = {"results": [{"link": f"/r{n}"} for n in range(7)], "total": 7}
    assert search_api(stored, {"q": ["care"], "page": ["2"]}) == (422, {"error": "Unexpected parameters: page"})
    status, answer = search_api(stored, {"filter_public_timestamp": ["since:2017"]})
    assert status == 422 and "filter_public_timestamp" in answer["error"]
    status, answer = search_api(stored, {"q": ["care"], "filter_public_timestamp": ["from:2017-01-01,to:2018-01-01"],
                                         "filter_organisations": ["hm-treasury"], "count": ["3"], "start": ["6"],
                                         "fields": ["title"], "order": ["-public_timestamp"]})
    assert status == 200 and answer["results"] == [{"link": "/r6"}] and answer["total"] == 7
    status, answer = committees_api({"items": [{"id": n} for n in range(5)], "totalResults": 5},
                                    {"Skip": ["2"], "Take": ["2"]})
    assert [i["id"] for i in answer["items"]] == [2, 3] and answer["totalResults"] == 5


def test_govuk_and_parliament_page_through_their_apis_for_real(demo_url, tmp_path):
    topic = json.loads((REPO / "samples/topic.json").read_text())
    topic["govuk"].update(queries=["health"], page_size=3)
    topic["parliament"].update(search_terms=["care"], page_size=1, treasury_minutes_collection=None)
    (tmp_path / "topic.json").write_text(json.dumps(topic))
    small = subprocess.run(
        [sys.executable, "-m", "crawler.run", "--home", str(tmp_path / "home"), "--base-url", demo_url,
         "--source", "govuk", "--source", "parliament", "--set", f"REFRAIN_TOPIC={tmp_path / 'topic.json'}"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert small.returncode == 0, small.stderr[-3000:]
    result = json.loads(small.stdout)
    assert result["failed"] == []  # no 422: every parameter we send is one the Search API knows
    search = json.loads((REPO / "samples/site/api/search.json").read_text())["results"]
    linked = {r["link"] for r in search}
    referrers = {s["referrer"] for s in result["stored"] if s["source"] == "govuk"}
    assert any("start=3" in (r or "") for r in referrers) and any("start=9" in (r or "") for r in referrers)
    assert len(linked) == 11  # four pages of three: the demo listing (with the 2019 progress report)
    publications = json.loads((REPO / "samples/site/api/Publications.json").read_text())["items"]
    got = {s["identifiers"].get("publication_id") for s in result["stored"] if s["source"] == "parliament"}
    assert got >= {str(p["id"]) for p in publications if p.get("publicationStartDate", "") >= "2013"}


def test_govuk_files_linked_only_from_rendered_documents_blocks_are_fetched_once():
    """Older publications list their files as HTML blocks in ``details.documents``; a file
    that is also an attachment record is fetched once, with its page count."""
    spider = GovukSpider(base_url=BASE)
    url = BASE + "/api/content/government/publications/better-care-fund-policy-framework-2016-to-2017"
    out = list(spider.parse_content(api("govuk_legacy_documents.json", url)))
    pdfs = [r for r in requests_in(out) if r.url.endswith(".pdf")]
    assert [r.url for r in pdfs] == [
        BASE + "/media/5a80b3/BCF_Technical_Guidance.pdf",
        BASE + "/media/5a80b1/BCF_Policy_Framework_2016-17.pdf",
    ]
    guidance, framework = (r.cb_kwargs["doc"] for r in pdfs)
    assert guidance["identifiers"] == {"number_of_pages": 41}
    assert framework["title"] == "Better Care Fund: policy framework 2016 to 2017"
    assert framework["published"] == "2016-01-08" and framework["publisher"] == "Department of Health"
    assert not any(r.url.endswith(".odt") for r in requests_in(out))

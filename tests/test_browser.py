"""The web app in a real headless Chromium (Debian's ``chromium``, driven by Playwright),
served by waitress on a free loopback port over the fixture knowledge base.

Opt-in layer: marked ``browser``; skipped with a reason when Chromium is not installed
(``make test`` installs it). A failing test leaves a screenshot in test-artifacts/.
"""
from __future__ import annotations

import re
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "web"))
pytest_plugins = ["refrain_webtest"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PDF_TITLE = "Integrated care systems: the first year"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} not found: install Debian's chromium (`make chromium`) to run browser tests"),
]


@pytest.fixture(scope="module")
def live_server(web_app):
    """The app under waitress, as ``kb serve`` runs it, on a free 127.0.0.1 port."""
    yield from served(web_app)


def served(app):
    """Yield the URL of ``app`` served by waitress on a free 127.0.0.1 port; stop it afterwards."""
    from webapp.serve import make_server, server_url

    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, name="waitress-under-test", daemon=True)
    thread.start()
    yield server_url(server)
    server.close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:
        playwright.stop()
        pytest.skip(f"could not start {CHROMIUM}: {exc}")
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser, request):
    """A fresh page; a console error (a CSP violation) or a failed asset fails the test.
    (A 4xx page itself may be the point of a test; a 4xx stylesheet never is.)"""
    options = {"viewport": {"width": 1280, "height": 900}, **(getattr(request, "param", {}) or {})}
    yield from watched_page(browser, **options)


def watched_page(browser, **context_options):
    """Yield a new page in its own context; afterwards, fail on any console error or failed asset."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document" else None)
    yield page
    context.close()
    assert not problems, f"browser console errors: {problems}"


def test_a_researcher_searches_then_narrows_by_a_facet(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to main content")
    search_box = page.get_by_label("Search for a barrier, a recommendation or a phrase")
    search_box.fill("information governance")
    search_box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=information\+governance"))
    results = page.locator("ol.results > li")
    expect(results.first).to_be_visible()
    expect(page.locator("mark").first).to_have_text(re.compile("information", re.I))
    assert results.count() >= 4

    page.locator("aside.facets").get_by_role("link", name=re.compile(r"^UK Parliament")).click()
    expect(page).to_have_url(re.compile(r"source=parliament"))
    expect(page.locator(".active-filters")).to_contain_text("Source: UK Parliament")
    sources = page.locator("ol.results .source-name").all_text_contents()
    assert sources and set(sources) == {"UK Parliament"}
    # The facet now reads as a way to remove the filter, and counts still show the other sources.
    expect(page.locator("a.facet-link.is-active")).to_contain_text("UK Parliament")
    expect(page.locator("aside.facets")).to_contain_text("National Audit Office")


def test_a_hit_opens_its_document_at_the_cited_page(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/search?q=information+governance+data+protection")
    page.locator("ol.results").get_by_role("link", name=PDF_TITLE, exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/documents/[0-9a-f]{16}\?passage=[0-9a-f]+&quote=.+#cited$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(PDF_TITLE)
    # The cited words are marked, in the page's text opened for them, and scrolled into view.
    expect(page.locator("#cited")).to_be_in_viewport()
    expect(page.locator("#page-2 #cited")).to_contain_text(re.compile("information governance", re.I))
    expect(page.locator("#page-2 details.page-text")).to_have_attribute("open", "")
    expect(page.get_by_role("link", name="https://www.example.org/nao/integrated-care-systems-first-year-2022")
           ).to_be_visible()


def show_recommendations_only(page) -> None:
    """The recurrences page shows findings and recommendations together; a reader after the
    recommendations picks them in its 'Show' control, as the page offers."""
    from playwright.sync_api import expect

    page.get_by_label("Show", exact=True).select_option("recommendation")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"kind=recommendation"))
    expect(page.locator("ol.groups h2 .kind").first).to_have_text("Recommendation")


def test_a_journalist_follows_a_recurring_recommendation_through_the_years(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/recurrences")
    show_recommendations_only(page)
    page.locator("ol.groups h2 a").first.click()
    expect(page).to_have_url(re.compile(r"/recurrences/[0-9a-f]+$"))
    expect(page.locator("#story")).to_contain_text("First said in 2014, repeated in")
    marks = page.locator("svg.timeline-svg a.mark")
    expect(marks.first).to_be_visible()
    assert marks.count() >= 3
    labels = [marks.nth(i).get_attribute("aria-label") for i in range(marks.count())]
    assert labels[0].startswith("1. 19 November 2014")
    # A mark is a real link: reach it from the keyboard and follow it to the sentence.
    marks.last.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/documents/[0-9a-f]{16}#rec-[0-9a-f]+$"))
    anchor = page.url.split("#")[1]
    target = page.locator(f"[id='{anchor}']")
    expect(target).to_be_in_viewport()
    expect(target).to_contain_text("should")


@pytest.mark.parametrize("page", [{"java_script_enabled": False}], indirect=True, ids=["no-javascript"])
def test_search_and_filters_work_without_javascript(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/")
    page.get_by_label("Search for a barrier, a recommendation or a phrase").fill("workforce")
    page.locator("summary", has_text="Filters").click()
    page.get_by_label("Source").select_option("nao")
    page.get_by_label("From year").fill("2020")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"q=workforce.*source=nao.*from=2020"))
    expect(page.locator("ol.results > li").first).to_contain_text("2022")
    page.get_by_label("To year").fill("2019")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".error-summary")).to_contain_text("must not be after")


def test_a_journalist_sees_the_government_response_on_the_timeline_and_follows_it(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/recurrences")
    show_recommendations_only(page)
    page.locator("ol.groups h2 a").first.click()
    response_mark = page.locator("svg.timeline-svg a.event-response")
    target_mark = page.locator("svg.timeline-svg a.event-target")
    expect(response_mark).to_have_count(1)
    expect(target_mark).to_have_attribute("aria-label", re.compile(r"target.*March 2019", re.I))
    box = response_mark.bounding_box()
    assert box and box["width"] > 5 and box["height"] > 5  # drawn, not just present
    expect(page.locator("#responses")).to_contain_text("target date: March 2019")
    response_mark.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/documents/[0-9a-f]{16}#response-\d+$"))
    target = page.locator(f"[id='{page.url.split('#')[1]}']")
    expect(target).to_be_in_viewport()
    expect(target).to_contain_text("Accepted")


def test_a_researcher_downloads_search_results_and_funding_figures_as_csv(page, live_server, tmp_path):
    from playwright.sync_api import expect

    page.goto(live_server + "/search?q=information+governance")
    with page.expect_download() as caught:
        page.get_by_role("link", name=re.compile(r"^Download the best \d+ as CSV")).click()
    download = caught.value
    assert download.suggested_filename == "refrain-search.csv"
    path = tmp_path / "search.csv"
    download.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("rank,title,publisher,source,published,page")
    assert len(lines) > 4 and "information governance" in text.lower()

    page.goto(live_server + "/funding")
    page.get_by_label("Kind").select_option("allocation")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"kind=allocation"))
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download these figures (CSV)").click()
    path = tmp_path / "funding.csv"
    caught.value.save_as(path)
    rows = path.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("amount_gbp,mention,per_unit,subject")
    assert len(rows) == 1 + page.locator("#funding-table tbody tr").count() == 4
    assert all(",allocation," in row for row in rows[1:])


def test_the_barriers_pages_draw_their_charts(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/barriers")
    expect(page.locator("#compare")).to_be_visible()
    chart = page.locator("#chart-information_sharing svg")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 50
    assert page.locator("#chart-information_sharing rect.bar").count() == 5
    # Counting documents instead of sentences redraws the table and the charts.
    page.get_by_role("link", name="documents", exact=True).click()
    expect(page).to_have_url(re.compile(r"/barriers\?count=documents$"))
    expect(page.locator("#compare caption")).to_contain_text("Documents stating each theme")
    expect(page.locator("#chart-information_sharing svg")).to_be_visible()
    assert page.locator("#chart-information_sharing rect.bar").count() == 5
    page.get_by_role("link", name="sentences", exact=True).click()
    expect(page.locator("#compare caption")).to_contain_text("Barrier sentences per theme and year")
    page.locator("#compare").get_by_role("link", name="Workforce").click()
    expect(page).to_have_url(re.compile(r"/barriers/workforce$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Workforce")
    bars = page.locator("#chart-years rect.bar")
    assert bars.count() == 3
    assert all(bars.nth(i).bounding_box()["height"] > 10 for i in range(bars.count()))
    # The numbers behind the chart open from the keyboard.
    page.locator("#chart-years summary").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#chart-years table")).to_be_visible()
    expect(page.locator("#chart-years table")).to_contain_text("2018")
    page.locator("ol.evidence a").first.click()
    expect(page).to_have_url(re.compile(r"/documents/[0-9a-f]{16}#barrier-\d+$"))
    expect(page.locator(f"[id='{page.url.split('#')[1]}']")).to_be_in_viewport()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_funding_table_sorts_from_the_keyboard_and_charts_by_year(page, live_server, width):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server + "/funding")
    # Each kind has its own chart and total: allocations and spending are never added together
    expect(page.locator("#chart-funding-allocation svg")).to_be_visible()
    expect(page.locator("#chart-funding-spend svg")).to_be_visible()
    assert page.locator("#chart-funding-allocation rect.bar").count() == 3
    assert page.locator("#chart-funding-spend rect.bar").count() == 2
    kinds = page.locator("#funding-kinds tbody tr")
    expect(kinds).to_have_count(2)
    expect(kinds.first).to_contain_text("£122 billion")
    # The totals by kind and each kind's chart fit the screen, phone included (on a phone a chart
    # keeps labels readable and scrolls sideways inside its own figure, as the wide figures table
    # scrolls in its own region)
    for part in ("#funding-kinds", "#chart-funding-allocation", "#chart-funding-spend"):
        box = page.locator(part).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, part
    amounts = page.locator("#funding-table .amount-cell")
    expect(amounts.first).to_have_text("£116 billion")
    page.locator("#funding-table").get_by_role("link", name=re.compile(r"^Year")).focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"sort=year"))
    expect(page.locator("th[aria-sort='ascending']")).to_contain_text("Year")
    expect(amounts.first).to_have_text("£3.8 billion")  # 2014 first
    # Hostile text in a document's title stays text.
    expect(page.locator("#funding-table")).to_contain_text("<script>alert(2)</script>")
    assert page.locator("#funding-table img").count() == 0

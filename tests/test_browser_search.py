"""Issue 16 in a real headless Chromium, on a desktop (1280 px) and a phone (390 px): search says
when nothing matches, groups by document, sorts by date (every match) and browses a theme; one
report cannot fill the page and its other passages are one link away; a facet's count is
what its link shows; the recurrence timeline and the funding table are readable on a phone.

Same layer and fixtures as tests/test_browser.py (marked ``browser``; skipped without Chromium).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "web"))
pytest_plugins = ["refrain_webtest"]

from test_browser import (CHROMIUM, browser, live_server, show_recommendations_only,  # noqa: E402,F401
                          watched_page)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: install Debian's chromium"),
]

SCREENS = [{"width": 1280, "height": 900}, {"width": 390, "height": 844}]
screens = pytest.mark.parametrize("page", SCREENS, indirect=True, ids=["desktop-1280", "phone-390"])


def open_filters(page) -> None:
    """The filters panel starts folded on a phone and open on a desktop: open it either way."""
    if not page.locator("details.filters").get_attribute("open"):
        page.locator("summary", has_text="Filters and order").click()


@pytest.fixture
def page(browser, request):
    """A fresh page at the screen size asked for (a phone: touch, 3x pixels); a console error
    or a failed asset fails the test, as in tests/test_browser.py."""
    viewport = request.param
    phone = viewport["width"] < 500
    yield from watched_page(browser, viewport=viewport, device_scale_factor=3 if phone else 1,
                            is_mobile=phone, has_touch=phone)

# The smallest rendered text size on the page, SVG text scaled by its picture's drawn width.
SMALLEST_TEXT = """(scope) => {
  let smallest = 999, what = '';
  for (const el of document.querySelectorAll(scope)) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    if (!own || !box.width || el.closest('.visually-hidden')) continue;
    let size = parseFloat(getComputedStyle(el).fontSize);
    const svg = el.closest('svg');
    if (svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width)
      size *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    if (size < smallest) { smallest = size; what = el.tagName + ' ' + el.textContent.trim().slice(0, 30); }
  }
  return [smallest, what];
}"""


def no_page_overflow(page) -> None:
    """Nothing makes the page itself scroll sideways."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"


@screens
def test_a_word_no_document_holds_is_answered_with_no_match_and_ways_out(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/")
    box = page.get_by_label("Search for a barrier, a recommendation or a phrase")
    box.fill("xyzzyplugh")
    box.press("Enter")
    expect(page.locator("#result-count")).to_have_text(re.compile(r"^\s*No passages match “?xyzzyplugh”?\.\s*$"))
    expect(page.locator("ol.results > li")).to_have_count(0)
    expect(page.locator("#no-results")).to_contain_text("holds all your words")
    expect(page.get_by_role("link", name=re.compile("Download"))).to_have_count(0)
    no_page_overflow(page)


@screens
def test_a_researcher_groups_by_document_newest_first(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/search?q=care")
    expect(page.locator("ol.results > li").first).to_be_visible()
    open_filters(page)
    page.get_by_label("Show", exact=True).select_option("document")
    page.get_by_label("Sort by").select_option("-date")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"sort=-date.*group=document|group=document.*sort=-date"))
    docs = page.locator("ol.documents > li")
    expect(docs.first).to_be_visible()
    titles = docs.locator("h3").all_text_contents()
    assert len(titles) == len(set(titles)) >= 3
    counts = [int(re.match(r"\d+", t).group()) for t in docs.locator(".match-count").all_text_contents()]
    assert all(n >= 1 for n in counts)
    dates = docs.locator(".result-meta time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert dates == sorted(dates, reverse=True)
    expect(page.locator("#result-count")).to_contain_text("newest first")
    no_page_overflow(page)


@screens
def test_a_theme_with_no_words_browses_the_theme(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/")
    page.locator("summary", has_text="Filters and order").click()
    page.get_by_label("Barrier theme").select_option("information_sharing")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"theme=information_sharing"))
    results = page.locator("ol.results > li")
    expect(results.first).to_be_visible()
    for i in range(results.count()):
        expect(results.nth(i).locator(".tags")).to_contain_text("Information sharing")
    expect(page.locator("#result-count")).to_contain_text("with these filters, newest first")
    no_page_overflow(page)


@screens
def test_a_facet_count_is_the_number_of_results_its_link_shows(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/search?q=information+sharing")
    facet = page.locator("aside.facets a.facet-link").first
    count = int(facet.locator(".facet-count").inner_text().split()[0])
    facet.click()
    expect(page.locator("#result-count")).to_contain_text(f"of {count} passage")
    no_page_overflow(page)


@screens
def test_the_timeline_is_readable_and_followable_on_a_phone(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/recurrences")
    show_recommendations_only(page)
    page.locator("ol.groups h2 a").first.click()
    expect(page.locator("svg.timeline-svg")).to_be_visible()
    smallest, what = page.evaluate(SMALLEST_TEXT, "svg.timeline-svg text")
    assert smallest >= 12, f"timeline text {what!r} is {smallest:.1f} px"
    mark = page.locator("svg.timeline-svg a.mark circle").first.bounding_box()
    assert mark["width"] >= 19, mark
    no_page_overflow(page)
    # The last mark (the latest year) is reached from the keyboard, scrolled into view, and followed.
    last = page.locator("svg.timeline-svg a.mark").last
    last.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/documents/[0-9a-f]{16}#rec-[0-9a-f]+$"))


@screens
def test_the_funding_table_scrolls_inside_its_own_box(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/funding")
    table = page.locator("#funding-table")
    expect(table).to_be_visible()
    no_page_overflow(page)
    smallest, what = page.evaluate(SMALLEST_TEXT, "#funding-table *, #chart-funding svg text")
    assert smallest >= 12, f"{what!r} is {smallest:.1f} px"
    box = page.locator(".table-scroll:has(#funding-table)")
    inner, outer = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
    if page.viewport_size["width"] < 500:  # wider than a phone: it scrolls in its box, not the page
        assert inner > outer
        last = table.locator("tbody tr").first.locator("td").last
        assert last.bounding_box()["x"] >= 390  # off to the right, inside the box
        box.evaluate("e => e.scrollLeft = e.scrollWidth")
        cell = last.bounding_box()
        assert 0 <= cell["x"] and cell["x"] + cell["width"] <= 391, cell  # scrolled into sight
    else:
        assert inner <= outer


def doc_ids_listed(page) -> list[str]:
    """The document of each listed passage, from its title link (/documents/<id>?…)."""
    hrefs = page.locator("ol.results > li h3 a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    return [re.match(r"/documents/([^/?#]+)", h).group(1) for h in hrefs]


@screens
def test_one_report_cannot_fill_the_page_and_its_other_passages_are_one_link_away(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/search?q=integration")
    expect(page.locator("ol.results > li").first).to_be_visible()
    docs = doc_ids_listed(page)
    assert max(docs.count(d) for d in docs) <= 3  # the page's default: at most 3 of one document
    open_filters(page)
    expect(page.get_by_label("Passages per document")).to_have_value("3")
    # The fixture reports are short: one passage of each makes the point on them.
    page.get_by_label("Passages per document").select_option("1")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"per_doc=1"))
    docs = doc_ids_listed(page)
    assert len(docs) == len(set(docs)) >= 3
    expect(page.locator("#result-count")).to_contain_text("at most 1 per document")
    more = page.locator(".more-from-document a").first
    expect(more).to_be_visible()
    box = more.bounding_box()
    assert box["height"] >= 24, f"the 'more' link is a small tap target: {box}"
    n = int(re.match(r"\s*(\d+) more from this document", more.inner_text()).group(1))
    doc = re.search(r"[?&]doc=([^&]+)", more.get_attribute("href")).group(1)
    more.click()
    expect(page).to_have_url(re.compile(rf"[?&]doc={doc}"))
    # that document's matching passages, every one: the one listed before and the n more
    expect(page.locator("#result-count")).to_contain_text(f"of {n + 1} passages")
    assert doc_ids_listed(page) == [doc] * (n + 1)
    chip = page.locator("a.filter-chip", has_text="Document:")
    expect(chip).to_be_visible()
    no_page_overflow(page)
    chip.click()
    expect(page).not_to_have_url(re.compile(r"[?&]doc="))
    assert len(set(doc_ids_listed(page))) >= 3


@screens
def test_sorting_by_date_orders_every_matching_passage(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/search?q=care")
    expect(page.locator("ol.results > li").first).to_be_visible()
    open_filters(page)
    page.get_by_label("Sort by").select_option("date")
    page.get_by_label("Passages per document").select_option("0")  # every passage, no cap
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"sort=date"))
    count = page.locator("#result-count")
    expect(count).to_contain_text("oldest first")
    total = int(re.search(r"of ([\d,]+) passages", count.inner_text()).group(1).replace(",", ""))
    assert "best" not in count.inner_text() and "listed" not in count.inner_text()  # nothing left out
    seen: list[str] = []
    while True:  # every page, oldest first: the whole list is in date order
        seen += page.locator("ol.results > li .result-meta").evaluate_all(
            "els => els.map(e => (e.querySelector('time') || {}).getAttribute ? e.querySelector('time').getAttribute('datetime') : '')")
        following = page.locator(".pagination-next a")
        if not following.count():
            break
        following.click()
    assert len(seen) == total
    dated = [d for d in seen if d]
    assert dated == sorted(dated) and seen[:len(dated)] == dated  # undated last
    no_page_overflow(page)

"""A team member follows what became of a recommendation, in a real headless Chromium: from a
search hit to the recommendation's status, the response that accepted it, the later report that
made the point again, and the feed of the department it was addressed to.

Same layer and fixtures as tests/test_browser.py (marked ``browser``; skipped without Chromium).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import feedparser
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "web"))
pytest_plugins = ["refrain_webtest"]

from test_browser import CHROMIUM, browser, live_server, page  # noqa: E402,F401  (shared fixtures)

COMMITTEE = "Integrating health and social care: Committee report"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: install Debian's chromium"),
]


def test_a_team_member_follows_a_recommendation_from_a_search_hit_to_its_repeat_and_its_feed(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server + "/search?q=share+information+about+the+people+they+both+care+for")
    page.locator("ol.results").get_by_role("link", name=COMMITTEE, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(COMMITTEE)
    item = page.locator("li.item", has_text="share information about the people they both care for")
    item.get_by_role("link", name="What happened to it: status and responses").click()

    expect(page).to_have_url(re.compile(r"/recommendations/[0-9a-f]+$"))
    expect(page.locator("#current-status")).to_contain_text("Repeated after acceptance")
    expect(page.locator("#current-status")).to_contain_text("Department of Health")
    history = page.locator("#history > li")
    expect(history.nth(1)).to_contain_text("Accepted")
    expect(history.nth(1)).to_contain_text("The government agrees with the Committee's recommendation")
    expect(history.nth(2)).to_contain_text("Overdue")
    expect(history.nth(3)).to_contain_text("Repeated after acceptance")

    # The response that accepted it, in its own document.
    history.nth(1).get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/documents/[0-9a-f]{16}#response-\d+$"))
    expect(page.locator(f"[id='{page.url.split('#')[1]}']")).to_contain_text("Accepted")
    page.go_back()

    # The later report that recommends it again.
    later = page.locator("#repeats li.later").first
    expect(later).to_contain_text("Recommended again")
    expect(later).to_contain_text("2022")
    status_url = page.url
    later.get_by_role("link").click()
    expect(page.locator("#current-status")).to_be_visible()
    expect(page.locator("p.result-meta").first).to_contain_text("2022")
    page.goto(status_url)

    # Subscribe: the page advertises the actor's feed, and the link is the same feed.
    advertised = page.locator("head link[rel='alternate'][type='application/atom+xml']").get_attribute("href")
    link = page.locator("#actor-feed")
    expect(link).to_have_text(re.compile("Follow recommendations to Department of Health and Social Care"))
    assert link.get_attribute("href") == advertised == "/feeds/actors/dhsc.atom"
    response = page.request.get(live_server + advertised)
    assert response.ok and response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.body())
    assert not feed.bozo and feed.entries
    assert any("Repeated after acceptance" in e.title for e in feed.entries)

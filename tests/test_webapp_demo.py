"""The web app over the demo knowledge base (28 documents crawled from the demo site by the
real pipeline): every page a visitor can reach answers, and the browsing pages show what the
demo's documents say."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from kb.config import Settings
from kb.vocabulary import THEMES

pytestmark = pytest.mark.slow


class Links(HTMLParser):
    def __init__(self, markup: str):
        super().__init__()
        self.hrefs: list[str] = []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("/") and not href.startswith("//"):
            self.hrefs.append(href.split("#")[0])


@pytest.fixture(scope="module")
def client(demo_home):
    from webapp import create_app

    return create_app({"SETTINGS": Settings(home=demo_home), "TESTING": True}).test_client()


def test_every_page_linked_from_the_browsing_pages_answers(client):
    """Crawl the site from its browsing pages, one level of documents and groups deep."""
    start = ["/barriers", "/funding", "/funding?sort=year", "/recurrences", "/about"]
    start += [f"/barriers/{t}" for t in THEMES]
    seen: set[str] = set()
    queue = list(start)
    while queue:
        url = queue.pop()
        if url in seen or url.startswith("/api/search") or "/raw" in url:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if response.mimetype == "text/html" and (url in start or url.startswith("/recurrences/")):
            queue += [h for h in Links(response.get_data(as_text=True)).hrefs if h.startswith(
                ("/documents/", "/recurrences/", "/barriers/", "/api/"))]
    assert sum(u.startswith("/documents/") for u in seen) >= 20
    assert sum(u.startswith("/recurrences/") for u in seen) >= 3


def test_the_demo_funding_table_holds_the_better_care_fund(client):
    data = client.get("/api/funding?q=better+care+fund").get_json()
    assert any(f["amount_gbp"] == 5.3e9 for f in data["results"]), [f["mention"] for f in data["results"]]
    assert data["by_year"] and all(y["count"] >= 0 for y in data["by_year"])


def test_treasury_minutes_answers_appear_on_the_timelines(client):
    groups = client.get("/api/recurrences?kind=recommendation").get_json()
    answered = [g for g in groups if any(o["responses"] for o in g["occurrences"])]
    assert answered, "no demo recommendation group has a linked government response"
    text = client.get(f"/recurrences/{answered[0]['id']}").get_data(as_text=True)
    assert re.search(r'<a class="event event-response" href="/documents/[0-9a-f]{16}#response-\d+"', text)


def test_about_says_when_the_demo_site_was_last_crawled(client):
    text = client.get("/about").get_data(as_text=True)
    block = text[text.index("<dt>Last crawl finished</dt>"):]
    block = block[:block.index("</div>")]
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">', block), block
    assert re.search(r"\(\d+ stored", block), block

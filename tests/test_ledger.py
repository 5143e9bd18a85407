"""A team follows what happened to recommendations: status pages, actors, the API, Atom feeds
read by a real feed parser, and saved searches on the command line.

Over the small real knowledge base of tests/fixtures/web: a committee's 2018 recommendations,
the Treasury Minutes that accepted one (target March 2019) and partly accepted another (target
December 2020), and a 2022 NAO report that makes the information-sharing point again.
"""
from __future__ import annotations

import dataclasses
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import feedparser
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "web"))
pytest_plugins = ["refrain_webtest"]

from conftest import kb_json, run_kb  # noqa: E402
from webapp import create_app  # noqa: E402


@pytest.fixture(scope="module")
def as_of(web_settings):
    """The app as of a given day (statuses depend on it)."""
    def build(today: str):
        return create_app({"SETTINGS": dataclasses.replace(web_settings, today=today), "TESTING": True}).test_client()
    return build


def by_label(items, fragment):
    return next(s for s in items if fragment in s["text"])


class Ids(HTMLParser):
    def __init__(self, markup):
        super().__init__()
        self.ids, self.feeds = set(), []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "link" and a.get("rel") == "alternate" and a.get("type") == "application/atom+xml":
            self.feeds.append(a["href"])


def test_the_status_follows_the_evidence_and_cites_it(as_of):
    early = as_of("2019-01-01").get("/api/recommendations").get_json()
    sharing = by_label([s for s in early if s["published"] == "2018-10-18" or s["source"] == "parliament"],
                       "share information")
    assert sharing["status"] == "accepted"
    ev = sharing["evidence"]
    assert ev["sentence"].startswith("The government agrees") and ev["date"] == "2018-10-18" and ev["doc_id"]
    assert set(sharing) >= {"recommendation_id", "doc_id", "text", "actor", "status", "evidence", "history"}
    assert sharing["actor"] == "dhsc"

    later = as_of("2024-01-01").get("/api/recommendations?source=parliament").get_json()
    sharing = by_label(later, "share information")
    assert [h["status"] for h in sharing["history"]] == ["open", "accepted", "overdue", "repeated_after_acceptance"]
    assert sharing["status"] == "repeated_after_acceptance"
    assert sharing["evidence"]["date"].startswith("2022")
    workforce = by_label(later, "workforce strategy")
    assert workforce["status"] == "overdue" and workforce["history"][-1]["date"] == "2020-12-31"
    assert all(s["evidence"] is None for s in later if s["status"] == "open")


def test_filters_and_the_csv_agree_with_the_json(as_of):
    client = as_of("2024-01-01")
    overdue = client.get("/api/recommendations?status=overdue").get_json()
    assert overdue and all(s["status"] == "overdue" for s in overdue)
    assert client.get("/api/recommendations?actor=dhsc&from=2018&to=2018").get_json()
    assert client.get("/api/recommendations?from=2030").get_json() == []
    csv = client.get("/api/recommendations?status=overdue&format=csv")
    assert csv.mimetype == "text/csv"
    rows = csv.get_data(as_text=True).lstrip("\ufeff").strip().splitlines()
    assert rows[0].startswith("recommendation_id,status") and len(rows) == len(overdue) + 1
    bad = client.get("/api/recommendations?status=forgotten&actor=nobody")
    assert bad.status_code == 400 and {e["param"] for e in bad.get_json()["errors"]} == {"status", "actor"}


def test_the_recommendations_page_counts_each_status_and_links_each_row_to_its_timeline(as_of):
    client = as_of("2024-01-01")
    page = client.get("/recommendations").get_data(as_text=True)
    assert 'data-status="repeated_after_acceptance"' in page and "Repeated after acceptance: <strong>1</strong>" in page
    rows = client.get("/api/recommendations").get_json()
    for s in rows:
        assert f'/recommendations/{s["recommendation_id"]}' in page
    sharing = by_label([s for s in rows if s["source"] == "parliament"], "share information")
    timeline = client.get(f"/recommendations/{sharing['recommendation_id']}")
    html = timeline.get_data(as_text=True)
    assert timeline.status_code == 200 and "The government agrees" in html and "Repeated after acceptance" in html
    assert "/feeds/actors/dhsc.atom" in Ids(html).feeds
    assert client.get("/recommendations?status=nope").status_code == 400
    past = client.get("/recommendations?page=99")
    assert past.status_code == 400 and "page" in past.get_data(as_text=True).lower()
    assert client.get("/recommendations?from=2030").status_code == 200
    assert client.get("/recommendations/0000").status_code == 404


def test_actors_gather_every_name_of_a_body(as_of):
    client = as_of("2024-01-01")
    actors = client.get("/api/actors").get_json()
    dhsc = next(a for a in actors if a["id"] == "dhsc")
    assert dhsc["recommendations"] >= 2 and "DHSC" in dhsc["aliases"] and dhsc["statuses"]["overdue"] >= 1
    detail = client.get("/api/actors/dhsc").get_json()
    assert detail["by_year"] and all(r["actor"] == "dhsc" or "dhsc" in r["actors"] for r in detail["recommendations"])
    assert any(r["addressed_as"] == "Department of Health" for r in detail["recommendations"]
               if r["published"] < "2018-01-09")
    page = client.get("/actors/dhsc").get_data(as_text=True)
    assert "<svg" in page and 'id="actor-by-year"' in page and "/feeds/actors/dhsc.atom" in Ids(page).feeds
    assert "Department of Health and Social Care" in client.get("/actors").get_data(as_text=True)
    assert client.get("/actors/nobody").status_code == 404 and client.get("/api/actors/nobody").status_code == 404


def check_feed(client, url: str) -> feedparser.FeedParserDict:
    """A valid Atom feed: unique ids, a date on every entry, links to existing page elements."""
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10" and feed.feed.title and feed.feed.id and feed.feed.updated_parsed
    ids = [e.id for e in feed.entries]
    assert len(ids) == len(set(ids))
    for e in feed.entries:
        assert e.updated_parsed and e.title and e.summary
        link = urlparse(e.link)
        assert link.path.startswith("/documents/") and link.fragment
        assert link.fragment in Ids(client.get(link.path).get_data(as_text=True)).ids, e.link
    return feed


def test_feeds_parse_and_every_entry_links_to_the_cited_sentence(as_of):
    client = as_of("2024-01-01")
    overdue = check_feed(client, "/feeds/overdue.atom")
    assert overdue.entries and all(e.title.startswith("Overdue") for e in overdue.entries)
    assert overdue.entries[0].updated.startswith("2020-12-31")
    actor = check_feed(client, "/feeds/actors/dhsc.atom")
    assert len(actor.entries) == len(client.get("/api/actors/dhsc").get_json()["recommendations"])
    assert check_feed(client, "/feeds/recurrences.atom").entries
    search = check_feed(client, "/feeds/search.atom?q=information+sharing&theme=information_sharing")
    assert search.entries and all(e.id.startswith("urn:refrain:passage:") for e in search.entries)
    assert client.get("/feeds/search.atom").status_code == 400
    assert client.get("/feeds/actors/nobody.atom").status_code == 404
    assert "/feeds/overdue.atom" in Ids(client.get("/recommendations").get_data(as_text=True)).feeds
    assert "/feeds/recurrences.atom" in Ids(client.get("/recurrences").get_data(as_text=True)).feeds
    searched = Ids(client.get("/search?q=workforce&theme=workforce").get_data(as_text=True)).feeds
    assert "/feeds/search.atom?q=workforce&theme=workforce" in searched


def test_a_team_member_watches_a_search_and_hears_of_new_documents(web_settings, tmp_path):
    home = tmp_path / "kb"
    shutil.copytree(web_settings.home, home)
    watch = kb_json(home, "watch", "add", "workforce strategy", "--theme", "workforce")
    assert watch["id"] and watch["theme"] == "workforce"
    assert [w["query"] for w in kb_json(home, "watch", "list")] == ["workforce strategy"]
    first = kb_json(home, "alerts")
    assert first[0]["new"] == [], "nothing is new for a watch made after the last ingest"
    note = tmp_path / "note.md"
    note.write_text("# Workforce strategy for social care\n\nThe workforce gap in social care, with over 100,000 "
                    "vacancies, undermines every plan to integrate services: there is still no workforce strategy.\n")
    run_kb(home, "ingest", str(note))
    news = kb_json(home, "alerts")[0]["new"]
    assert news and news[0]["title"] == "Workforce strategy for social care" and news[0]["ingested_at"]
    assert kb_json(home, "alerts")[0]["new"] == [], "alerts once, then checked off"
    assert kb_json(home, "alerts", "--since", "2000-01-01")[0]["new"], "--since looks back without checking off"
    assert kb_json(home, "watch", "remove", str(watch["id"])) == {"removed": watch["id"]}
    assert run_kb(home, "watch", "remove", "99", check=False).returncode == 1
    assert kb_json(home, "watch", "list") == []


def test_kb_status_lists_and_filters(web_settings):
    rows = kb_json(web_settings.home, "status", "--today", "2019-01-01")
    assert {"accepted", "partially_accepted"} <= {r["status"] for r in rows}
    only = kb_json(web_settings.home, "status", "--status", "accepted", "--actor", "dhsc", "--today", "2019-01-01")
    assert only and all(r["status"] == "accepted" and "dhsc" in r["actors"] for r in only)

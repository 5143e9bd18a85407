"""Search tells the truth (issue 16, points 1 and 2), over the real fixture knowledge base
(tests/fixtures/web: real loaders, extraction, embedder, SQLite and Chroma) and the real app.

A researcher types a word no document holds and is told so; a total counts every passage that
matches, not a window of the nearest; a facet's count is the number its link shows; results
sort by date, group by document, hold at most N passages of one report, and a theme with no
words browses that theme.
"""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "web"))
pytest_plugins = ["refrain_webtest"]

from refrain_webtest import api_json  # noqa: E402

from kb.search.engine import Filters  # noqa: E402
from kb.search.query import parse_query  # noqa: E402
from kb.search.relevance import (DENSE_FLOOR, DENSE_FLOOR_NO_WORD, Match, MatchSet, close_enough,  # noqa: E402
                                 match_set, required_words)
from test_webapp import Page, get_page  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def kbase(app):
    from webapp import EXTENSION

    return app.extensions[EXTENSION]


def passages_holding(kbase, phrase: str) -> int:
    """Passages whose text holds ``phrase`` (case and spacing ignored): counted by hand."""
    rows = kbase.store.conn.execute("SELECT text FROM passages").fetchall()
    return sum(1 for (text,) in rows if phrase.lower() in " ".join(text.lower().split()))


# --- "no match" is said, in the page, the API and the CLI ---------------------------------------

@pytest.mark.parametrize("q", ["xyzzyplugh", "flibbertigibbet quorx", "Taylor Swift concert"])
def test_a_word_no_document_holds_finds_nothing_and_says_so(client, q):
    data = api_json(client, "/api/search?" + urlencode({"q": q}))
    assert (data["total"], data["results"], data["pages"], data["total_is_exact"]) == (0, [], 0, True)
    text, page = get_page(client, "/search?" + urlencode({"q": q}))
    assert f"No passages match <q>{q}</q>." in text
    assert 'id="no-results"' in text and '<li class="result' not in text
    assert "Download the" not in text  # no "Download the best 0 as CSV"


def test_no_match_with_filters_offers_to_drop_each_filter(client):
    text, page = get_page(client, "/search?q=care&source=nhs-digital&from=2014")
    assert "No passages match <q>care</q> with these filters." in text
    drops = [h for h, t in page.links if t.startswith("Search without the filter")]
    assert len(drops) == 2
    assert {tuple(sorted(parse_qs(urlparse(h).query))) for h in drops} == {("from", "q"), ("q", "source")}


def test_the_cli_counts_matches_with_total_and_keeps_its_bare_list(web_settings):
    env = {**os.environ, "KB_HOME": str(web_settings.home), "PYTHONPATH": str(REPO)}

    def kb(*args: str):
        proc = subprocess.run([sys.executable, "-m", "kb.cli", *args], capture_output=True, text=True, env=env,
                              timeout=300, cwd=REPO)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    assert kb("search", "xyzzyplugh", "--json") == []
    counted = kb("search", "Better Care Fund", "--json", "--total", "-k", "3")
    assert set(counted) == {"query", "total", "total_is_exact", "results"}
    assert counted["total"] >= len(counted["results"]) >= 1 and counted["total_is_exact"] is True


# --- totals count what matches -------------------------------------------------------------------

def test_an_exact_phrase_counts_exactly_the_passages_holding_it(client, kbase):
    holding = passages_holding(kbase, "Better Care Fund")
    assert holding >= 2
    quoted = api_json(client, "/api/search?" + urlencode({"q": '"Better Care Fund"'}))
    assert quoted["total"] == holding == len(quoted["results"])
    words = api_json(client, "/api/search?" + urlencode({"q": "Better Care Fund"}))
    # Unquoted, passages close in meaning count too, but not every passage saying "care".
    assert holding <= words["total"] < passages_holding(kbase, "care")


def test_the_total_counts_every_match_and_pages_agree(client):
    first = api_json(client, "/api/search?q=care&k=2")
    assert first["total"] == first["listed"] and first["pages"] == -(-first["total"] // 2)
    last = api_json(client, f"/api/search?q=care&k=2&page={first['pages']}")
    assert 1 <= len(last["results"]) <= 2
    text, _ = get_page(client, "/search?q=care&k=2")
    assert f"of {first['total']} passages matching <q>care</q>" in text


def test_every_facet_count_is_the_total_its_link_shows(client):
    for base in ({"q": "information sharing"}, {"q": "information sharing", "source": "nao"},
                 {"q": "care", "theme": "information_sharing"}):
        _, page = get_page(client, "/search?" + urlencode(base))
        facet_links = [(h, t) for h, t in page.links if t.rstrip().endswith(("passage", "passages"))
                       and "/search?" in h and not t.startswith("Remove filter")]
        assert len(facet_links) >= 4, page.links
        for href, label in facet_links:
            count = int(label.split()[-2])
            query = {k: v[0] for k, v in parse_qs(urlparse(href).query).items()}
            assert api_json(client, "/api/search?" + urlencode(query))["total"] == count, (base, label, query)


def test_the_api_reports_facets_over_the_same_matches(client):
    data = api_json(client, "/api/search?q=workforce")
    assert sum(data["facets"]["source"].values()) == data["total"]
    for source, count in data["facets"]["source"].items():
        assert api_json(client, f"/api/search?q=workforce&source={source}")["total"] == count


# --- order, grouping, diversity, browsing ----------------------------------------------------------

@pytest.mark.parametrize("sort, newest_first", [("-date", True), ("date", False)])
def test_results_sort_by_date_in_the_page_the_api_and_the_csv(client, sort, newest_first):
    data = api_json(client, f"/api/search?q=care&sort={sort}&k=100")
    assert data["sort"] == sort
    dates = [r["published"] for r in data["results"] if r["published"]]
    assert len(set(dates)) >= 3 and dates == sorted(dates, reverse=newest_first)
    assert all(r["published"] for r in data["results"][:len(dates)])  # undated last
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/search?q=care&sort={sort}&format=csv")
                                           .get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["passage_id"] for r in rows] == [r["passage_id"] for r in data["results"]]
    text, _ = get_page(client, f"/search?q=care&sort={sort}")
    assert ("newest first" if newest_first else "oldest first") in text
    assert f'<option value="{sort}" selected>' in text


@pytest.mark.parametrize("url, name, message", [
    ("/search?q=care&sort=newest", "sort", "Unknown sort “newest”. Choose one of: relevance, -date, date."),
    ("/search?q=care&group=report", "group", "Unknown group “report”. Choose one of: passage, document."),
    ("/search?q=care&per_doc=101", "per_doc", "Passages per document must be from 0 to 100, not 101."),
    ("/search?q=care&doc=a%20b", "doc", "Document “a b” is not a document id"),
])
def test_an_unknown_order_or_grouping_is_a_clear_400(client, url, name, message):
    response = client.get(url)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f'href="#{name}"' in text and message in text
    assert message in api_json(client, url.replace("/search", "/api/search"), status=400)["error"]


def test_grouping_by_document_lists_each_report_once_with_its_count(client):
    data = api_json(client, "/api/search?q=care&group=document&k=3")
    docs = data["documents"]
    assert data["group"] == "document" and 1 <= len(docs) <= 3
    assert len({d["doc_id"] for d in docs}) == len(docs)
    assert all(1 <= len(d["passages"]) <= 3 and d["matching"] >= len(d["passages"]) for d in docs)
    every = api_json(client, "/api/search?q=care&group=document&k=100")["documents"]
    assert sum(d["matching"] for d in every) == data["total"]
    text, page = get_page(client, "/search?q=care&group=document")
    assert 'class="results documents"' in text and "matching passage" in text


def test_at_most_n_passages_of_one_document(client):
    plain = api_json(client, "/api/search?q=care&k=100")["results"]
    assert len(plain) > len({r["doc_id"] for r in plain}), "expected a document with several hits"
    capped = api_json(client, "/api/search?q=care&k=100&per_doc=1")
    ids = [r["doc_id"] for r in capped["results"]]
    assert len(ids) == len(set(ids)) == len({r["doc_id"] for r in plain})
    assert capped["per_doc"] == 1


def test_the_page_lists_at_most_three_of_a_document_unless_asked_and_the_api_keeps_no_cap(client):
    text, page = get_page(client, "/search?q=integration")
    assert '<option value="3" selected>At most 3</option>' in text  # the page's default
    plain = api_json(client, "/api/search?q=integration&k=100")
    assert plain["per_doc"] is None  # the API's default is unchanged: no cap
    assert api_json(client, "/api/search?q=integration&k=100&per_doc=0")["results"] == plain["results"]
    one = api_json(client, "/api/search?q=integration&k=100&per_doc=1")
    per_doc = {}
    for r in plain["results"]:
        per_doc[r["doc_id"]] = per_doc.get(r["doc_id"], 0) + 1
    assert any(n > 1 for n in per_doc.values()), "expected a document with several matches"
    for r in one["results"]:  # the document's other matches, not listed: one link away
        assert r["more_in_document"] == per_doc[r["doc_id"]] - 1
    several = next(d for d, n in per_doc.items() if n > 1)
    assert f"{per_doc[several] - 1} more from this document" in get_page(client, "/search?q=integration&per_doc=1")[0]
    only = api_json(client, f"/api/search?q=integration&doc={several}&per_doc=0")
    assert only["filters"]["doc"] == several and only["total"] == per_doc[several]
    assert {r["doc_id"] for r in only["results"]} == {several}


def test_a_date_order_lists_every_match_not_the_best_window(client, kbase):
    from kb.search.listing import matches_by_date

    matches = match_set(kbase, parse_query("integration"))
    entries = matches_by_date(kbase, matches, Filters(), ranked=[], newest_first=False)  # no ranking at all
    assert {pid for pid, _ in entries} == set(matches.matches)
    data = api_json(client, "/api/search?q=integration&sort=date&k=100")
    assert data["every_match_listed"] and data["listed"] == data["total"] == len(data["results"])
    dates = [r["published"] for r in data["results"]]
    dated = [d for d in dates if d]
    assert dated == sorted(dated) and dates[:len(dated)] == dated  # undated last
    assert not api_json(client, "/api/search?q=integration&k=100")["every_match_listed"]
    grouped = api_json(client, "/api/search?q=integration&sort=-date&group=document&k=100")["documents"]
    assert {d["doc_id"] for d in grouped} == {m.doc_id for m in matches.matches.values()}  # every document
    assert sum(d["matching"] for d in grouped) == data["total"]
    dates = [d["published"] for d in grouped if d["published"]]
    assert dates == sorted(dates, reverse=True)


def test_a_theme_with_no_words_browses_that_theme_newest_first(client, kbase):
    theme = "information_sharing"
    expected = kbase.store.conn.execute("SELECT COUNT(*) FROM passages WHERE themes LIKE ?",
                                        (f"%|{theme}|%",)).fetchone()[0]
    assert expected >= 2
    data = api_json(client, f"/api/search?theme={theme}&k=100")
    assert data["total"] == expected == len(data["results"])
    assert all(theme in r["themes"] for r in data["results"])
    dates = [r["published"] for r in data["results"] if r["published"]]
    assert dates == sorted(dates, reverse=True)
    text, page = get_page(client, f"/search?theme={theme}")
    assert f"of {expected} passages with these filters, newest first" in " ".join(text.split())
    assert text.count('<li class="result') == min(expected, 10)
    api_json(client, "/api/search", status=400)  # nothing to search for and nothing to browse


# --- the rules themselves --------------------------------------------------------------------------

def test_short_queries_need_every_word_long_ones_two_in_three():
    assert [required_words(n) for n in range(1, 10)] == [1, 2, 3, 3, 4, 4, 5, 6, 6]


def test_a_passage_sharing_no_word_must_be_closer_in_meaning():
    assert close_enough(DENSE_FLOOR, shares_word=True)
    assert not close_enough(DENSE_FLOOR, shares_word=False)
    assert close_enough(DENSE_FLOOR_NO_WORD, shares_word=False)


def test_facets_are_counted_under_every_filter_but_their_own():
    matches = MatchSet({
        "a": Match("d1", "nao", 2014, "report", ("workforce",)),
        "b": Match("d1", "nao", 2014, "report", ("funding", "workforce")),
        "c": Match("d2", "parliament", 2018, "report", ("workforce",)),
        "d": Match("d3", "govuk", None, None, ()),
    })
    on_nao = Filters(source="nao")
    facets = matches.facets(on_nao)
    assert facets["source"] == {"nao": 2, "parliament": 1, "govuk": 1}  # its own filter ignored
    assert facets["theme"] == {"workforce": 2, "funding": 1}
    assert matches.total(on_nao) == 2 and matches.total(Filters(year_from=2015)) == 1
    assert matches.per_document(Filters(theme="workforce")) == {"d1": 2, "d2": 1}


def test_the_match_set_holds_every_keyword_match(kbase):
    query = parse_query('"Better Care Fund"')
    assert len(match_set(kbase, query).matches) == passages_holding(kbase, "Better Care Fund")
    assert match_set(kbase, parse_query("xyzzyplugh")).matches == {}


def test_a_several_word_query_says_how_many_passages_hold_it_as_a_phrase(client, kbase):
    holding = passages_holding(kbase, "Better Care Fund")
    text, page = get_page(client, "/search?q=Better+Care+Fund")
    total = api_json(client, "/api/search?q=Better+Care+Fund")["total"]
    if holding < total:
        assert f"Of these, {holding} passages hold the exact phrase <q>Better Care Fund</q>" in text
        link = next(h for h, t in page.links if t == "show only those")
        assert parse_qs(urlparse(link).query)["q"] == ['"Better Care Fund"']


def test_browsing_a_filter_nothing_falls_under_says_so(client):
    text, page = get_page(client, "/search?source=nhs-digital")
    assert "No passages with these filters." in text and '<li class="result' not in text
    assert api_json(client, "/api/search?source=nhs-digital")["total"] == 0


@pytest.mark.parametrize("q", ["care", "Better Care Fund", '"Better Care Fund" pooled', "workforce -nurses",
                               "information sharing between health and social care staff", "xyzzyplugh",
                               "Covid-19 preparedness", "-care"])
def test_the_web_servers_snapshot_applies_the_same_rule(web_settings, kbase, q):
    """The server checks matches on its in-memory snapshot; the CLI in SQL: same answer."""
    from kb.search.relevance import relevant_ids
    from kb.store.knowledge import KnowledgeBase

    ids = [r[0] for r in kbase.store.conn.execute("SELECT id FROM passages")]
    server = KnowledgeBase(web_settings, readonly=True)
    try:
        server.snapshots.build_now(min_passages=0)
        assert server.snapshot() is not None
        for mode in ("hybrid", "dense"):
            assert relevant_ids(server, parse_query(q), ids, mode) == relevant_ids(kbase, parse_query(q), ids, mode)
        assert set(match_set(server, parse_query(q)).matches) == set(match_set(kbase, parse_query(q)).matches)
    finally:
        server.close()

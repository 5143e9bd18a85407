"""The web app end to end, through Flask's test client, over a small real knowledge base.

The knowledge base (built once per session by ``refrain_webtest``) holds five documents we
wrote: NAO 2014, GOV.UK 2017, Parliament 2018, a three-page NAO PDF from 2022 that all repeat
one recommendation about sharing information, and an undated local file with markup in it.
"""
from __future__ import annotations

import json
import re
import sys
import threading
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "web"))
pytest_plugins = ["refrain_webtest"]
pytest.register_assert_rewrite("refrain_webtest")

from refrain_webtest import api_json  # noqa: E402

from kb.search.facets import facet_counts  # noqa: E402
from kb.search.query import MAX_QUERY_CHARS  # noqa: E402
from kb.analysis.recurrence import recurrences  # noqa: E402
from kb.search.engine import search  # noqa: E402
from webapp import EXTENSION, SECURITY_HEADERS, create_app  # noqa: E402
from webapp.present import source_name, theme_name  # noqa: E402

PDF_TITLE = "Integrated care systems: the first year"
HTML_TITLE = "Integration and the Better Care Fund: policy framework"
LOCAL_TITLE = 'Workshop notes on <script>alert("xss")</script> integration'


@pytest.fixture(scope="session")
def kbase(app):
    return app.extensions[EXTENSION]


class Page(HTMLParser):
    """The parts of a page the tests look at: links, form controls, labels, ids, assets."""

    def __init__(self, markup: str):
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.controls: list[dict] = []
        self.labels: set[str] = set()
        self.ids: set[str] = set()
        self.assets: list[str] = []
        self.scripts = 0
        self._a: list | None = None
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self._a = [a["href"], ""]
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a)
        if tag == "label" and "for" in a:
            self.labels.add(a["for"])
        if tag == "script":
            self.scripts += 1
        if tag in ("link", "img", "script", "iframe", "source", "video", "audio"):
            self.assets.extend(v for k, v in attrs if k in ("href", "src") and v)

    def handle_data(self, data):
        if self._a is not None:
            self._a[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._a is not None:
            self.links.append((self._a[0], " ".join(self._a[1].split())))
            self._a = None


def get_page(client, url: str, status: int = 200) -> tuple[str, Page]:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:2000])
    text = response.get_data(as_text=True)
    return text, Page(text)


api = api_json


# --- the search page --------------------------------------------------------------------------

def test_the_home_page_is_a_search_form_that_works_without_javascript(client):
    text, page = get_page(client, "/")
    assert '<html lang="en-GB">' in text
    assert page.links[0] == ("#main-content", "Skip to main content")
    assert "main-content" in page.ids
    assert re.search(r'<form[^>]+method="get"[^>]+action="/search"', text)
    assert page.scripts == 0
    assert {c["id"] for c in page.controls} == {"q", "theme", "source", "from", "to", "type", "sort", "group", "per_doc"}


@pytest.mark.parametrize("url", ["/", "/search?q=information+governance", "/search?q=x&theme=nope",
                                 "/recurrences", "/about", "/funding", "/funding?kind=gift", "/barriers",
                                 "/barriers/workforce"])
def test_every_input_has_a_label_and_no_asset_is_remote(client, url):
    response = client.get(url)
    page = Page(response.get_data(as_text=True))
    assert page.controls or url in ("/about", "/barriers", "/barriers/workforce"), "expected a form"
    assert page.scripts == 0
    for control in page.controls:
        assert control.get("id") in page.labels, f"input {control} has no <label for>"
    assert page.assets, "expected the stylesheet"
    for asset in page.assets:
        assert asset.startswith("/") and not asset.startswith("//"), f"remote asset {asset}"


def test_a_researcher_finds_the_exact_sentence_with_document_page_and_year(client, doc_ids):
    text, page = get_page(client, "/search?q=information+governance")
    assert re.search(r"<mark>information</mark> <mark>governance</mark>", text, re.I)
    pdf = doc_ids[PDF_TITLE]
    # The PDF hit cites its page and links to the passage on that page of the document (opened
    # there, marked), and to the original. This PDF prints no page numbers: the PDF's are cited.
    assert any(re.fullmatch(rf"/documents/{pdf}\?passage=[0-9a-f]+&quote=.+#cited", href) and title == PDF_TITLE
               for href, title in page.links)
    assert "PDF p. 2" in text
    assert "12 October 2022" in text and "National Audit Office" in text
    assert any(href == "https://www.example.org/nao/integrated-care-systems-first-year-2022"
               for href, _ in page.links)
    # Unpaged documents link to the passage in the document's whole text.
    assert any(href.startswith(f"/documents/{doc_ids[HTML_TITLE]}?passage=") and title == HTML_TITLE
               for href, title in page.links)
    assert "30 March 2017" in text and "Department of Health" in text


def test_facets_count_the_matching_passages_and_link_to_filtered_searches(client, kbase):
    """Issue 16: counts are over every matching passage, each facet under the other filters
    (so a count is what its link shows); the source facet ignores the source filter itself."""
    from kb.search.engine import Filters
    from kb.search.query import parse_query
    from kb.search.relevance import match_set
    from webapp.data import facet_list

    q = "information governance"
    expected = {f: facet_list(f, c) for f, c in match_set(kbase, parse_query(q)).facets(Filters(source="nao")).items()}
    assert {v.value for v in expected["source"]} >= {"nao", "parliament"}
    assert expected["theme"], "no passage was tagged with a barrier theme"
    _, page = get_page(client, "/search?" + urlencode({"q": q, "source": "nao"}))
    names = {"source": source_name, "theme": theme_name, "year": str}
    param = {"source": "source", "theme": "theme", "year": "from"}
    for facet in ("source", "theme", "year"):
        for value in expected[facet]:
            count = f"{value.count} passage{'' if value.count == 1 else 's'}"
            links = [(href, text) for href, text in page.links
                     if text.endswith(" " + count) and names[facet](value.value) in text
                     and parse_qs(urlparse(href).query).get("q") == [q]]
            assert links, f"no facet link for {facet}={value.value} ({count})"
            href, text = links[0]
            # The active value's link removes it.
            if facet == "source" and value.value == "nao":
                assert text.startswith("Remove filter:") and "source" not in parse_qs(urlparse(href).query)
            else:
                assert parse_qs(urlparse(href).query)[param[facet]] == [value.value]
                if facet != "source":
                    assert parse_qs(urlparse(href).query)["source"] == ["nao"]


def test_clicking_a_facet_filters_the_hits(client):
    _, page = get_page(client, "/search?q=information+governance")
    link = next(h for h, t in page.links if "source=parliament" in h and t.startswith("UK Parliament"))
    query = parse_qs(urlparse(link).query)
    assert query == {"q": ["information governance"], "source": ["parliament"]}
    data = api(client, "/api/search?" + urlencode({k: v[0] for k, v in query.items()}))
    assert data["results"] and {r["source"] for r in data["results"]} == {"parliament"}
    year_link = next(h for h, t in page.links if t.startswith("2018"))
    assert parse_qs(urlparse(year_link).query)["from"] == ["2018"]
    assert parse_qs(urlparse(year_link).query)["to"] == ["2018"]


@pytest.mark.parametrize("params, check", [
    ({"source": "nao"}, lambda r: r["source"] == "nao"),
    ({"source": "local"}, lambda r: r["source"] == "local" and r["url"].startswith("file:")),
    ({"from": "2017", "to": "2018"}, lambda r: "2017" <= (r["published"] or "")[:4] <= "2018"),
    ({"from": "2020"}, lambda r: (r["published"] or "")[:4] >= "2020"),
    ({"type": "policy_paper"}, lambda r: r["doc_type"] == "policy_paper"),
    ({"theme": "information_sharing"}, lambda r: "information_sharing" in r["themes"]),
])
def test_filters_narrow_the_hits(client, params, check):
    data = api(client, "/api/search?" + urlencode({"q": "care information workforce", **params}))
    assert data["results"], f"no hits with {params}"
    assert all(check(r) for r in data["results"]), data["results"]


def test_results_page_through_and_the_url_is_a_permalink(client):
    first = api(client, "/api/search?q=care&k=2")
    second = api(client, "/api/search?q=care&k=2&page=2")
    assert first["total"] == second["total"] >= 3
    assert (first["page"], second["page"]) == (1, 2)
    assert len(first["results"]) == 2
    assert not {r["passage_id"] for r in first["results"]} & {r["passage_id"] for r in second["results"]}
    text, page = get_page(client, "/search?q=care&k=2&page=2&source=nao&from=2014&to=2022")
    assert 'value="care"' in text and 'value="2014"' in text and 'value="2022"' in text
    assert '<option value="nao" selected>' in text
    assert any("page=1" not in h and "k=2" in h and "source=nao" in h for h, t in page.links if "Previous" in t)
    assert '<ol class="results" start="3">' in text


def test_a_search_with_no_hits_says_so_and_offers_a_way_out(client):
    text, page = get_page(client, "/search?q=care&source=nhs-digital")  # no NHS Digital documents here
    assert "No passages match <q>care</q> with these filters." in text
    assert ("/search?q=care", "search without filters") in page.links
    assert api(client, "/api/search?q=care&source=nhs-digital")["total"] == 0


# --- documents --------------------------------------------------------------------------------

def test_a_document_shows_its_metadata_and_what_was_found_page_by_page(client, doc_ids):
    text, page = get_page(client, f"/documents/{doc_ids[PDF_TITLE]}")
    assert f"<h1 class=\"page-title\">{PDF_TITLE}</h1>" in text
    assert "National Audit Office" in text and "12 October 2022" in text
    assert {"page-1", "page-2", "page-3"} <= page.ids
    assert ("https://www.example.org/nao/integrated-care-systems-first-year-2022",
            "https://www.example.org/nao/integrated-care-systems-first-year-2022") in page.links
    detail = api(client, f"/api/documents/{doc_ids[PDF_TITLE]}")
    assert detail["barriers"], "no barrier extracted from the 2022 PDF"
    for barrier in detail["barriers"]:
        assert f'id="barrier-{barrier["id"]}"' in text
    section = lambda n: text[text.index(f'id="page-{n}"'):text.index(f'id="page-{n + 1}"') if n < 3 else None]  # noqa: E731
    assert any(b["page"] == 2 for b in detail["barriers"])
    assert "Information sharing" in section(2)
    for rec in detail["recommendations"]:
        assert f'id="rec-{rec["id"]}"' in section(rec["page"])
    assert any("£116 billion" in f["mention"] for f in detail["funding"])
    assert "£116 billion" in section(3)


def test_an_unpaged_document_groups_its_items_under_the_whole_document(client, doc_ids):
    text, page = get_page(client, f"/documents/{doc_ids[HTML_TITLE]}")
    assert "The whole document" in text and "page-none" in page.ids
    detail = api(client, f"/api/documents/{doc_ids[HTML_TITLE]}")
    assert detail["recommendations"] and all(r["page"] is None for r in detail["recommendations"])
    assert any("should set out how local health and care bodies" in r["text"] for r in detail["recommendations"])
    assert "£2 billion" in text


def test_document_text_is_escaped_and_local_paths_are_not_links(client, doc_ids):
    text, page = get_page(client, f"/documents/{doc_ids[LOCAL_TITLE]}")
    assert "<script>" not in text and "<img src=x" not in text and "<b>workforce" not in text
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in text
    assert not any(h.startswith("file:") for h, _ in page.links)
    assert "undated" in text


def test_the_stored_copy_of_a_document_is_served_safely(client, doc_ids):
    text, page = get_page(client, f"/documents/{doc_ids[PDF_TITLE]}")
    raw_link = f"/documents/{doc_ids[PDF_TITLE]}/raw"
    assert (raw_link, "Open the stored PDF") in page.links
    pdf = client.get(raw_link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "sandbox" in pdf.headers["Content-Security-Policy"]
    html = client.get(f"/documents/{doc_ids[LOCAL_TITLE]}/raw")
    assert html.status_code == 200 and html.mimetype == "application/octet-stream"
    assert html.headers["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("doc_id", ["0000000000000000", "..%2F..%2Fetc%2Fpasswd", "../../kb.sqlite"])
def test_the_raw_route_takes_no_paths(client, doc_id):
    assert client.get(f"/documents/{doc_id}/raw").status_code == 404


def test_an_unknown_document_is_a_404_with_help(client):
    text, _ = get_page(client, "/documents/0000000000000000", status=404)
    assert "Page not found" in text and "no document with id" in text
    assert api(client, "/api/documents/nope", status=404) == {"error": "no document with id 'nope'"}


# --- recurrences ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def groups(kbase):
    found = recurrences(kbase.store, min_years=1, kind="recommendation")
    assert found, "no recurrence group formed from the fixture documents"
    return found


def test_recurring_recommendations_are_ranked_by_the_years_they_span(client, groups):
    text, page = get_page(client, "/recurrences?kind=recommendation")
    hrefs = [h for h, _ in page.links if h.startswith("/recurrences/")]
    assert hrefs == [f"/recurrences/{g['id']}" for g in groups][:25]
    spans = [g["last_seen"] - g["first_seen"] for g in groups if g["years"]]
    assert spans == sorted(spans, reverse=True)
    top = groups[0]
    strip = text[text.index('<ol class="year-strip"'):]
    assert re.findall(r"<li>(\d{4})</li>", strip[:strip.index("</ol>")]) == [str(y) for y in top["years"]]
    assert len(top["years"]) >= 3, top  # 2014, 2017, 2018, 2022 all say it


def test_a_timeline_marks_each_occurrence_and_links_to_its_sentence(client, groups):
    group = groups[0]
    text, page = get_page(client, f"/recurrences/{group['id']}")
    assert f"First said in {group['years'][0]}, repeated in" in text
    svg = text[text.index("<svg"):text.index("</svg>")]
    marks = re.findall(r'<a class="mark[^"]*" href="([^"]+)"', svg)
    dated = [o for o in group["occurrences"] if o["published"]]
    assert marks == [f"/documents/{o['doc_id']}#rec-{o['recommendation_id']}" for o in dated]
    for year in group["years"]:
        assert f">{year}</text>" in svg
    # Following a mark lands on the recommendation, in its document.
    doc_url, anchor = marks[-1].split("#")
    doc_text, doc_page = get_page(client, doc_url)
    assert anchor in doc_page.ids
    # The list below repeats every occurrence with its citation.
    for o in group["occurrences"]:
        assert (f"/documents/{o['doc_id']}#rec-{o['recommendation_id']}", o["title"]) in page.links


def test_an_unknown_recurrence_is_a_404(client):
    text, _ = get_page(client, "/recurrences/ffffffffffff", status=404)
    assert "no recurring recommendation" in text


# --- about --------------------------------------------------------------------------------------

def test_about_shows_what_is_in_the_knowledge_base(client, kbase):
    stats = kbase.store.stats()
    text, _ = get_page(client, "/about")
    assert f"<dt>Documents</dt><dd>{stats['documents']}</dd>" in text
    assert f"<dt>Recommendations</dt><dd>{stats['recommendations']}</dd>" in text
    for name in ("National Audit Office", "GOV.UK", "NHS Digital", "UK Parliament", "Local files"):
        assert name in text
    assert "2014–2022" in text and "Last document added" in text and "UTC" in text


# --- the JSON API --------------------------------------------------------------------------------

def test_api_search_returns_the_query_total_page_and_hits(client):
    data = api(client, "/api/search?q=information+governance&k=3")
    assert {"query", "total", "page", "results"} <= set(data)
    assert data["query"] == "information governance" and data["page"] == 1 and len(data["results"]) == 3
    hit = data["results"][0]
    assert {"doc_id", "title", "source", "url", "published", "page", "text", "score", "passage_id", "doc_type",
            "publisher", "themes", "terms"} <= set(hit)


def test_api_recurrences_and_stats_are_the_kb_contracts(client, kbase):
    assert api(client, "/api/recurrences") == json.loads(json.dumps(recurrences(kbase.store, min_years=1)))
    assert api(client, "/api/recurrences?min_years=4") == json.loads(
        json.dumps(recurrences(kbase.store, min_years=4)))
    assert api(client, "/api/stats") == kbase.store.stats()


def test_api_document_has_metadata_and_extractions(client, doc_ids):
    data = api(client, f"/api/documents/{doc_ids[PDF_TITLE]}")
    assert data["title"] == PDF_TITLE and data["pages"] == 3 and data["published"] == "2022-10-12"
    assert {"barriers", "recommendations", "funding", "responses"} <= set(data)


# --- bad input: a 400 that says what is wrong, never a 500 ------------------------------------------

BAD_SEARCHES = [
    ({"q": "x" * (MAX_QUERY_CHARS + 1)}, f"{MAX_QUERY_CHARS} characters or fewer"),
    ({"theme": "money"}, "Unknown theme"),
    ({"source": "bbc"}, "Unknown source"),
    ({"from": "20x4"}, "four-digit year"),
    ({"to": "14"}, "four-digit year"),
    ({"from": "1066"}, "between 1800 and 2200"),
    ({"to": "9999"}, "between 1800 and 2200"),
    ({"from": "2020", "to": "2014"}, "must not be after"),
    ({"page": "0"}, "Page must be from 1"),
    ({"page": "-1"}, "Page must be a whole number"),
    ({"page": "two"}, "Page must be a whole number"),
    ({"page": "99999999999"}, "Page must be a whole number"),
    ({"page": "50"}, "There is no page 50"),
    ({"k": "0"}, "from 1 to 100"),
    ({"k": "101"}, "from 1 to 100"),
    ({"k": "1.5"}, "whole number"),
    ({"type": "<script>"}, "Document type"),
]


@pytest.mark.parametrize("params, message", BAD_SEARCHES, ids=[m for _, m in BAD_SEARCHES])
def test_bad_search_input_is_a_helpful_400_page(client, params, message):
    response = client.get("/search?" + urlencode({"q": "care", **params}))
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert message in text and "There is a problem" in text
    assert "<title>Error: " in text
    assert 'aria-invalid="true"' in text or "page" in params or "k" in params
    assert '<input class="input" id="q" name="q"' in text  # the form is there to fix it


@pytest.mark.parametrize("params, message", BAD_SEARCHES, ids=[m for _, m in BAD_SEARCHES])
def test_bad_search_input_is_a_json_400(client, params, message):
    data = api(client, "/api/search?" + urlencode({"q": "care", **params}), status=400)
    assert message in data["error"]
    assert data["errors"][0]["param"] in ("q", "theme", "source", "from", "to", "page", "k", "type")


@given(params=st.dictionaries(st.sampled_from(["q", "theme", "source", "from", "to", "type", "page", "k"]),
                               st.text(max_size=30) | st.sampled_from(["2014", "nao", "workforce", "1", "0", "-5"]),
                               min_size=1))
@settings(max_examples=60, deadline=None)
def test_no_query_string_makes_a_500(app, params):
    params.setdefault("q", "care")
    for path in ("/search?", "/api/search?"):
        response = app.test_client().get(path + urlencode(params))
        assert response.status_code in (200, 400), (path, params, response.status_code)


@pytest.mark.parametrize("url, message", [
    ("/api/search", "Enter something to search for"),
    ("/api/search?q=+++", "Enter something to search for"),
    ("/api/recurrences?min_years=0", "min_years must be from 1"),
    ("/api/recurrences?min_years=lots", "min_years must be a whole number"),
    ("/api/nothing-here", "no API endpoint"),
])
def test_other_bad_api_requests(client, url, message):
    response = client.get(url)
    assert response.status_code in (400, 404) and response.mimetype == "application/json"
    assert message in response.get_json()["error"]


@pytest.mark.parametrize("url, status, message", [
    ("/recurrences?min_years=x", 400, "min_years must be a whole number"),
    ("/recurrences?page=0", 400, "Page must be from 1"),
    ("/recurrences?page=40", 400, "There is no page 40"),
    ("/no/such/page", 404, "Page not found"),
])
def test_other_bad_page_requests(client, url, status, message):
    text, _ = get_page(client, url, status=status)
    assert message in text


def test_a_wrong_method_is_a_405_not_a_500(client):
    assert client.post("/search").status_code == 405
    response = client.post("/api/search")
    assert response.status_code == 405 and "error" in response.get_json()


# --- escaping and headers ------------------------------------------------------------------------

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.mark.parametrize("url", [
    "/search?" + urlencode({"q": XSS}),
    "/search?" + urlencode({"q": XSS, "theme": XSS, "from": XSS}),
    "/search?" + urlencode({"q": "workforce", "type": XSS}),
    "/documents/" + XSS.replace("/", "%2F"),
    "/recurrences/" + XSS.replace("/", "%2F"),
])
def test_user_text_is_escaped_everywhere(client, url):
    text = client.get(url).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in text
    assert "<img src=x" not in text
    assert '"><script' not in text


def test_search_text_from_a_document_is_escaped(client):
    text, _ = get_page(client, "/search?q=workshop+notes+workforce")
    assert LOCAL_TITLE not in text and "&lt;script&gt;" in text
    assert "<b>" not in text and "&lt;b&gt;" in text


@pytest.mark.parametrize("url", ["/", "/search?q=care", "/search?q=x&page=0", "/about", "/recurrences",
                                 "/no-such-page", "/static/style.css", "/api/stats", "/api/search?q=care",
                                 "/api/search", "/api/documents/nope"])
def test_security_headers_are_on_every_response(client, url):
    response = client.get(url)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Referrer-Policy" in response.headers


def test_the_stylesheet_loads_nothing_from_elsewhere(client):
    css = client.get("/static/style.css").get_data(as_text=True)
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(https?:)?//", css)


# --- the app factory and the server -----------------------------------------------------------------

def test_an_empty_home_says_how_to_build_a_knowledge_base(tmp_path):
    client = create_app({"KB_HOME": str(tmp_path), "TESTING": True}).test_client()
    response = client.get("/search?q=care")
    assert response.status_code == 503 and "kb demo" in response.get_data(as_text=True)
    response = client.get("/api/stats")
    assert response.status_code == 503 and "kb ingest" in response.get_json()["error"]
    assert client.get("/api/stats").headers["X-Frame-Options"] == "DENY"


def test_settings_come_from_config_or_the_environment(tmp_path, monkeypatch, web_settings):
    assert create_app({"KB_HOME": str(tmp_path)}).config["SETTINGS"].home == tmp_path.resolve()
    assert create_app({"SETTINGS": web_settings}).config["SETTINGS"] is web_settings
    monkeypatch.setenv("KB_HOME", str(tmp_path / "env"))
    assert create_app().config["SETTINGS"].home == (tmp_path / "env").resolve()


def test_serve_prints_its_address_and_runs_waitress(monkeypatch, capsys, web_settings):
    import waitress.server

    import webapp.serve as serve_module

    made = []

    def make_server(app, host, port, **kw):
        server = real_make_server(app, host, port, **kw)
        made.append(server)
        server.run = lambda: None  # serve one check, not forever
        return server

    real_make_server = serve_module.make_server
    monkeypatch.setattr(serve_module, "make_server", make_server)
    serve_module.serve(web_settings, host="127.0.0.1", port=0)
    err = capsys.readouterr().err
    port = made[0].effective_port
    assert err.splitlines()[0] == f"Refrain is serving at http://127.0.0.1:{port}"
    assert isinstance(made[0], waitress.server.BaseWSGIServer)


def test_waitress_serves_the_app_over_http(app):
    from webapp.serve import make_server, server_url

    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(server_url(server) + "/api/search?q=workforce&k=2", timeout=30) as response:
            assert response.status == 200
            assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
            assert len(json.load(response)["results"]) == 2
    finally:
        server.close()
        thread.join(timeout=5)


def test_an_internal_error_is_a_plain_500_without_a_traceback(web_settings, monkeypatch):
    import kb.analysis.documents

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(kb.analysis.documents, "about", broken)
    monkeypatch.setattr(kb.analysis.documents, "document_detail", broken)
    client = create_app({"SETTINGS": web_settings}).test_client()  # not TESTING: errors are handled
    response = client.get("/about")
    text = response.get_data(as_text=True)
    assert response.status_code == 500 and "Sorry, there is a problem" in text
    assert "secret internals" not in text and "Traceback" not in text
    assert response.headers["X-Frame-Options"] == "DENY"
    response = client.get("/api/documents/x")
    assert response.status_code == 500 and "secret" not in response.get_json()["error"]

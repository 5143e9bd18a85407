"""Browsing the evidence through the web app: barriers by theme and year, funding figures,
recommendation lifecycles, CSV exports, the OpenAPI description — and hostile documents.

Same small real knowledge base as tests/test_webapp.py (built once per session by
``refrain_webtest``), which also holds a Treasury Minutes response (2018) answering the
2018 committee report, and a 2019 briefing whose title, publisher and sentences carry
``<script>``, ``"><img onerror=…>`` and spreadsheet-formula payloads.
"""
from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "web"))
pytest_plugins = ["refrain_webtest"]
pytest.register_assert_rewrite("refrain_webtest")

from refrain_webtest import api_json  # noqa: E402

from kb.analysis.browse import FundingQuery, barrier_overview, barrier_theme, funding_figures  # noqa: E402
from kb.vocabulary import THEMES  # noqa: E402
from kb.analysis.lifecycle import lifecycle  # noqa: E402
from kb.analysis.recurrence import recurrences  # noqa: E402
from webapp import EXTENSION, SECURITY_HEADERS  # noqa: E402
from webapp.csvout import safe_cell  # noqa: E402
from webapp.present import theme_name  # noqa: E402

HOSTILE_TITLE = '=HYPERLINK("https://evil.example") "><img src=x onerror=alert(1)><script>alert(2)</script> briefing'
RESPONSE_TITLE = ("Treasury Minutes: Government response to the Committee of Public Accounts on integrating "
                  "health and social care")
PAYLOADS = ("<script>alert(", "<img src=x", '"><img', "<b>Council")


@pytest.fixture(scope="session")
def store(app):
    return app.extensions[EXTENSION].store


def get(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:1500])
    return response.get_data(as_text=True)


api = api_json


def read_csv(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # a BOM, so spreadsheets read '£' as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


def bars(svg_text: str) -> dict[str, str]:
    """``{year: value}`` from a chart's bar titles."""
    return dict(re.findall(r"<title>(\d{4}): ([^<]+)</title>", svg_text))


# --- every route answers -----------------------------------------------------------------------

def sample_url(rule, ids: dict) -> str:
    url = rule.rule
    for name, value in ids.items():
        url = url.replace(f"<{name}>", value)
    return url


def test_every_page_and_api_route_answers(app, client, doc_ids, store):
    group = recurrences(store, kind="recommendation")[0]["id"]
    rec_id = store.conn.execute("SELECT id FROM recommendations LIMIT 1").fetchone()[0]
    ids = {"doc_id": doc_ids[RESPONSE_TITLE], "group_id": group, "theme": "workforce",
           "path:filename": "style.css", "rec_id": rec_id, "actor_id": "dhsc", "fmt": "ris"}
    checked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "api.unknown" or "GET" not in rule.methods:
            continue
        url = sample_url(rule, ids)
        if rule.endpoint in ("api.search", "feeds.search_feed", "pages.search_citations"):
            url += "?q=care"
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if url.startswith("/api/"):
            assert response.mimetype == "application/json", url
        checked.append(rule.rule)
    for route in ("/barriers", "/barriers/<theme>", "/funding", "/api/barriers", "/api/barriers/<theme>",
                  "/api/funding", "/api/lifecycle", "/api/openapi.json", "/api/recurrences/<group_id>"):
        assert route in checked


# --- barriers ----------------------------------------------------------------------------------

def test_the_barriers_page_compares_every_theme_year_by_year(client, store):
    overview = barrier_overview(store).to_json()
    text = get(client, "/barriers")
    assert overview["years"][0] == 2014 and overview["years"][-1] == 2022
    table = text[text.index('id="compare"'):text.index("</table>", text.index('id="compare"'))]
    for year in overview["years"]:
        assert f">{year}</th>" in table
    for theme in overview["themes"]:
        assert f'href="/barriers/{theme["theme"]}">{theme_name(theme["theme"])}</a>' in table
        row = table[table.index(f'/barriers/{theme["theme"]}"'):]
        row = row[:row.index("</tr>")]
        counts = [int(c) for c in re.findall(r'<td class="numeric heat-\d">(\d+)</td>', row)]
        assert counts == [p["count"] for p in theme["by_year"]]
    info = next(t for t in overview["themes"] if t["theme"] == "information_sharing")
    # 2014, 2017, 2018, 2022 reports and the 2019 briefing all raise information sharing.
    assert {p["year"] for p in info["by_year"] if p["count"]} == {2014, 2017, 2018, 2019, 2022}
    # One small chart per theme, each with its own title, description and numbers.
    svg = text[text.index('id="chart-information_sharing"'):]
    svg = svg[:svg.index("</figure>")]
    assert '<title id="chart-information_sharing-title">Information sharing: barrier sentences per year' in svg
    assert "<desc" in svg and 'role="img"' in svg
    assert bars(svg) == {str(p["year"]): str(p["count"]) for p in info["by_year"] if p["count"]}
    assert api(client, "/api/barriers") == json.loads(json.dumps(overview))


def test_counting_documents_lets_one_long_report_count_once_per_theme_and_year(client, store):
    """Two inquiry volumes can hold more sentences on a theme than a decade of short reports;
    a researcher comparing how widely a barrier is raised counts documents instead."""
    overview = barrier_overview(store).to_json()
    points = [p for t in overview["themes"] for p in t["by_year"]]
    assert all(0 <= p["documents"] <= p["count"] and (p["documents"] > 0) == (p["count"] > 0) for p in points)
    assert any(p["count"] > p["documents"] > 0 for p in points)  # some document states a theme more than once
    text = get(client, "/barriers?count=documents")
    assert '<strong aria-current="page">documents</strong>' in text and 'href="/barriers">sentences</a>' in text
    table = text[text.index('id="compare"'):text.index("</table>", text.index('id="compare"'))]
    assert "Documents stating each theme, per year" in table
    for theme in overview["themes"]:
        row = table[table.index(f'/barriers/{theme["theme"]}"'):]
        row = row[:row.index("</tr>")]
        counts = [int(c) for c in re.findall(r'<td class="numeric heat-\d">(\d+)</td>', row)]
        assert counts == [p["documents"] for p in theme["by_year"]]
        assert f'<td class="numeric"><strong>{theme["documents"]}</strong></td>' in row
    rows = re.findall(r'<th scope="row"><a href="/barriers/(\w+)"', table)  # most widely raised first
    widely = {t["theme"]: t["documents"] for t in overview["themes"]}
    assert [widely[t] for t in rows] == sorted(widely.values(), reverse=True)
    info = next(t for t in overview["themes"] if t["theme"] == "information_sharing")
    svg = text[text.index('id="chart-information_sharing"'):]
    svg = svg[:svg.index("</figure>")]
    assert "Information sharing: documents stating it per year" in svg
    assert bars(svg) == {str(p["year"]): str(p["documents"]) for p in info["by_year"] if p["documents"]}
    sentences = get(client, "/barriers")
    assert 'href="/barriers?count=documents">documents</a>' in sentences
    assert '<strong aria-current="page">sentences</strong>' in sentences
    assert "count" in get(client, "/barriers?count=paragraphs", status=400)
    detail = barrier_theme(store, "information_sharing").to_json()
    assert [p["documents"] for p in detail["by_year"]] == [p["documents"] for p in info["by_year"]]
    # The theme's own page counts the same way.
    page = get(client, "/barriers/information_sharing?count=documents")
    assert "Information sharing: documents stating it per year" in page
    assert bars(page[page.index("<svg"):page.index("</svg>")]) == {
        str(p["year"]): str(p["documents"]) for p in detail["by_year"] if p["documents"]}
    assert 'href="/barriers/information_sharing">sentences</a>' in page
    assert 'href="/barriers/information_sharing?count=documents">documents</a>' in get(
        client, "/barriers/information_sharing")
    assert "count" in get(client, "/barriers/information_sharing?count=paragraphs", status=400)


def test_a_theme_page_shows_its_years_strongest_sentences_and_documents(client, store):
    detail = barrier_theme(store, "information_sharing").to_json()
    text = get(client, "/barriers/information_sharing")
    assert '<h1 class="page-title">Information sharing</h1>' in text
    assert bars(text[text.index("<svg"):text.index("</svg>")]) == {
        str(p["year"]): str(p["count"]) for p in detail["by_year"] if p["count"]}
    # Sentences filed mainly under the theme come first, each part strongest first.
    mains = [s["main_theme"] == "information_sharing" for s in detail["sentences"]]
    assert mains and mains[0] and mains == sorted(mains, reverse=True)
    for part in (True, False):
        scores = [s["score"] for s, m in zip(detail["sentences"], mains) if m is part]
        assert scores == sorted(scores, reverse=True)
    for s in detail["sentences"]:
        link = f'/documents/{s["doc_id"]}#barrier-{s["barrier_id"]}'
        assert f'href="{link}"' in text
        doc_text = get(client, link.split("#")[0])
        assert f'id="barrier-{s["barrier_id"]}"' in doc_text  # the link lands on the sentence
    top = text[text.index('id="top-documents"'):]
    for d in detail["top_documents"]:
        assert f'/documents/{d["doc_id"]}' in top
    assert f'/search?q=information+sharing&amp;theme=information_sharing' in text
    assert api(client, "/api/barriers/information_sharing") == json.loads(json.dumps(detail))


def test_a_sentence_that_only_touches_on_a_theme_comes_after_its_own_and_says_where_it_is_filed(client, store):
    """A barrier score says how surely a sentence states an obstacle, not which one: a sentence
    about records, filed mainly under evidence, is weaker evidence of information sharing."""
    seen = 0
    for theme in THEMES:
        detail = barrier_theme(store, theme, sentences=1000).to_json()
        others = [s for s in detail["sentences"] if s["main_theme"] != theme]
        if not others:
            continue
        seen += 1
        mains = [s["main_theme"] == theme for s in detail["sentences"]]
        assert mains == sorted(mains, reverse=True)
        text = get(client, f"/barriers/{theme}")
        assert (f'filed mainly under <a href="/barriers/{others[0]["main_theme"]}">'
                f'{theme_name(others[0]["main_theme"])}</a>') in text
    assert seen  # the small knowledge base has such sentences


@pytest.mark.parametrize("theme", ["money", "INFORMATION_SHARING", "%3Cb%3Ex", "<script>"])
def test_an_unknown_theme_is_a_404_that_lists_the_themes(client, theme):
    text = get(client, f"/barriers/{theme}", status=404)
    assert "There is no barrier theme" in text and "information_sharing" in text and "<script>" not in text
    assert "The themes are" in api(client, f"/api/barriers/{theme}", status=404)["error"]


def test_a_theme_with_no_barriers_yet_says_so(client):
    empty = next(t for t in THEMES if not barrier_theme(client.application.extensions[EXTENSION].store, t).total)
    text = get(client, f"/barriers/{empty}")
    assert "No sentence has been filed under this theme yet." in text and "Nothing to chart yet." in text


# --- funding -----------------------------------------------------------------------------------

def funding_rows(text: str) -> list[str]:
    """The amounts in the funding table, in order."""
    table = text[text.index('id="funding-table"'):text.index("</table>", text.index('id="funding-table"'))]
    return re.findall(r'<span class="amount-cell">([^<]+)</span>', table)


def test_the_funding_table_lists_every_figure_largest_first(client, store):
    text = get(client, "/funding")
    figures = funding_figures(store)
    assert len(figures) == 5
    assert funding_rows(text) == ["£116 billion", "£18.5 billion", "£3.8 billion", "£2 billion", "£4 million"]
    assert 'aria-sort="descending"' in text
    # Each kind is charted by its document's year on its own (an allocation and spending are
    # never one total), and the chart's numbers are in a table.
    def chart(kind: str) -> str:
        start = text.index(f'id="chart-funding-{kind}"')
        return text[start:text.index("</figure>", start)]

    assert bars(chart("allocation")) == {"2014": "£3.8 billion", "2017": "£2 billion", "2022": "£116 billion"}
    assert "<th scope=\"row\">2015</th><td class=\"numeric\">£0</td>" in chart("allocation")
    assert bars(chart("spend")) == {"2018": "£18.5 billion", "2019": "£4 million"}
    kinds = text[text.index('id="funding-kinds"'):text.index("</table>", text.index('id="funding-kinds"'))]
    assert re.findall(r'<td class="numeric">(\d+)</td><td class="numeric">([^<]+)</td>', kinds) == [
        ("3", "£122 billion"), ("2", "£18.5 billion")]


def test_a_column_heading_sorts_the_table_and_keeps_the_filters(client):
    text = get(client, "/funding?kind=allocation")
    assert funding_rows(text) == ["£116 billion", "£3.8 billion", "£2 billion"]
    year_link = re.search(r'<a class="sort-link" href="([^"]+)">Year', text).group(1).replace("&amp;", "&")
    assert parse_qs(urlparse(year_link).query) == {"kind": ["allocation"], "sort": ["year"]}
    by_year = get(client, year_link)
    assert funding_rows(by_year) == ["£3.8 billion", "£2 billion", "£116 billion"]  # 2014, 2017, 2022
    again = re.search(r'<a class="sort-link" href="([^"]+)">Year', by_year).group(1).replace("&amp;", "&")
    assert parse_qs(urlparse(again).query)["order"] == ["desc"]
    assert funding_rows(get(client, again)) == ["£116 billion", "£2 billion", "£3.8 billion"]


@pytest.mark.parametrize("params, amounts", [
    ({"kind": "spend"}, [18.5e9, 4e6]),
    ({"source": "nao"}, [116e9, 3.8e9]),
    ({"from": "2017", "to": "2018"}, [18.5e9, 2e9]),
    ({"q": "better care"}, [3.8e9]),
    ({"q": "adult social", "sort": "amount", "order": "asc"}, [2e9, 18.5e9]),
    ({"q": "100%_"}, []),  # LIKE wildcards are matched literally
])
def test_funding_filters(client, params, amounts):
    data = api(client, "/api/funding?" + urlencode(params))
    assert [f["amount_gbp"] for f in data["results"]] == amounts
    assert data["total"] == len(amounts)


def test_funding_pages_and_totals_by_year(client):
    first = api(client, "/api/funding?k=2")
    second = api(client, "/api/funding?k=2&page=2")
    assert (first["pages"], first["total"]) == (3, 5)
    assert [f["mention"] for f in first["results"] + second["results"]] == [
        "£116 billion", "£18.5 billion", "£3.8 billion", "£2 billion"]
    assert {y["year"]: y["total_gbp"] for y in first["by_year"] if y["count"]} == {
        2014: 3.8e9, 2017: 2e9, 2018: 18.5e9, 2019: 4e6, 2022: 116e9}
    assert [(t["kind"], t["count"], t["total_gbp"]) for t in first["by_kind"]] == [
        ("allocation", 3, 121.8e9), ("spend", 2, 18.504e9)]
    text = get(client, "/funding?k=2&page=2")
    assert 'rel="prev"' in text and 'rel="next"' in text


def test_funding_downloads_as_csv_with_the_same_filters(client):
    rows = read_csv(client.get("/api/funding?format=csv&kind=allocation&sort=year&order=asc"))
    assert [r["mention"] for r in rows] == ["£3.8 billion", "£2 billion", "£116 billion"]
    assert float(rows[0]["amount_gbp"]) == 3.8e9 and rows[0]["period"] == "2015/16" and rows[0]["year"] == "2014"
    text = get(client, "/funding?kind=allocation")
    assert 'href="/api/funding?format=csv&amp;kind=allocation"' in text


BAD_FUNDING = [
    ({"kind": "gift"}, "Unknown kind"),
    ({"source": "bbc"}, "Unknown source"),
    ({"from": "20x4"}, "four-digit year"),
    ({"from": "2020", "to": "2010"}, "must not be after"),
    ({"q": "x" * 101}, "100 characters or fewer"),
    ({"sort": "colour"}, "sort must be one of"),
    ({"order": "up"}, "order must be asc or desc"),
    ({"page": "0"}, "Page must be from 1"),
    ({"page": "9"}, "There is no page 9"),
    ({"k": "501"}, "from 1 to 500"),
    ({"format": "xlsx"}, "format must be one of json, csv"),
]


@pytest.mark.parametrize("params, message", BAD_FUNDING, ids=[m for _, m in BAD_FUNDING])
def test_bad_funding_input_is_a_helpful_400(client, params, message):
    data = api(client, "/api/funding?" + urlencode(params), status=400)
    assert message in data["error"]
    if "format" not in params:
        text = get(client, "/funding?" + urlencode(params), status=400)
        assert message in text.replace("&#34;", '"') and "There is a problem" in text
        assert '<select class="select" id="kind" name="kind"' in text  # the form is there to fix it


# --- lifecycle and responses on the timeline -----------------------------------------------------

def test_api_lifecycle_is_the_kb_lifecycle_contract(client, store):
    entries = api(client, "/api/lifecycle")
    assert entries == json.loads(json.dumps(lifecycle(store)))
    assert all(set(e) == {"recommendation", "responses", "group_id"} for e in entries)
    answered = api(client, "/api/lifecycle?answered=yes")
    assert {e["recommendation"]["label"] for e in answered} == {"3", "4"}
    assert {r["stance"] for e in answered for r in e["responses"]} == {"accepted", "partially_accepted"}
    assert len(api(client, "/api/lifecycle?answered=no")) == len(entries) - 2
    group = next(e["group_id"] for e in answered if e["recommendation"]["label"] == "3")
    assert {e["group_id"] for e in api(client, f"/api/lifecycle?group_id={group}")} == {group}


@pytest.mark.parametrize("query, message", [("answered=maybe", "answered must be yes or no"),
                                            ("group_id=../x", "group_id must be")])
def test_bad_lifecycle_input(client, query, message):
    assert message in api(client, f"/api/lifecycle?{query}", status=400)["error"]


def test_the_timeline_puts_the_government_response_and_its_target_date_on_the_line(client, store, doc_ids):
    group = next(g for g in recurrences(store, kind="recommendation")
                 if any(o["responses"] for o in g["occurrences"]))
    text = get(client, f"/recurrences/{group['id']}")
    svg = text[text.index("<svg"):text.index("</svg>")]
    response_doc = doc_ids[RESPONSE_TITLE]
    events = re.findall(r'<a class="event event-(\w+)" href="([^"]+)" aria-label="([^"]+)"', svg)
    kinds = [k for k, _, _ in events]
    assert kinds == ["response", "target"]
    assert all(href.startswith(f"/documents/{response_doc}#response-") for _, href, _ in events)
    assert "Government response, 18 October 2018: accepted" in events[0][2]
    assert "Target date set by the 18 October 2018 response: March 2019" in events[1][2]
    assert ">2019</text>" in svg  # the target year is on the axis, though nothing was said then
    # Both marks sit on the axis line itself.
    axis_y = re.search(r'<line class="axis" x1="[^"]+" y1="([^"]+)"', svg).group(1)
    for polygon in re.findall(r'<polygon points="([^"]+)"', svg):
        ys = [float(p.split(",")[1]) for p in polygon.split()]
        assert min(ys) < float(axis_y) < max(ys)
    assert "target date: March 2019" in text and "Government response: <span" in text
    anchor = events[0][1].split("#")[1]
    assert f'id="{anchor}"' in get(client, f"/documents/{response_doc}")


# --- CSV exports ---------------------------------------------------------------------------------

def test_search_results_download_as_csv(client):
    data = api(client, "/api/search?q=information+governance&k=100")
    rows = read_csv(client.get("/api/search?q=information+governance&format=csv&k=3&page=2"))
    # The whole result window, whatever page the link was made from, in rank order.
    assert [r["passage_id"] for r in rows] == [h["passage_id"] for h in data["results"]]
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    assert {"title", "publisher", "published", "page", "url", "text"} <= set(rows[0])
    page = get(client, "/search?q=information+governance&source=nao")
    # The page lists at most 3 passages of a document; its CSV link says so, to give what it lists.
    assert 'href="/api/search?q=information+governance&amp;source=nao&amp;per_doc=3&amp;format=csv"' in page
    assert len(read_csv(client.get("/api/search?q=information+governance&source=nao&format=csv"))) == \
        api(client, "/api/search?q=information+governance&source=nao")["total"]
    capped = api(client, "/api/search?q=information+governance&source=nao&per_doc=3&k=100")
    assert len(read_csv(client.get("/api/search?q=information+governance&source=nao&per_doc=3&format=csv"))) == \
        capped["listed"] == len(capped["results"])


def test_recurrences_download_as_csv_one_row_per_occurrence(client, store):
    groups = recurrences(store, min_years=2)
    rows = read_csv(client.get("/api/recurrences?min_years=2&format=csv"))
    assert len(rows) == sum(g["count"] for g in groups)
    first = [r for r in rows if r["group_id"] == groups[0]["id"]]
    assert [r["published"] for r in first] == [o["published"] or "" for o in groups[0]["occurrences"]]
    assert any("accepted (target March 2019)" in r["responses"] for r in rows)


@pytest.mark.parametrize("value, cell", [("=1+1", "'=1+1"), ("+44 20", "'+44 20"), ("-2", "'-2"),
                                         ("@SUM(A1)", "'@SUM(A1)"), ("\t=x", "'\t=x"), ("plain", "plain"),
                                         (-2.5, -2.5), (None, ""), (True, "yes")])
def test_a_csv_cell_never_starts_a_formula(value, cell):
    assert safe_cell(value) == cell


# --- hostile documents: escaped in pages, JSON and CSV ----------------------------------------------

def hostile_urls(store, doc_id) -> list[str]:
    finding = next(g["id"] for g in recurrences(store, kind="finding")
                   if any(o["doc_id"] == doc_id for o in g["occurrences"]))
    return [f"/documents/{doc_id}", "/search?q=hostile+briefing+council", "/search?q=information+governance+barrier",
            "/barriers/information_sharing", "/funding", "/funding?q=council", f"/recurrences/{finding}"]


def test_the_hostile_document_was_ingested_with_its_payloads(store, doc_ids):
    doc_id = doc_ids[HOSTILE_TITLE]
    assert any("<img src=x onerror=alert(7)>" in b.sentence for b in barrier_theme(store, "information_sharing").sentences)
    assert any("<script>alert(8)</script>" in f.sentence for f in funding_figures(store, FundingQuery(doc_id=doc_id)))


def test_hostile_text_is_escaped_in_every_page(client, store, doc_ids):
    for url in hostile_urls(store, doc_ids[HOSTILE_TITLE]):
        text = get(client, url)
        for payload in PAYLOADS:
            assert payload not in text, (url, payload)
        assert "&lt;script&gt;" in text or "&lt;img" in text, url


@pytest.mark.parametrize("url", ["/api/documents/{doc}", "/api/search?q=hostile+briefing+council",
                                 "/api/barriers/information_sharing", "/api/funding?q=council",
                                 "/api/recurrences?kind=finding", "/api/lifecycle"])
def test_hostile_text_is_escaped_in_json_but_reads_back_exactly(client, doc_ids, url):
    response = client.get(url.format(doc=doc_ids[HOSTILE_TITLE]))
    raw = response.get_data(as_text=True)
    assert "<" not in raw and ">" not in raw  # written as \u003c and \u003e
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if "lifecycle" not in url:
        assert "<script>" in json.dumps(response.get_json())  # the data itself is unchanged


def test_hostile_text_cannot_run_as_a_formula_in_csv(client):
    for url in ("/api/funding?format=csv&q=council", "/api/search?q=hostile+briefing+council&format=csv"):
        rows = read_csv(client.get(url))
        hostile = [r for r in rows if "evil.example" in r["title"]]
        assert hostile, url
        assert hostile[0]["title"] == "'" + HOSTILE_TITLE
        for row in rows:
            assert not any(str(v).startswith(("=", "+", "-", "@")) for v in row.values()), row
    rows = read_csv(client.get("/api/funding?format=csv&q=council"))
    assert rows[0]["sentence"] == "The council spent £4 million <script>alert(8)</script> on integrated care teams in 2019-20."


# --- the OpenAPI description -----------------------------------------------------------------------

def test_openapi_describes_every_api_route_and_its_parameters(app, client):
    spec = api(client, "/api/openapi.json")
    assert spec["openapi"].startswith("3.") and spec["info"]["title"]
    described = set(spec["paths"])
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.endpoint != "api.unknown":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            assert path in described, f"{path} is not in /api/openapi.json"
    for path, item in spec["paths"].items():
        op = item["get"]
        assert op["summary"] and "200" in op["responses"] and "400" in op["responses"]
        for name in re.findall(r"{(\w+)}", path):
            assert any(p["name"] == name and p["in"] == "path" for p in op["parameters"]), (path, name)
    search_params = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert search_params == {"q", "k", "theme", "source", "from", "to", "type", "sort", "group", "per_doc", "doc",
                             "page", "format"}
    assert "text/csv" in spec["paths"]["/api/funding"]["get"]["responses"]["200"]["content"]


def test_openapi_limits_are_the_enforced_ones(client):
    spec = api(client, "/api/openapi.json")
    params = {p["name"]: p["schema"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    too_long = "x" * (params["q"]["maxLength"] + 1)
    assert client.get("/api/search?" + urlencode({"q": too_long})).status_code == 400
    assert client.get("/api/search?" + urlencode({"q": "x" * params["q"]["maxLength"]})).status_code == 200
    assert client.get(f"/api/search?q=care&k={params['k']['maximum'] + 1}").status_code == 400
    assert client.get(f"/api/search?q=care&k={params['k']['maximum']}").status_code == 200


def test_openapi_response_schemas_name_the_fields_the_api_sends(client, store):
    """Each typed response's schema is generated from its read model: the fields a client is
    promised are the fields it gets, in the same order."""
    spec = api(client, "/api/openapi.json")
    schemas = spec["components"]["schemas"]

    def check(value, schema):
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        if value is None:
            assert schema.get("nullable") or not schema, schema
        elif schema.get("type") == "array":
            for item in value:
                check(item, schema["items"])
        elif "properties" in schema:
            assert set(schema.get("required", [])) <= set(value), (schema.get("required"), list(value))
            if schema.get("required") == list(schema["properties"]):  # a read model's to_json(): in order
                assert list(value) == schema["required"]
            for key, item in value.items():
                if key in schema["properties"]:
                    check(item, schema["properties"][key])

    doc_id = funding_figures(store)[0].doc_id
    group_id = recurrences(store, kind="recommendation")[0]["id"]
    for path, url in (("/api/barriers", "/api/barriers"), ("/api/barriers/{theme}", "/api/barriers/workforce"),
                      ("/api/funding", "/api/funding"), ("/api/documents/{doc_id}", f"/api/documents/{doc_id}"),
                      ("/api/recurrences", "/api/recurrences"), ("/api/lifecycle", "/api/lifecycle"),
                      ("/api/recurrences/{group_id}", f"/api/recurrences/{group_id}"),
                      ("/api/search", "/api/search?q=care")):
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema != {"type": "object"}, path
        check(api(client, url), schema)
    assert set(schemas["DocumentDetail"]["properties"]) >= {"barriers", "recommendations", "funding", "responses"}
    assert "page_texts" not in schemas["DocumentDetail"]["properties"]


# --- read-only, headers, traversal ----------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/barriers", "/barriers/workforce", "/funding", "/funding?kind=gift",
                                 "/api/funding?format=csv", "/api/openapi.json", "/api/lifecycle",
                                 "/api/barriers/nope"])
def test_new_routes_send_the_security_headers(client, url):
    response = client.get(url)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (url, name)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "camera=()" in response.headers["Permissions-Policy"]


@pytest.mark.parametrize("method, url", [("post", "/api/admin/reindex"), ("post", "/api/admin/crawl"),
                                         ("post", "/api/funding"), ("put", "/api/documents/x"),
                                         ("delete", "/documents/x"), ("post", "/funding")])
def test_nothing_changes_data(client, store, method, url):
    before = store.stats()
    response = getattr(client, method)(url, headers={"Authorization": "Bearer guess"})
    assert response.status_code in (404, 405)
    assert store.stats() == before


@pytest.mark.parametrize("doc_id", ["%2e%2e%2f%2e%2e%2fkb.sqlite", "..%252f..%252fkb.sqlite", "....//....//kb.sqlite",
                                    "%2e%2e", "..\\..\\kb.sqlite", "%00", "/etc/passwd"])
def test_the_raw_route_takes_no_encoded_paths(client, doc_id):
    response = client.get(f"/documents/{doc_id}/raw")
    assert response.status_code == 404
    assert b"SQLite format" not in response.data and b"root:" not in response.data

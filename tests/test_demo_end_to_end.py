"""A user runs `kb demo --no-serve`: the demo site is crawled over HTTP, ingested, and searchable.

These tests use every real component — fpdf2-built PDFs, an HTTP server on 127.0.0.1, the
Scrapy spiders, pypdfium2, spaCy, the packaged MiniLM model, SQLite and Chroma.
"""
import pytest

from conftest import kb_json, run_kb

pytestmark = pytest.mark.slow


def test_every_source_is_crawled_and_ingested(demo_home, demo_report):
    stats = kb_json(demo_home, "stats")
    assert stats["documents"] >= 14
    for source in ("nao", "govuk", "nhs-digital", "parliament"):
        assert stats["sources"].get(source, 0) >= 2, stats["sources"]
    assert demo_report["crawl"]["failed"] == []
    assert demo_report["ingest"]["failed"] == 0
    assert stats["recommendations"] >= 20 and stats["barriers"] >= 20 and stats["funding"] >= 10


def test_documents_span_2014_to_2024_with_pdfs(demo_home):
    docs = kb_json(demo_home, "search", "integration", "-k", "100")
    years = {int(h["published"][:4]) for h in docs if h["published"]}
    assert min(years) <= 2014 and max(years) >= 2022
    assert any(h["page"] for h in docs), "PDF passages carry page numbers"


def test_the_better_care_fund_figure_is_extracted(demo_home):
    hits = kb_json(demo_home, "search", "£5.3 billion Better Care Fund pooled", "-k", "20")
    assert any("5.3 billion" in h["text"] for h in hits)
    from kb.config import Settings
    from kb.store.db import Store

    store = Store(Settings.from_env(demo_home).sqlite_path, readonly=True)
    rows = store.conn.execute("SELECT amount_gbp, subject, kind FROM funding WHERE amount_gbp = 5.3e9").fetchall()
    assert rows, "the £5.3 billion Better Care Fund figure is stored as 5,300,000,000"
    assert any("Better Care Fund" in (r["subject"] or "") for r in rows)


def test_a_recommendation_recurs_across_three_or_more_years(demo_home):
    groups = kb_json(demo_home, "recurrences", "--min-years", "3", "--kind", "recommendation")
    assert len(groups) >= 3
    first = groups[0]
    assert len(first["years"]) >= 3
    assert len({o["doc_id"] for o in first["occurrences"]}) >= 3
    assert all(o["title"] and o["text"] for o in first["occurrences"])


def test_the_crawled_nao_report_carries_its_page_and_cover_details(demo_home):
    """Title, date, HC number and session from the report page; departments from the cover."""
    from kb.config import Settings
    from kb.store.db import Store

    store = Store(Settings.from_env(demo_home).sqlite_path, readonly=True)
    [doc] = [d for d in store.documents() if (d.url or "").endswith("/2017/02/Health-and-social-care-integration.pdf")]
    assert doc.title == "Health and social care integration" and doc.published == "2017-02-08"
    assert doc.identifiers == {"hc_number": "1011", "session": "2016-17", "departments":
                               "Department of Health, Department for Communities and Local Government and NHS England"}


def test_information_governance_finds_the_nao_2017_report_first(demo_home):
    hits = kb_json(demo_home, "search", "information governance", "-k", "5")
    assert hits[0]["source"] == "nao"
    assert "integration" in hits[0]["title"].lower()
    assert hits[0]["published"].startswith("2017")
    assert hits[0]["url"].endswith(".pdf") and hits[0]["page"] >= 1


def test_search_filters_by_source_year_and_theme(demo_home):
    hits = kb_json(demo_home, "search", "workforce", "--source", "govuk", "-k", "10")
    assert hits and all(h["source"] == "govuk" for h in hits)
    hits = kb_json(demo_home, "search", "integration", "--from", "2020", "--to", "2024")
    assert hits and all(2020 <= int(h["published"][:4]) <= 2024 for h in hits)
    hits = kb_json(demo_home, "search", "staff", "--theme", "workforce")
    assert hits and all("workforce" in h["themes"] for h in hits)


def test_running_the_demo_twice_gives_the_same_counts(demo_home):
    before = kb_json(demo_home, "stats")
    report = kb_json(demo_home, "demo", "--no-serve")
    assert report["ingest"]["new"] == 0 and report["ingest"]["failed"] == 0
    assert kb_json(demo_home, "stats") == before


def test_json_output_is_only_json(demo_home):
    proc = run_kb(demo_home, "stats", "--json")
    assert proc.stdout.lstrip().startswith("{")
    proc = run_kb(demo_home, "search", "nonsense-word-xyzzy", "--json")
    assert proc.stdout.strip() == "[]" or proc.stdout.lstrip().startswith("[")


def test_exact_phrases_and_exclusions_hold_for_every_hit(demo_home):
    hits = kb_json(demo_home, "search", '"information governance"', "-k", "20")
    assert hits and all("information governance" in " ".join(h["text"].lower().split()) for h in hits)
    assert kb_json(demo_home, "search", '"zebra crossing quantum"') == []
    hits = kb_json(demo_home, "search", "workforce -nurses", "-k", "20")
    assert hits and all("nurses" not in h["text"].lower() for h in hits)


def test_hits_grouped_by_document_cite_each_report_once(demo_home):
    docs = kb_json(demo_home, "search", "workforce shortages in social care", "--by-document", "-k", "5")
    assert len(docs) == 5 and len({d["doc_id"] for d in docs}) == 5
    assert all(1 <= len(d["passages"]) <= 3 and d["hits"] >= len(d["passages"]) for d in docs)
    assert [d["score"] for d in docs] == sorted((d["score"] for d in docs), reverse=True)

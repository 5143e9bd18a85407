"""What the views ask of the knowledge base, each in one call: a page of search results with
facets, one document with its extractions, one recurrence group, the about-page facts.

Read-only SQL over the store's connection; everything returned is plain data for a template
or ``jsonify``. (Document extractions and a single recurrence group have no kb/ function yet;
the queries here are candidates to move into ``kb.store`` / ``kb.recurrence``.)
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from dataclasses import dataclass, field

from kb.browse import known_gaps
from kb.facets import FacetValue, facet_counts
from kb.knowledge import KnowledgeBase
from kb.lifecycle import responses_for
from kb.recurrence import recurrence
from kb.search import Filters, Hit, search
from kb.store import Store
from webapp.params import SearchParams, check_page

# Search ranks by fusing keyword and semantic rankings; past the first hundred passages the
# order means little, so that is the window we page through and count facets over.
RESULT_WINDOW = 100
FACETS = ("source", "theme", "year", "doc_type")


@dataclass
class SearchPage:
    params: SearchParams
    hits: list[Hit] = field(default_factory=list)  # this page's hits
    total: int = 0  # hits in the window, all pages
    pages: int = 0
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)

    @property
    def first(self) -> int:
        return (self.params.page - 1) * self.params.k + 1

    @property
    def last(self) -> int:
        return self.first + len(self.hits) - 1


def search_page(kbase: KnowledgeBase, params: SearchParams, with_facets: bool = True) -> SearchPage:
    """One page of hits for ``params``; facets counted over the unfiltered top hits.

    Raises ``ParamError`` when ``params.page`` is past the last page.
    """
    result = SearchPage(params)
    if not params.q:
        return result
    window = search(kbase, params.q, k=RESULT_WINDOW, filters=params.filters)
    result.total = len(window)
    result.pages = math.ceil(result.total / params.k)
    check_page(params.page, result.pages)
    start = (params.page - 1) * params.k
    result.hits = window[start:start + params.k]
    if with_facets:
        unfiltered = search(kbase, params.q, k=RESULT_WINDOW, filters=Filters()) if params.filtered else window
        result.facets = facet_counts(unfiltered, FACETS)
    return result


def search_window(kbase: KnowledgeBase, params: SearchParams) -> list[Hit]:
    """Every hit of the result window (filters applied, pages ignored): the CSV export."""
    return search(kbase, params.q, k=RESULT_WINDOW, filters=params.filters) if params.q else []


def doc_types(store: Store) -> list[str]:
    """The document types present, for the search form's select."""
    rows = store.conn.execute(
        "SELECT DISTINCT doc_type FROM documents WHERE doc_type IS NOT NULL AND doc_type != '' ORDER BY doc_type")
    return [r[0] for r in rows]


def document_detail(store: Store, doc_id: str) -> dict | None:
    """A document's metadata and every item extracted from it, or None if there is no such id."""
    doc = store.document(doc_id)
    if doc is None:
        return None
    conn = store.conn
    barriers = []
    for r in conn.execute("SELECT id, theme, themes, sentence, page, score FROM barriers WHERE doc_id = ? "
                          "ORDER BY page, id", (doc_id,)):
        item = dict(r)
        try:
            item["themes"] = json.loads(item["themes"] or "[]")
        except json.JSONDecodeError:
            item["themes"] = []
        item["themes"] = item["themes"] or [item["theme"]]
        barriers.append(item)
    recommendations = [dict(r) for r in conn.execute(
        "SELECT id, seq, label, text, actor, deadline, page, group_id FROM recommendations WHERE doc_id = ? "
        "ORDER BY seq", (doc_id,))]
    funding = [dict(r, per_unit=bool(r["per_unit"])) for r in conn.execute(
        "SELECT id, amount_gbp, mention, subject, period, kind, sentence, page, per_unit FROM funding "
        "WHERE doc_id = ? ORDER BY page, id", (doc_id,))]
    answers = responses_for(store, [r["id"] for r in recommendations])
    for r in recommendations:  # the government's answers beside each recommendation
        r["responses"] = answers.get(r["id"], [])
    responses = [dict(r) for r in conn.execute(
        "SELECT id, responds_to, stance, text, target_date, page, responder, stance_evidence, implementation "
        "FROM responses WHERE doc_id = ? ORDER BY page, id", (doc_id,))]
    pages = [dict(r) for r in conn.execute("SELECT page, text FROM pages WHERE doc_id = ? ORDER BY page",
                                           (doc_id,))]
    data = {
        "id": doc.id, "title": doc.title, "url": doc.url, "source": doc.source, "published": doc.published,
        "year": doc.year, "doc_type": doc.doc_type, "publisher": doc.publisher, "format": doc.format,
        "pages": doc.pages, "identifiers": doc.identifiers, "ingested_at": doc.ingested_at,
        "barriers": barriers, "recommendations": recommendations, "funding": funding, "responses": responses,
    }
    return {"document": data, "page_texts": pages}


def by_page(detail: dict) -> list[dict]:
    """Extractions grouped by page for the document page: items with no page come first, then
    every page of a paged document (its text included), in order."""
    doc = detail["document"]
    sections: dict[int | None, dict] = {}

    def section(page: int | None) -> dict:
        if page not in sections:
            sections[page] = {"page": page, "text": None, "barriers": [], "recommendations": [],
                              "funding": [], "responses": []}
        return sections[page]

    paged = bool(doc["pages"])
    for kind in ("barriers", "recommendations", "funding", "responses"):
        for item in doc[kind]:
            section(item["page"] if paged else None)[kind].append(item)
    for row in detail["page_texts"]:
        section(row["page"] if paged else None)["text"] = row["text"] if paged else (
            "\n\n".join(r["text"] for r in detail["page_texts"]))
    return sorted(sections.values(), key=lambda s: (s["page"] is not None, s["page"] or 0))


def recurrence_group(store: Store, group_id: str) -> dict | None:
    """One group of ``recurrences()`` by id (with its occurrences), or None."""
    return recurrence(store, group_id)


def group_responses(store: Store, group: dict) -> list[dict]:
    """The government responses linked to a group's recommendations, with their own ids (for
    links to ``#response-<id>``), in date order."""
    ids = [o["recommendation_id"] for o in group["occurrences"] if o.get("recommendation_id")]
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return [dict(r) for r in store.conn.execute(
        f"""SELECT s.id, l.recommendation_id, s.doc_id, d.title, d.published, s.stance, s.target_date, s.page
            FROM response_links l JOIN responses s ON s.id = l.response_id JOIN documents d ON d.id = s.doc_id
            WHERE l.recommendation_id IN ({marks}) ORDER BY d.published, s.id""", ids)]


def last_crawl_log(crawl_dir: Path | None) -> dict | None:
    """The newest crawl record file (``<home>/crawl/<stamp>.jsonl``, one line per page
    fetched): when it was last written and how many pages were stored or failed. The crawler
    writes these on every run, whether or not a ``crawl_runs`` row was recorded."""
    if crawl_dir is None or not crawl_dir.is_dir():
        return None
    logs = sorted(crawl_dir.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    if not logs:
        return None
    statuses: dict[str, int] = {}
    with logs[-1].open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            try:
                status = json.loads(line).get("status") or "unknown"
            except (json.JSONDecodeError, AttributeError):
                status = "unreadable"
            statuses[status] = statuses.get(status, 0) + 1
    finished = datetime.fromtimestamp(logs[-1].stat().st_mtime, tz=timezone.utc)
    return {"finished_at": finished.strftime("%Y-%m-%dT%H:%M:%SZ"), "statuses": statuses}


def about(store: Store, crawl_dir: Path | None = None) -> dict:
    """Counts, the last ingest and the last finished crawl, for the about page."""
    conn = store.conn
    last_ingest = conn.execute("SELECT MAX(ingested_at) FROM documents").fetchone()[0]
    try:
        last_crawl = conn.execute("SELECT MAX(finished_at) FROM crawl_runs").fetchone()[0]
    except Exception:  # an old database without the table must not break the page
        last_crawl = None
    crawl_log = last_crawl_log(crawl_dir)
    if crawl_log and (last_crawl is None or crawl_log["finished_at"] > last_crawl):
        last_crawl = crawl_log["finished_at"]
    years = conn.execute("SELECT MIN(year), MAX(year) FROM documents").fetchone()
    return {"stats": store.stats(), "last_ingest": last_ingest, "last_crawl": last_crawl,
            "first_year": years[0], "last_year": years[1], "gaps": known_gaps(store),
            "crawl": crawl_log["statuses"] if crawl_log else None}

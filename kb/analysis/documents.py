"""Read models of stored documents for the pages, the API and the CSV: one document with
every item extracted from it, the document types present, the responses linked to a
recurrence group, the about-page facts. All the SQL the web app needs lives here (and in
``kb.analysis.browse``), so ``webapp/`` holds none.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from kb.analysis.browse import known_gaps
from kb.analysis.lifecycle import responses_for
from kb.analysis.models import (BarrierItem, DocumentDetail, DocumentList, DocumentSummary, FundingItem, GroupResponse, LinkedResponse, PageText,
                                RecommendationItem, ResponseItem)
from kb.store.db import Store


def doc_types(store: Store) -> list[str]:
    """The document types present, for the search form's select."""
    rows = store.conn.execute(
        "SELECT DISTINCT doc_type FROM documents WHERE doc_type IS NOT NULL AND doc_type != '' ORDER BY doc_type")
    return [r[0] for r in rows]


# Items of each kind shown on one part of a document page (and its API): a hostile document
# with 357,142 funding figures once made one page 532 MB of HTML. Page texts are capped too.
ITEMS_PER_PART = 200
PAGE_TEXT_MAX = 200_000
_ORDER = {"barriers": "page, id", "recommendations": "seq", "funding": "page, id", "responses": "page, id"}


def _part(table: str) -> str:
    """The condition selecting one part of a document's ``table`` rows (bind doc_id, limit,
    offset): ordered on ids through the (doc_id, page, id) indexes, never by sorting sentences."""
    return (f"id IN (SELECT id FROM {table} WHERE doc_id = ? ORDER BY {_ORDER[table]} LIMIT ? OFFSET ?)")


def document_detail(store: Store, doc_id: str, part: int = 1, per_part: int = ITEMS_PER_PART) -> DocumentDetail | None:
    """A document's metadata and part ``part`` of what was extracted from it (``per_part`` items
    of each kind; ``totals`` and ``parts`` say how much there is), or None if there is no such id.
    Page texts come for the pages this part's items are on (all pages on part 1), each capped at
    ``PAGE_TEXT_MAX`` characters: memory and response size are bounded whatever the document."""
    doc = store.document(doc_id)
    if doc is None:
        return None
    conn = store.conn
    totals = {t: conn.execute(f"SELECT COUNT(*) FROM {t} WHERE doc_id = ?", (doc_id,)).fetchone()[0] for t in _ORDER}
    parts = max(1, *(-(-n // per_part) for n in totals.values()))
    window = (doc_id, per_part, (max(part, 1) - 1) * per_part)
    barriers = []
    for r in conn.execute(f"SELECT id, theme, themes, sentence, page, score FROM barriers WHERE {_part('barriers')} "
                          "ORDER BY page, id", window):
        item = dict(r)
        try:
            item["themes"] = json.loads(item["themes"] or "[]")
        except json.JSONDecodeError:
            item["themes"] = []
        item["themes"] = item["themes"] or [item["theme"]]
        barriers.append(BarrierItem(**item))
    recs = conn.execute("SELECT id, seq, label, text, actor, deadline, page, group_id FROM recommendations "
                        f"WHERE {_part('recommendations')} ORDER BY seq", window).fetchall()
    answers = responses_for(store, [r["id"] for r in recs])
    recommendations = [RecommendationItem(**r, responses=[LinkedResponse(**a) for a in answers.get(r["id"], [])])
                       for r in recs]  # the government's answers beside each recommendation
    funding = [FundingItem(**dict(r, per_unit=bool(r["per_unit"]))) for r in conn.execute(
        "SELECT id, amount_gbp, mention, subject, period, kind, sentence, page, per_unit FROM funding "
        f"WHERE {_part('funding')} ORDER BY page, id", window)]
    responses = [ResponseItem(**r) for r in conn.execute(
        "SELECT id, responds_to, stance, text, target_date, page, responder, stance_evidence, implementation "
        f"FROM responses WHERE {_part('responses')} ORDER BY page, id", window)]
    wanted = {i.page for items in (barriers, recommendations, funding, responses) for i in items}
    pages = [PageText(page=r["page"], text=r["text"], truncated=bool(r["truncated"]), label=r["label"])
             for r in conn.execute(
        "SELECT page, substr(text, 1, ?) AS text, length(text) > ? AS truncated, label FROM pages WHERE doc_id = ? "
        "ORDER BY page", (PAGE_TEXT_MAX, PAGE_TEXT_MAX, doc_id)) if part == 1 or r["page"] in wanted]
    labels = {str(r[0]): r[1] for r in conn.execute(
        "SELECT page, label FROM pages WHERE doc_id = ? AND label IS NOT NULL ORDER BY page", (doc_id,))}
    return DocumentDetail(
        id=doc.id, title=doc.title, url=doc.url, source=doc.source, published=doc.published, year=doc.year,
        doc_type=doc.doc_type, publisher=doc.publisher, format=doc.format, pages=doc.pages,
        identifiers=doc.identifiers, ingested_at=doc.ingested_at, barriers=barriers,
        recommendations=recommendations, funding=funding, responses=responses, totals=totals, part=part,
        parts=parts, per_part=per_part, page_texts=pages, page_labels=labels if doc.pages else {})


def cited_passage(store: Store, doc_id: str, passage_id: str) -> dict | None:
    """The passage a citation points at (a search hit's ``passage_id``), with the text of its
    page, so the document page can open that page and mark the passage; None if not this
    document's. ``{"page", "label", "passage", "page_text"}``."""
    row = store.conn.execute(
        "SELECT p.page, p.text, pg.label, substr(pg.text, 1, ?) AS page_text FROM passages p "
        "LEFT JOIN pages pg ON pg.doc_id = p.doc_id AND pg.page = COALESCE(p.page, 1) WHERE p.id = ? AND p.doc_id = ?",
        (PAGE_TEXT_MAX, passage_id, doc_id)).fetchone()
    if row is None:
        return None
    return {"page": row["page"], "label": row["label"], "passage": row["text"], "page_text": row["page_text"]}


# --- the document list (/documents, /api/documents) -------------------------------------------

DOCUMENT_SORTS = ("date", "title")
_SORT_SQL = {  # undated and untitled documents last, whichever the order
    ("date", "asc"): "published IS NULL, published ASC, title COLLATE NOCASE",
    ("date", "desc"): "published IS NULL, published DESC, title COLLATE NOCASE",
    ("title", "asc"): "title IS NULL, title COLLATE NOCASE ASC, published DESC",
    ("title", "desc"): "title IS NULL, title COLLATE NOCASE DESC, published DESC",
}


def list_documents(store: Store, source: str | None = None, doc_type: str | None = None,
                   year: int | None = None, sort: str = "date", order: str = "desc",
                   page: int = 1, k: int = 25) -> DocumentList:
    """One page of the stored documents, filtered and sorted, with the sources, types and
    years that have documents (the filters offer only those)."""
    where, args = [], []
    for column, value in (("source", source), ("doc_type", doc_type), ("year", year)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    cond = f"WHERE {' AND '.join(where)}" if where else ""
    conn = store.conn
    total = conn.execute(f"SELECT COUNT(*) FROM documents {cond}", args).fetchone()[0]
    rows = conn.execute(
        f"""SELECT id, title, publisher, source, doc_type, published, year, format, pages, url, identifiers,
                   (SELECT COUNT(*) FROM barriers b WHERE b.doc_id = d.id) AS barriers,
                   (SELECT COUNT(*) FROM recommendations r WHERE r.doc_id = d.id) AS recommendations,
                   (SELECT COUNT(*) FROM funding f WHERE f.doc_id = d.id) AS funding,
                   (SELECT COUNT(*) FROM responses s WHERE s.doc_id = d.id) AS responses
            FROM documents d {cond} ORDER BY {_SORT_SQL[(sort, order)]}, id LIMIT ? OFFSET ?""",
        [*args, k, (page - 1) * k]).fetchall()
    results = [DocumentSummary(
        id=r["id"], title=r["title"], publisher=r["publisher"], source=r["source"], doc_type=r["doc_type"],
        published=r["published"], year=r["year"], format=r["format"], pages=r["pages"], url=r["url"],
        identifiers=json.loads(r["identifiers"] or "{}"),
        counts={key: r[key] for key in ("barriers", "recommendations", "funding", "responses")}) for r in rows]
    return DocumentList(
        total=total, page=page, pages=-(-total // k), k=k, sort=sort, order=order,
        filters={"source": source, "type": doc_type, "year": year}, results=results,
        sources=[{"source": r[0], "count": r[1]} for r in conn.execute(
            "SELECT source, COUNT(*) FROM documents GROUP BY source ORDER BY source")],
        doc_types=[{"doc_type": r[0], "count": r[1]} for r in conn.execute(
            "SELECT doc_type, COUNT(*) FROM documents WHERE doc_type IS NOT NULL AND doc_type != '' "
            "GROUP BY doc_type ORDER BY doc_type")],
        years=[{"year": r[0], "count": r[1]} for r in conn.execute(
            "SELECT year, COUNT(*) FROM documents WHERE year IS NOT NULL GROUP BY year ORDER BY year DESC")])


def page_label(store: Store, doc_id: str, page: int | None) -> str | None:
    """The number printed on one page of a document (``nlp.page_labels``), None if unknown."""
    if not page:
        return None
    row = store.conn.execute("SELECT label FROM pages WHERE doc_id = ? AND page = ?", (doc_id, page)).fetchone()
    return row[0] if row else None


def sources_present(store: Store) -> list[str]:
    """The sources that have documents, for the search form's source filter."""
    return [r[0] for r in store.conn.execute("SELECT DISTINCT source FROM documents ORDER BY source")]


def group_responses(store: Store, group: dict) -> list[GroupResponse]:
    """The government responses linked to a group's recommendations, with their own ids (for
    links to ``#response-<id>``), in date order."""
    ids = [o["recommendation_id"] for o in group["occurrences"] if o.get("recommendation_id")]
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return [GroupResponse(**r) for r in store.conn.execute(
        f"""SELECT s.id, l.recommendation_id, s.doc_id, d.title, d.published, s.stance, s.target_date, s.page
            FROM response_links l JOIN responses s ON s.id = l.response_id JOIN documents d ON d.id = s.doc_id
            WHERE l.recommendation_id IN ({marks}) ORDER BY d.published, s.id""", ids)]


def last_crawl_log(crawl_dir: Path | None) -> dict | None:
    """The newest crawl record file (``<home>/crawl/<stamp>.jsonl``, one line per page
    fetched): when it was last written and how many pages were stored or failed. The crawler
    writes one on every run; this is the only record of crawls (nothing writes the
    ``crawl_runs`` table of schema 1)."""
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
    crawl_log = last_crawl_log(crawl_dir)
    last_crawl = crawl_log["finished_at"] if crawl_log else None
    years = conn.execute("SELECT MIN(year), MAX(year) FROM documents").fetchone()
    return {"stats": store.stats(), "last_ingest": last_ingest, "last_crawl": last_crawl,
            "first_year": years[0], "last_year": years[1], "gaps": known_gaps(store),
            "crawl": crawl_log["statuses"] if crawl_log else None}

"""Atom feeds (RFC 4287) to follow Refrain without an account: any search, new recurrences,
overdue recommendations, each actor. Every entry links to the cited sentence (its document
page, at the element that shows it); entry ids are stable URNs, so a reader shows an entry
once and again only when its ``updated`` changes.
"""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from flask import Blueprint, Response, request, url_for

from kb.analysis.recurrence import recurrences as all_recurrences
from kb.search.engine import Filters, search
from webapp import get_kb
from webapp.ledger import actor_or_404, evidence_href, ledger
from webapp.params import parse_search

bp = Blueprint("feeds", __name__)

ATOM = "application/atom+xml; charset=utf-8"
FEED_ENTRIES = 50
EPOCH = "1970-01-01T00:00:00Z"


def rfc3339(day: str | None) -> str:
    """'2017-07-13' or an ISO timestamp → '2017-07-13T00:00:00Z' (Atom wants a full date-time)."""
    if not day:
        return EPOCH
    if len(day) == 10:
        return f"{day}T00:00:00Z"
    return day.replace("+00:00", "Z")


def atom(title: str, alternate: str, entries: list[dict]) -> Response:
    """One feed: ``entries`` are dicts of id, title, link, updated, summary (and optional related)."""
    entries = sorted(entries, key=lambda e: e["updated"], reverse=True)[:FEED_ENTRIES]
    updated = max((e["updated"] for e in entries), default=EPOCH)
    parts = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
             f"<id>{escape(request.url)}</id>", f"<title>{escape(title)}</title>", f"<updated>{updated}</updated>",
             f'<link rel="self" type="application/atom+xml" href={quoteattr(request.url)}/>',
             f'<link rel="alternate" type="text/html" href={quoteattr(alternate)}/>',
             "<author><name>Refrain</name></author>", "<generator>Refrain</generator>"]
    for e in entries:
        parts += ["<entry>", f"<id>{escape(e['id'])}</id>", f"<title>{escape(e['title'])}</title>",
                  f"<updated>{e['updated']}</updated>",
                  f'<link rel="alternate" type="text/html" href={quoteattr(e["link"])}/>']
        if e.get("related"):
            parts.append(f'<link rel="related" type="text/html" href={quoteattr(e["related"])}/>')
        parts += [f'<summary type="text">{escape(e["summary"])}</summary>', "</entry>"]
    parts.append("</feed>")
    return Response("\n".join(parts) + "\n", content_type=ATOM)


@bp.get("/search.atom")
def search_feed():
    params = parse_search(request.args, require_query=True)
    kbase = get_kb()
    hits = search(kbase, params.q, k=FEED_ENTRIES, filters=Filters(theme=params.theme, source=params.source))
    entries = [{"id": f"urn:refrain:passage:{h.passage_id}", "title": f"{h.title or 'Untitled'}"
                + (f", page {h.page}" if h.page else ""),
                "link": url_for("pages.document", doc_id=h.doc_id, _anchor=f"page-{h.page}" if h.page else "page-none",
                                _external=True),
                "updated": rfc3339(h.published), "summary": " ".join(h.text.split())} for h in hits]
    return atom(f"Refrain: {params.q}", url_for("pages.search", _external=True, **params.args()), entries)


@bp.get("/recurrences.atom")
def recurrences_feed():
    entries = []
    for g in all_recurrences(get_kb().store, kind="recommendation"):
        latest = g["occurrences"][-1]
        entries.append({
            "id": f"urn:refrain:recurrence:{g['id']}:{latest['recommendation_id']}",
            "title": f"Recommended again ({g['count']} times): {g['label']}",
            "link": url_for("pages.document", doc_id=latest["doc_id"], _anchor=f"rec-{latest['recommendation_id']}",
                            _external=True),
            "related": url_for("pages.recurrence", group_id=g["id"], _external=True),
            "updated": rfc3339(latest["published"]),
            "summary": f"{latest['title'] or 'Untitled'} ({latest['published'] or 'undated'}): "
                       + " ".join(latest["text"].split())})
    return atom("Refrain: recurring recommendations", url_for("pages.recurrences", _external=True), entries)


def _status_entry(s: dict) -> dict:
    ev = s["evidence"]
    return {"id": f"urn:refrain:status:{s['recommendation_id']}:{s['status']}:{s['history'][-1]['date']}",
            "title": f"{s['status'].replace('_', ' ').capitalize()}: {' '.join(s['text'].split())[:120]}",
            "link": evidence_href(ev, external=True) if ev else url_for(
                "pages.document", doc_id=s["doc_id"], _anchor=f"rec-{s['recommendation_id']}", _external=True),
            "related": url_for("ledger.recommendation", rec_id=s["recommendation_id"], _external=True),
            "updated": rfc3339(s["history"][-1]["date"]),
            "summary": f"{s['title'] or 'Untitled'} ({s['published'] or 'undated'}): {s['text']}"
                       + (f" — {ev['title'] or ev['doc_id']} ({ev['date'] or 'undated'}): {ev['sentence']}" if ev else "")}


@bp.get("/overdue.atom")
def overdue_feed():
    statuses, _ = ledger()
    entries = [_status_entry(s.to_json()) for s in statuses if s.status == "overdue"]
    return atom("Refrain: overdue recommendations", url_for("ledger.recommendations", status="overdue",
                                                             _external=True), entries)


@bp.get("/actors/<actor_id>.atom")
def actor_feed(actor_id: str):
    detail = actor_or_404(actor_id, f"There is no actor “{actor_id[:64]}”.")
    entries = [_status_entry(s) for s in detail["recommendations"]]
    return atom(f"Refrain: recommendations to {detail['name']}", url_for("ledger.actor", actor_id=actor_id,
                                                                         _external=True), entries)

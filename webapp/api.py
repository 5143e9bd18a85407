"""The JSON API, mounted at /api. Same parameters and checks as the pages; errors are
``{"error": "..."}`` with a 4xx status (see ``webapp._http_error``). ``?format=csv`` on
/api/search, /api/funding and /api/recurrences downloads the same data as a spreadsheet.

Every route here is described in ``webapp.openapi`` (a test checks none is missing).
"""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from kb.analysis.browse import barrier_overview, barrier_theme, funding_by_kind, funding_slice, iter_funding_figures
from kb.analysis.lifecycle import lifecycle as all_lifecycle
from kb.analysis import documents
from kb.analysis.recurrence import recurrence as recurrence_group, recurrences as all_recurrences
from webapp import csvout, data, get_kb
from webapp.openapi import openapi_document
from webapp.params import Page, check_page, check_part, parse_part
from webapp.params import (is_group_id, parse_format, parse_funding, parse_kind, parse_lifecycle,
                           parse_min_years, parse_search, parse_theme, parse_documents)

bp = Blueprint("api", __name__)

@bp.get("/search")
def search():
    fmt = parse_format(request.args)
    params = parse_search(request.args, require_query=True, browse=True)
    if fmt == "csv":
        # Everything listed (the best 100 by relevance, every match by date; filters and cap applied).
        hits = data.search_window(get_kb(), params)
        return csvout.csv_response("refrain-search.csv", csvout.SEARCH_COLUMNS, csvout.search_rows(hits))
    result = data.search_page(get_kb(), params)
    body = {
        "query": params.q,
        "total": result.total,
        "page": params.page,
        "pages": result.pages,
        "k": params.k,
        "filters": {"theme": params.theme, "source": params.source, "from": params.year_from,
                    "to": params.year_to, "type": params.doc_type, "doc": params.doc},
        # more_in_document: the document's other matching passages, not listed (the cap, or past the window)
        "results": [{**hit.to_json(), "more_in_document": result.more.get(hit.doc_id, 0)} for hit in result.hits],
        # Added for issue 16: what the total counts, and how the list is ordered and grouped.
        "total_is_exact": result.total_is_exact,
        "listed": result.listed,
        "sort": params.order,
        "group": "document" if params.by_document else "passage",
        "per_doc": params.per_doc,
        "every_match_listed": result.every_match,  # a date order lists every match; relevance the best 100
        "facets": {facet: {v.value: v.count for v in values} for facet, values in result.facets.items()},
    }
    if params.by_document:
        body["documents"] = result.documents
    return jsonify(body)


@bp.get("/barriers")
def barriers():
    return jsonify(barrier_overview(get_kb().store).to_json())


@bp.get("/barriers/<theme>")
def barrier(theme: str):
    return jsonify(barrier_theme(get_kb().store, parse_theme(theme)).to_json())


@bp.get("/recurrences")
def recurrences():
    fmt = parse_format(request.args)
    groups = all_recurrences(get_kb().store, min_years=parse_min_years(request.args, default=1),
                             kind=parse_kind(request.args, default="all"))
    if fmt == "csv":
        return csvout.csv_response("refrain-recurrences.csv", csvout.RECURRENCE_COLUMNS,
                                   csvout.recurrence_rows(groups))
    return jsonify(groups)


@bp.get("/recurrences/<group_id>")
def recurrence(group_id: str):
    group = recurrence_group(get_kb().store, group_id) if is_group_id(group_id) else None
    if group is None:
        abort(404, description=f"no recurrence group with id {group_id[:64]!r}")
    return jsonify(group)


@bp.get("/lifecycle")
def lifecycle():
    """The ``kb lifecycle --json`` list, optionally narrowed to one group or to answered (or
    unanswered) recommendations."""
    group_id, answered = parse_lifecycle(request.args)
    entries = all_lifecycle(get_kb().store)
    if group_id:
        entries = [e for e in entries if e["group_id"] == group_id]
    if answered:
        entries = [e for e in entries if bool(e["responses"]) == (answered == "yes")]
    return jsonify(entries)


@bp.get("/funding")
def funding():
    fmt = parse_format(request.args)
    query, page, k = parse_funding(request.args)
    if fmt == "csv":  # streamed from the cursor: any number of figures, one chunk in memory
        return csvout.csv_response("refrain-funding.csv", csvout.FUNDING_COLUMNS,
                                   csvout.funding_rows(iter_funding_figures(get_kb().store, query)))
    total, items, by_year = funding_slice(get_kb().store, query, (page - 1) * k, k)
    shown = Page(items, page, -(-total // k), total, k)
    check_page(page, shown.pages)
    return jsonify({
        "total": shown.total,
        "page": page,
        "pages": shown.pages,
        "k": k,
        "sort": query.sort,
        "order": query.order,
        "filters": {"kind": query.kind, "source": query.source, "from": query.year_from, "to": query.year_to,
                    "q": query.q},
        "by_year": [y.to_json() for y in by_year],
        "by_kind": [t.to_json() for t in funding_by_kind(get_kb().store, query)],  # never one sum of all kinds
        "results": [f.to_json() for f in shown.items],
    })


@bp.get("/documents")
def document_list():
    query = parse_documents(request.args)
    listing = documents.list_documents(get_kb().store, **query)
    check_page(query["page"], listing.pages)
    return jsonify(listing.to_json())


@bp.get("/documents/<doc_id>")
def document(doc_id: str):
    part = parse_part(request.args)
    detail = documents.document_detail(get_kb().store, doc_id, part=part)
    if detail is None:
        abort(404, description=f"no document with id {doc_id[:64]!r}")
    check_part(part, detail.parts)
    return jsonify(detail.to_json())


@bp.get("/stats")
def stats():
    return jsonify(get_kb().store.stats())


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.route("/<path:anything>")
def unknown(anything: str):
    abort(404, description=f"no API endpoint /api/{anything[:100]}; see /api/openapi.json for the endpoints")

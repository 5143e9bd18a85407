"""The JSON API, mounted at /api. Same parameters and checks as the pages; errors are
``{"error": "..."}`` with a 4xx status (see ``webapp._http_error``)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from kb.recurrence import recurrences as all_recurrences
from webapp import data, get_kb
from webapp.params import parse_kind, parse_min_years, parse_search

bp = Blueprint("api", __name__)


@bp.get("/search")
def search():
    params = parse_search(request.args, require_query=True)
    result = data.search_page(get_kb(), params, with_facets=False)
    return jsonify({
        "query": params.q,
        "total": result.total,
        "page": params.page,
        "pages": result.pages,
        "k": params.k,
        "filters": {"theme": params.theme, "source": params.source, "from": params.year_from,
                    "to": params.year_to, "type": params.doc_type},
        "results": [hit.to_json() for hit in result.hits],
    })


@bp.get("/recurrences")
def recurrences():
    return jsonify(all_recurrences(get_kb().store, min_years=parse_min_years(request.args, default=1),
                                   kind=parse_kind(request.args, default="all")))


@bp.get("/documents/<doc_id>")
def document(doc_id: str):
    detail = data.document_detail(get_kb().store, doc_id)
    if detail is None:
        abort(404, description=f"no document with id {doc_id!r}")
    return jsonify(detail["document"])


@bp.get("/stats")
def stats():
    return jsonify(get_kb().store.stats())


@bp.route("/<path:anything>")
def unknown(anything: str):
    abort(404, description=f"no API endpoint /api/{anything}; try /api/search, /api/recurrences, "
                           "/api/documents/<id> or /api/stats")

"""Recommendation statuses and actors: the /recommendations and /actors pages and their API.

Views read parameters, ask ``kb.analysis.status`` (statuses judged as of ``Settings.today``)
and render. Statuses are derived on each request from what the knowledge base holds: nothing
is stored, so they change as soon as a new response or report is ingested.
"""
from __future__ import annotations

import dataclasses

from flask import Blueprint, abort, jsonify, render_template, request, url_for

from kb.analysis.actors import Actors
from kb.analysis.status import (STATUSES, RecommendationStatus, StatusQuery, actor_detail, actor_summaries,
                                counts, recommendation_statuses, select)
from webapp import csvout, get_kb
from webapp.charts import bar_chart
from webapp.params import ParamError, paginate, parse_format, parse_page, parse_status_query

pages = Blueprint("ledger", __name__)
api = Blueprint("ledger_api", __name__)

ROWS_PER_PAGE = 100
CSV_COLUMNS = ["recommendation_id", "status", "status_date", "actor", "published", "source", "title", "label",
               "text", "evidence_doc_id", "evidence_title", "evidence_page", "evidence_date", "evidence_sentence",
               "target_date", "url"]


def ledger() -> tuple[list[RecommendationStatus], Actors]:
    kbase = get_kb()
    actors = Actors(kbase.settings.actors_path)
    return recommendation_statuses(kbase.store, actors, kbase.settings.today_date()), actors


def actor_or_404(actor_id: str, missing: str) -> dict:
    """One actor's detail for a page, its API or its feed; ``missing`` is the 404's wording."""
    statuses, actors = ledger()
    detail = actor_detail(statuses, actors, actor_id)
    if detail is None:
        abort(404, description=missing)
    return detail


def _query(actors: Actors):
    return parse_status_query(request.args, tuple(actors.by_id))


def timeline_href(s: RecommendationStatus) -> str:
    return url_for("ledger.recommendation", rec_id=s.recommendation_id)


def evidence_href(ev: dict | None, external: bool = False) -> str | None:
    """The cited sentence: its document page, at its page."""
    if not ev:
        return None
    anchor = ev.get("anchor") or (f"page-{ev['page']}" if ev.get("page") else None)
    return url_for("pages.document", doc_id=ev["doc_id"], _anchor=anchor, _external=external)


@pages.get("/recommendations")
def recommendations():
    statuses, actors = ledger()
    try:
        query, errors = _query(actors), None
        page = parse_page(request.args)
    except ParamError as exc:
        query, errors, page = getattr(exc, "params", None) or StatusQuery(), exc.errors, 1
    rows = select(statuses, query)
    try:
        shown = paginate(rows, page, ROWS_PER_PAGE)
    except ParamError as exc:
        errors, shown = exc.errors, paginate(rows, 1, ROWS_PER_PAGE)
    # Counts per status under the other filters, so each count is what its link would show.
    by_status = counts(select(statuses, dataclasses.replace(query, status=None)))
    return render_template("recommendations.html", rows=shown.items, total=shown.total, page=shown.number,
                           pages=shown.pages, counts=by_status, query=query, actors=actors, errors=errors,
                           statuses=STATUSES, timeline_href=timeline_href, filters=_filters(query)), \
        400 if errors else 200


def _filters(query: StatusQuery) -> dict:
    """The query as URL parameters (empty ones left out), for links that keep the filters."""
    pairs = {"status": query.status, "actor": query.actor, "source": query.source, "from": query.year_from,
             "to": query.year_to}
    return {k: v for k, v in pairs.items() if v not in (None, "")}


@pages.get("/recommendations/<rec_id>")
def recommendation(rec_id: str):
    statuses, actors = ledger()
    found = next((s for s in statuses if s.recommendation_id == rec_id), None)
    if found is None:
        abort(404, description=f"There is no recommendation with id “{rec_id[:64]}”.")
    repeats = [s for s in statuses if found.group_id and s.group_id == found.group_id
               and s.recommendation_id != rec_id]
    return render_template("recommendation.html", s=found.to_json(), actor=actors.get(found.actor) if found.actor else None,
                           actors=actors, repeats=repeats, evidence_href=evidence_href, timeline_href=timeline_href)


@pages.get("/actors")
def actors_page():
    statuses, actors = ledger()
    return render_template("actors.html", actors=actor_summaries(statuses, actors), statuses=STATUSES)


@pages.get("/actors/<actor_id>")
def actor(actor_id: str):
    detail = actor_or_404(actor_id, f"There is no actor “{actor_id[:64]}”. The actors are listed at /actors.")
    chart = bar_chart([(str(p["year"]), p["count"]) for p in detail["by_year"]])
    return render_template("actor.html", actor=detail, chart=chart, statuses=STATUSES, evidence_href=evidence_href)


@api.get("/recommendations")
def api_recommendations():
    fmt = parse_format(request.args)
    statuses, actors = ledger()
    shown = select(statuses, _query(actors))
    if fmt == "csv":
        # Rows built now, inside the request: each carries a url_for link, and the CSV is streamed.
        return csvout.csv_response("refrain-recommendations.csv", CSV_COLUMNS, [_csv_row(s) for s in shown])
    return jsonify([s.to_json() for s in shown])


def _csv_row(s: RecommendationStatus) -> list:
    ev = s.evidence
    return [s.recommendation_id, s.status, s.changed, s.actor, s.published, s.source, s.title, s.label, s.text,
            ev and ev.doc_id, ev and ev.title, ev and ev.page, ev and ev.date, ev and ev.sentence, s.target_date,
            url_for("ledger.recommendation", rec_id=s.recommendation_id, _external=True)]


@api.get("/actors")
def api_actors():
    statuses, actors = ledger()
    return jsonify(actor_summaries(statuses, actors))


@api.get("/actors/<actor_id>")
def api_actor(actor_id: str):
    detail = actor_or_404(actor_id, f"no actor with id {actor_id[:64]!r}")
    return jsonify(detail)

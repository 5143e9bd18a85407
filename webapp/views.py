"""The pages: search, a document, recurring recommendations and their timelines, about.

Views only read parameters, call ``webapp.data`` (which calls kb/) and render a template.
"""
from __future__ import annotations

import math

from pathlib import Path

from flask import Blueprint, abort, render_template, request, send_file, url_for

from kb.recurrence import recurrences as all_recurrences
from webapp import data, get_kb
from webapp.params import ParamError, SearchParams, check_page, parse_kind, parse_min_years, parse_page, parse_search
from webapp.present import human_date
from webapp.timeline import layout, story

bp = Blueprint("pages", __name__)

RECURRENCES_PER_PAGE = 25


def search():
    """The search page (also the home page): works as a plain GET form, no script needed."""
    kbase = get_kb()
    try:
        params = parse_search(request.args)
        result = data.search_page(kbase, params)
    except ParamError as exc:
        params = getattr(exc, "params", None) or parse_search(request.args)
        return _search_form(kbase, params, None, exc.errors), 400
    return _search_form(kbase, params, result, None)


def _search_form(kbase, params: SearchParams, result, errors):
    return render_template("search.html", params=params, raw=request.args, result=result, errors=errors,
                           doc_types=data.doc_types(kbase.store))


# "/search" first, so url_for (permalinks, facet and page links) builds /search?...
bp.add_url_rule("/search", "search", search)
bp.add_url_rule("/", "index", search)


@bp.get("/documents/<doc_id>")
def document(doc_id: str):
    detail = data.document_detail(get_kb().store, doc_id)
    if detail is None:
        abort(404, description=f"There is no document with id “{doc_id}”. It may have been replaced by a "
                               "newer version: search for its title.")
    return render_template("document.html", doc=detail["document"], sections=data.by_page(detail))


@bp.get("/documents/<doc_id>/raw")
def raw_document(doc_id: str):
    """The stored copy of a document, by id only: no path ever comes from the request.

    PDFs open inline; anything else (HTML, JSON, text) downloads under a sandbox policy, so a
    stored page can never run script in Refrain's origin.
    """
    kbase = get_kb()
    doc = kbase.store.document(doc_id)
    path = raw_path_of(doc, kbase.settings.raw_dir) if doc else None
    if path is None:
        abort(404, description=f"There is no stored copy of document “{doc_id}”.")
    is_pdf = doc.format == "pdf"
    response = send_file(path, mimetype="application/pdf" if is_pdf else "application/octet-stream",
                         as_attachment=not is_pdf, download_name=f"{doc_id}{path.suffix}", max_age=3600)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def raw_path_of(doc, raw_dir: Path) -> Path | None:
    if not doc.raw_path:
        return None
    path = Path(doc.raw_path).resolve()
    root = raw_dir.resolve()
    return path if root in path.parents and path.is_file() else None


@bp.get("/recurrences")
def recurrences():
    min_years = parse_min_years(request.args, default=1)
    page = parse_page(request.args)
    groups = all_recurrences(get_kb().store, min_years=min_years,
                             kind=parse_kind(request.args, default="recommendation"))
    pages = math.ceil(len(groups) / RECURRENCES_PER_PAGE)
    check_page(page, pages)
    start = (page - 1) * RECURRENCES_PER_PAGE
    return render_template("recurrences.html", groups=groups[start:start + RECURRENCES_PER_PAGE],
                           total=len(groups), page=page, pages=pages, min_years=min_years, first=start + 1)


@bp.get("/recurrences/<group_id>")
def recurrence(group_id: str):
    group = data.recurrence_group(get_kb().store, group_id)
    if group is None:
        abort(404, description=f"There is no recurring recommendation with id “{group_id}”. Groups are "
                               "rebuilt when documents are added, so its id may have changed.")
    timeline = layout(
        group["occurrences"],
        href=lambda o: url_for("pages.document", doc_id=o["doc_id"], _anchor=f"rec-{o['recommendation_id']}"),
        label=lambda o: f"{human_date(o['published'])}: {o['title'] or 'untitled'}"
                        + (f", page {o['page']}" if o["page"] else ""))
    return render_template("recurrence.html", group=group, timeline=timeline, story=story(group["years"]))


@bp.get("/about")
def about():
    return render_template("about.html", about=data.about(get_kb().store))

"""The pages: search, a document, recurring recommendations and their timelines, about.

Views only read parameters, call ``webapp.data`` (which calls kb/) and render a template.
"""
from __future__ import annotations


from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request, send_file, url_for

from kb.analysis.backrefs import back_references
from kb.analysis.browse import barrier_overview, barrier_theme, funding_by_kind, funding_kinds, funding_slice
from kb.analysis import documents
from kb.analysis.models import GroupResponse
from kb.analysis.recurrence import recurrence as recurrence_group, recurrences as all_recurrences
from kb.store.renditions import renditions
from webapp import citations, data, get_kb
from webapp.charts import bar_chart
from webapp.params import Page, check_page, check_part, parse_cite, parse_part
from webapp.params import WEB_PER_DOC
from webapp.params import (ParamError, SearchParams, paginate, funding_args, parse_barrier_count, parse_funding,
                           parse_kind, parse_min_years, parse_page, parse_search, parse_theme, parse_documents,
                           documents_args)
from webapp.present import human_date, is_web_url, money, source_name, type_name
from webapp.timeline import layout, story, year_in

bp = Blueprint("pages", __name__)

RECURRENCES_PER_PAGE = 25


def search():
    """The search page (also the home page): works as a plain GET form, no script needed."""
    kbase = get_kb()
    try:
        params = parse_search(request.args, per_doc_default=WEB_PER_DOC)
        result = data.search_page(kbase, params)
    except ParamError as exc:
        params = getattr(exc, "params", None) or parse_search(request.args, per_doc_default=WEB_PER_DOC)
        return _search_form(kbase, params, None, exc.errors), 400
    return _search_form(kbase, params, result, None)


def _search_form(kbase, params: SearchParams, result, errors):
    doc = kbase.store.document(params.doc) if params.doc else None  # the 'Document:' filter's name
    return render_template("search.html", params=params, raw=request.args, result=result, errors=errors,
                           doc_types=documents.doc_types(kbase.store), filter_doc=doc)


# "/search" first, so url_for (permalinks, facet and page links) builds /search?...
bp.add_url_rule("/search", "search", search)
bp.add_url_rule("/", "index", search)


@bp.get("/documents/<doc_id>")
def document(doc_id: str):
    part = parse_part(request.args)
    detail = documents.document_detail(get_kb().store, doc_id, part=part)
    if detail is None:
        abort(404, description=f"There is no document with id “{doc_id[:64]}”. It may have been replaced by a "
                               "newer version: search for its title.")
    check_part(part, detail.parts)
    store = get_kb().store
    passage_id, quote = parse_cite(request.args)
    cited = documents.cited_passage(store, doc_id, passage_id) if passage_id else None
    return render_template("document.html", doc=detail, sections=data.by_page(detail, cited),
                           renditions=renditions(store, doc_id), backrefs=back_references(store, doc_id),
                           cited=cited, quote=quote)


CITATION_FORMATS = {"ris": ("application/x-research-info-systems", citations.ris),
                    "bib": ("application/x-bibtex", citations.bibtex)}


def _citation_response(items: list[citations.Cited], fmt: str, name: str) -> Response:
    if fmt not in CITATION_FORMATS:
        abort(404, description=f"Citations come as .ris or .bib, not “.{fmt[:20]}”.")
    mimetype, write = CITATION_FORMATS[fmt]
    return Response(write(items), mimetype=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def _cited(doc, page: int | None = None, label: str | None = None) -> citations.Cited:
    """A citation of a stored document: the publisher's address, or for a local file the
    stored copy Refrain serves (a file:// path means nothing to a reader)."""
    url = doc.url if is_web_url(doc.url) else url_for("pages.raw_document", doc_id=doc.id, _external=True)
    return citations.Cited(doc_id=doc.id, title=doc.title, publisher=doc.publisher or source_name(doc.source),
                           published=doc.published, url=url, doc_type=doc.doc_type, identifiers=doc.identifiers,
                           page=page, page_label=label)


@bp.get("/documents/<doc_id>/cite.<fmt>")
def document_citation(doc_id: str, fmt: str):
    """One document as RIS or BibTeX (``.ris``, ``.bib``)."""
    doc = get_kb().store.document(doc_id)
    if doc is None:
        abort(404, description=f"There is no document with id “{doc_id[:64]}”.")
    return _citation_response([_cited(doc)], fmt, f"refrain-{doc_id}")


@bp.get("/search/cite.<fmt>")
def search_citations(fmt: str):
    """The passages of a search's result window (the best 100, filters applied) as RIS or
    BibTeX, one record per passage with its page: a result list for a reference manager."""
    params = parse_search(request.args, require_query=True, per_doc_default=WEB_PER_DOC)
    store = get_kb().store
    docs: dict = {}
    items = []
    for hit in data.search_window(get_kb(), params):
        if hit.doc_id not in docs:
            docs[hit.doc_id] = store.document(hit.doc_id)
        if docs[hit.doc_id] is not None:
            items.append(_cited(docs[hit.doc_id], hit.page, hit.page_label))
    return _citation_response(items, fmt, "refrain-search")


@bp.get("/documents")
def document_list():
    """Every stored document, filtered by source, type and year, sorted by date or title."""
    store = get_kb().store
    try:
        query = parse_documents(request.args)
        listing = documents.list_documents(store, **query)
        check_page(query["page"], listing.pages)
    except ParamError as exc:
        listing = documents.list_documents(store)
        return render_template("documents.html", listing=listing, query=None, errors=exc.errors,
                               raw=request.args, args=documents_args), 400
    return render_template("documents.html", listing=listing, query=query, errors=None, raw=request.args,
                           args=documents_args)


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
        abort(404, description=f"There is no stored copy of document “{doc_id[:64]}”.")
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
    kind = parse_kind(request.args, default="all")
    groups = all_recurrences(get_kb().store, min_years=min_years, kind=kind)
    shown = paginate(groups, page, RECURRENCES_PER_PAGE)
    return render_template("recurrences.html", groups=shown.items, total=shown.total, page=page,
                           pages=shown.pages, min_years=min_years, first=shown.first, kind=kind or "all")


@bp.get("/recurrences/<group_id>")
def recurrence(group_id: str):
    group = recurrence_group(get_kb().store, group_id)
    if group is None:
        abort(404, description=f"There is no recurring recommendation with id “{group_id[:64]}”. Groups are "
                               "rebuilt when documents are added, so its id may have changed.")
    responses = documents.group_responses(get_kb().store, group)
    timeline = layout(
        group["occurrences"],
        href=_occurrence_href,
        label=lambda o: f"{human_date(o['published'])}: {o['title'] or 'untitled'}"
                        + (f", page {o['page']}" if o["page"] else ""),
        events=response_events(responses))
    return render_template("recurrence.html", group=group, timeline=timeline, story=story(group["years"]),
                           responses=responses, occurrence_href=_occurrence_href)


def _occurrence_href(o: dict) -> str:
    anchor = f"rec-{o['recommendation_id']}" if o.get("recommendation_id") else f"barrier-{o.get('finding_id')}"
    return url_for("pages.document", doc_id=o["doc_id"], _anchor=anchor)


def response_events(responses: list[GroupResponse]) -> list[tuple[int, str, str, str]]:
    """Timeline events: each response in the year it was published, and the target date it
    set in that year (when the date names one)."""
    events = []
    for r in responses:
        href = url_for("pages.document", doc_id=r.doc_id, _anchor=f"response-{r.id}")
        stance = type_name(r.stance).lower()
        year = year_in(r.published)
        if year:
            events.append((year, "response", href, f"Government response, {human_date(r.published)}: "
                                                   f"{stance} ({r.title or 'untitled'})"))
        target = year_in(r.target_date)
        if target:
            events.append((target, "target", href, f"Target date set by the {human_date(r.published)} "
                                                   f"response: {r.target_date}"))
    return events


def _counted(point, count: str) -> int:
    """A year's barrier sentences, or its documents with ``?count=documents``."""
    return point.documents if count == "documents" else point.count


@bp.get("/barriers")
def barriers():
    """Sentences per theme and year, or documents (``?count=documents``): two inquiry volumes
    can hold more sentences on a theme than every other document together."""
    count = parse_barrier_count(request.args)
    overview = barrier_overview(get_kb().store)
    charts = {t.theme: bar_chart([(str(p.year), _counted(p, count)) for p in t.by_year], width=380, height=170)
              for t in overview.themes}
    top = max((_counted(p, count) for t in overview.themes for p in t.by_year), default=0)
    return render_template("barriers.html", overview=overview, charts=charts, top=top, count=count)


@bp.get("/barriers/<theme>")
def barrier(theme: str):
    theme = parse_theme(theme)
    count = parse_barrier_count(request.args)
    detail = barrier_theme(get_kb().store, theme)
    chart = bar_chart([(str(p.year), _counted(p, count)) for p in detail.by_year])
    return render_template("barrier.html", detail=detail, chart=chart, count=count)


@bp.get("/funding")
def funding():
    store = get_kb().store
    try:
        query, page, k = parse_funding(request.args)
        total, items, by_year = funding_slice(store, query, (page - 1) * k, k)
        shown = Page(items, page, -(-total // k), total, k)
        check_page(page, shown.pages)
    except ParamError as exc:
        query, page, k = getattr(exc, "params", None) or parse_funding({})
        return render_template("funding.html", query=query, page=1, k=k, pages=0, figures=None, total=0,
                               chart=None, by_year=[], by_kind=[], kinds=funding_kinds(store), errors=exc.errors,
                               raw=request.args, args=funding_args), 400
    chart = bar_chart([(str(y.year), y.total_gbp) for y in by_year], fmt=money, integer=False)
    # One chart per kind: totals never add an allocation to a saving
    by_kind = [(kt, bar_chart([(str(y.year), y.total_gbp) for y in kt.by_year], fmt=money, integer=False))
               for kt in funding_by_kind(store, query)]
    return render_template("funding.html", query=query, page=page, k=k, pages=shown.pages, figures=shown.items,
                           total=shown.total, first=shown.first, chart=chart, by_year=by_year, by_kind=by_kind,
                           kinds=funding_kinds(store), errors=None, raw=request.args, args=funding_args)


@bp.get("/about")
def about():
    kbase = get_kb()
    keeper = kbase.__dict__.get("snapshots")  # kept only by a long-lived server (kb/store/snapshot.py)
    return render_template("about.html", about=documents.about(kbase.store, kbase.settings.crawl_dir),
                           search_index=keeper.status() if keeper is not None else None)

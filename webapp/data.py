"""What the search views ask of the knowledge base: one page of hits with facets, or the whole
result window for the CSV; and a document's extractions grouped by page. No SQL here: stored
documents are read through ``kb.analysis.documents``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from kb.analysis.models import DocumentDetail
from kb.search.facets import FacetValue
from kb.search.listing import ORDERED_LIMIT, Entry, browse, browse_entries, hits_for, matches_by_date
from kb.search.query import parse_query
from kb.search.relevance import match_set, phrase_set
from kb.store.knowledge import KnowledgeBase
from kb.search.engine import Hit, cap_per_document, group_by_document, search
from webapp.params import Page, SearchParams, paginate

# Search ranks by fusing keyword and semantic rankings; past the first hundred passages the
# order means little, so that is the window a relevance order pages through. A date order lists
# every matching passage (``kb.search.listing``). Totals and facets count every matching passage
# (kb.search.relevance), not just what is listed.
RESULT_WINDOW = 100
CAPPED_DEPTH = 3  # with a per-document cap, rank this many windows deep so the cap still lists ~100
FACETS = ("source", "theme", "year", "doc_type")


@dataclass
class SearchPage:
    params: SearchParams
    hits: list[Hit] = field(default_factory=list)  # this page's hits
    total: int = 0  # passages that match, under the filters (not just the listed window)
    total_is_exact: bool = True  # False: counting stopped at a limit, ``total`` is a lower bound
    listed: int = 0  # how many of them can be paged through (after the per-document cap)
    pages: int = 0
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    documents: list[dict] = field(default_factory=list)  # this page's documents, when grouped
    per_document: Counter | None = None  # matching passages per document, under the filters
    document_total: int = 0  # documents holding a match (grouped view)
    documents_listed: int = 0  # documents among the listed passages (grouped view)
    terms: list[str] = field(default_factory=list)  # words to highlight
    phrase: tuple[str, int] | None = None  # (the words as one phrase, passages holding it)
    more: dict[str, int] = field(default_factory=dict)  # per document: matching passages not listed
    capped: int = 0  # passages the per-document cap left out of the list
    considered: int = 0  # passages the list was cut from: the best ranked, or every match
    every_match: bool = False  # the list holds every match (a date order, a browse), not the best window
    truncated: bool = False  # a date order stopped at ORDERED_LIMIT passages

    @property
    def first(self) -> int:
        return (self.params.page - 1) * self.params.k + 1

    @property
    def last(self) -> int:
        return self.first + len(self.documents if self.params.by_document else self.hits) - 1

    def more_after(self) -> dict[str, str]:
        """{passage id: document id} of the hit after which this page says 'N more from this
        document': the last of its document's hits on the page."""
        last: dict[str, str] = {}
        for hit in self.hits:
            if self.more.get(hit.doc_id):
                last[hit.doc_id] = hit.passage_id
        return {pid: doc for doc, pid in last.items()}


@dataclass
class _Listing:
    """What a search lists, before a page is cut from it."""

    entries: list[Entry]  # (passage id, document id), in order, capped
    known: dict[str, Hit]  # hits already built (the relevance window)
    counts: Counter  # matching passages per document, under the filters


def search_page(kbase: KnowledgeBase, params: SearchParams, with_facets: bool = True) -> SearchPage:
    """One page of hits (or of documents) for ``params``: the total, and facets counted over
    every passage that matches (``kb.search.relevance``), under the same filters.

    Raises ``ParamError`` when ``params.page`` is past the last page.
    """
    result = SearchPage(params)
    if not params.q and not params.browsing:
        return result
    result.terms = parse_query(params.q).highlight_terms()
    if params.by_document and params.order != "relevance":
        shown = _documents_by_date(kbase, params, result, with_facets)
    elif params.by_document:
        window = _window(kbase, params, result, with_facets)
        counts = result.per_document
        docs = group_by_document(window, k=RESULT_WINDOW, per_document=3)
        for d in docs:
            d["matching"] = counts.get(d["doc_id"], d["hits"]) if counts is not None else d["hits"]
        result.documents_listed = len(docs)
        result.document_total = max(len(counts), len(docs)) if counts is not None else len(docs)
        shown = paginate(docs, params.page, params.k)
        result.documents = shown.items
        result.hits = [h for h in window if h.doc_id in {d["doc_id"] for d in shown.items}]
        result.listed = len(window)
    else:
        listing = _listing(kbase, params, result, with_facets)
        shown = paginate(listing.entries, params.page, params.k)
        result.hits = hits_for(kbase, shown.items, parse_query(params.q), listing.known)
        result.listed = len(listing.entries)
        listed = Counter(doc for _, doc in listing.entries)
        result.more = {doc: n - listed[doc] for doc, n in listing.counts.items() if n > listed[doc]}
    result.pages = shown.pages
    return result


def _documents_by_date(kbase: KnowledgeBase, params: SearchParams, result: SearchPage, with_facets: bool) -> Page:
    """The grouped view by date: every document holding a match (a browse: every document the
    filters select), by date, each with its 3 most relevant passages; hits built for this page only."""
    listing = _listing(kbase, params.but(per_doc=0), result, with_facets)
    firsts = cap_per_document(listing.entries, 3)
    order = list(dict.fromkeys(doc for _, doc in firsts))
    shown = paginate(order, params.page, params.k)
    wanted = set(shown.items)
    window = hits_for(kbase, [e for e in firsts if e[1] in wanted], parse_query(params.q), listing.known)
    docs = group_by_document(window, k=len(wanted) or 1, per_document=3)
    for d in docs:
        d["matching"] = listing.counts.get(d["doc_id"], d["hits"])
    result.documents, result.hits = docs, window
    result.documents_listed = result.document_total = len(order)  # a publication's renditions as one
    result.listed = len(listing.entries)
    return shown


def _count(kbase: KnowledgeBase, params: SearchParams, result: SearchPage, with_facets: bool,
           depth: int = RESULT_WINDOW):
    """The best ``depth`` hits, and the match set of ``params.q``: sets the total, the phrase
    count, per-document counts and facets."""
    window = search(kbase, params.q, k=depth, filters=params.filters)
    matches = match_set(kbase, parse_query(params.q))
    matches.add(kbase.store.conn, [h.passage_id for h in window])  # what the count's limits missed
    result.total, result.total_is_exact = matches.total(params.filters), matches.exact
    exact = phrase_set(kbase.store.conn, parse_query(params.q))
    if exact is not None and result.total:
        result.phrase = (exact[0], exact[1].total(params.filters))
    result.per_document = matches.per_document(params.filters)
    if with_facets:
        result.facets = {facet: facet_list(facet, counts) for facet, counts in matches.facets(params.filters).items()}
    return window, matches


def _listing(kbase: KnowledgeBase, params: SearchParams, result: SearchPage, with_facets: bool) -> _Listing:
    """The passages listed, in the order asked for, with at most ``params.cap`` of one document:
    by relevance the best RESULT_WINDOW; by date every match (every passage of a browse)."""
    newest_first = params.order != "date"
    if params.browsing:
        result.total, entries = browse_entries(kbase, params.filters, ORDERED_LIMIT, newest_first)
        result.every_match, result.truncated = True, len(entries) == ORDERED_LIMIT
        known: dict[str, Hit] = {}
        counts = Counter(doc for _, doc in entries)
    else:
        by_relevance = params.order == "relevance"
        depth = RESULT_WINDOW * CAPPED_DEPTH if by_relevance and params.cap else RESULT_WINDOW
        window, matches = _count(kbase, params, result, with_facets, depth)
        known = {h.passage_id: h for h in window}
        if by_relevance:
            entries = [(h.passage_id, h.doc_id) for h in window]
        else:
            entries = matches_by_date(kbase, matches, params.filters, [h.passage_id for h in window], newest_first)
            result.every_match, result.truncated = True, len(entries) == ORDERED_LIMIT
        counts = result.per_document
    capped = cap_per_document(entries, params.cap)
    if not result.every_match:
        capped = capped[:RESULT_WINDOW]
    result.considered = len(entries)
    result.capped = len(entries) - len(capped) if params.cap else 0
    return _Listing(capped, known, counts)


def _window(kbase: KnowledgeBase, params: SearchParams, result: SearchPage, with_facets: bool) -> list[Hit]:
    """The grouped view's hits: the best RESULT_WINDOW (a browse's first), in the order asked for."""
    if params.browsing:
        total, window = browse(kbase, params.filters, RESULT_WINDOW, newest_first=params.order != "date")
        result.total = total
        return window
    window, _ = _count(kbase, params, result, with_facets)
    if params.order != "relevance":
        window = by_date(window, newest_first=params.order == "-date")
    return window


def by_date(hits: list[Hit], newest_first: bool = True) -> list[Hit]:
    """Hits by publication date (undated last); equal dates keep their relevance order."""
    dated = sorted((h for h in hits if h.published), key=lambda h: h.published, reverse=newest_first)
    return dated + [h for h in hits if not h.published]


def facet_list(facet: str, counts: Counter) -> list[FacetValue]:
    """A facet's values as the page lists them: years newest first, others largest first."""
    if facet == "year":
        items = sorted(counts.items(), key=lambda kv: kv[0], reverse=True)
    else:
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [FacetValue(value, count) for value, count in items]


def search_window(kbase: KnowledgeBase, params: SearchParams) -> list[Hit]:
    """Every listed hit (filters, order and per-document cap applied, pages ignored): the CSV
    export and the citation export."""
    if not params.q and not params.browsing:
        return []
    if params.by_document:
        return cap_per_document(_window(kbase, params, SearchPage(params), False), params.cap)
    listing = _listing(kbase, params, SearchPage(params), with_facets=False)
    return hits_for(kbase, listing.entries, parse_query(params.q), listing.known)


def by_page(doc: DocumentDetail, cited: dict | None = None) -> list[dict]:
    """Extractions grouped by page for the document page: items with no page come first, then
    every page of a paged document (its text included), in order. The ``cited`` passage's
    page (``kb.analysis.documents.cited_passage``) is always there, marked ``cited``."""
    sections: dict[int | None, dict] = {}

    def section(page: int | None) -> dict:
        if page not in sections:
            sections[page] = {"page": page, "text": None, "barriers": [], "recommendations": [],
                              "funding": [], "responses": []}
        return sections[page]

    paged = bool(doc.pages)
    for kind in ("barriers", "recommendations", "funding", "responses"):
        for item in getattr(doc, kind):
            section(item.page if paged else None)[kind].append(item)
    for row in doc.page_texts:
        target = section(row.page if paged else None)
        target["text"] = row.text if paged else "\n\n".join(r.text for r in doc.page_texts)
        target["truncated"] = target.get("truncated", False) or row.truncated
    for s in sections.values():
        s["label"] = doc.page_labels.get(str(s["page"])) if s["page"] else None
        s["cite"] = doc.cite_page(s["page"])
    if cited is not None:
        page = cited["page"] if paged else None
        target = section(page)
        if target.get("text") is None:  # a later part shows only the pages its items are on
            target["text"] = cited["page_text"] or ""
            target["label"] = cited["label"]
            target["cite"] = doc.cite_page(page)
        target["cited"] = True
    return sorted(sections.values(), key=lambda s: (s["page"] is not None, s["page"] or 0))



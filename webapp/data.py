"""What the search views ask of the knowledge base: one page of hits with facets, or the whole
result window for the CSV; and a document's extractions grouped by page. No SQL here: stored
documents are read through ``kb.analysis.documents``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kb.analysis.models import DocumentDetail
from kb.search.facets import FacetValue, facet_counts
from kb.store.knowledge import KnowledgeBase
from kb.search.engine import Filters, Hit, search
from webapp.params import SearchParams, paginate

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
    shown = paginate(window, params.page, params.k)
    result.total, result.pages, result.hits = shown.total, shown.pages, shown.items
    if with_facets:
        unfiltered = search(kbase, params.q, k=RESULT_WINDOW, filters=Filters()) if params.filtered else window
        result.facets = facet_counts(unfiltered, FACETS)
    return result


def search_window(kbase: KnowledgeBase, params: SearchParams) -> list[Hit]:
    """Every hit of the result window (filters applied, pages ignored): the CSV export."""
    return search(kbase, params.q, k=RESULT_WINDOW, filters=params.filters) if params.q else []


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



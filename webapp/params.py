"""The query-string parameters of the pages and the JSON API, declared once and checked here.

Each parameter is one ``Param``: its name, what it means, its type and limits. The checks below
read their limits from it, and ``webapp.openapi`` describes the API from the same objects, so
the OpenAPI document states exactly what is enforced. Choices come from ``kb.vocabulary``.

Every problem becomes a ``ParamError`` (a 400) naming the parameter and saying what would be
accepted; all problems of one request are reported together, so a user fixes them in one go.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

from werkzeug.exceptions import BadRequest

from kb.analysis.browse import FUNDING_SORTS, FundingQuery
from kb.analysis.documents import DOCUMENT_SORTS
from kb.analysis.status import STATUSES, StatusQuery
from kb.vocabulary import (ALL_SOURCES, DOC_TYPE_EXAMPLES, DOC_TYPE_PATTERN, FUNDING_KINDS, RECURRENCE_KINDS,
                           THEMES)
from kb.search.query import MAX_QUERY_CHARS
from kb.search.engine import Filters

YEAR_MIN, YEAR_MAX = 1800, 2200
K_DEFAULT, K_MAX = 10, 100
MAX_PAGE = 10_000
MIN_YEARS_MAX = 100
DOC_TYPE = re.compile(DOC_TYPE_PATTERN)
FORMATS = ("json", "csv")
SORT_ORDERS = ("asc", "desc")
FUNDING_Q_MAX = 100
FUNDING_PER_PAGE_DEFAULT, FUNDING_PER_PAGE_MAX = 50, 500
GROUP_ID_PATTERN = "^[0-9a-f]{1,64}$"
SEARCH_SORTS = ("relevance", "-date", "date")
SEARCH_GROUPS = ("passage", "document")
# The web page lists at most this many passages of one document unless ``per_doc`` says otherwise
# (0: no cap), so one long report cannot fill the page; the API's default stays no cap.
WEB_PER_DOC = 3
DOC_ID = re.compile(r"^[0-9A-Za-z_\-]{1,64}$")


@dataclass(frozen=True)
class Param:
    """One parameter: what the checks enforce and what the OpenAPI document says of it."""

    name: str
    description: str
    type: str = "string"  # "string" or "integer"
    label: str = ""  # how an error message names it
    enum: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    default: Any = None
    required: bool = False
    where: str = "query"  # or "path"

    def schema(self) -> dict:
        pairs = {"type": self.type, "enum": list(self.enum) if self.enum is not None else None,
                 "minimum": self.minimum, "maximum": self.maximum, "minLength": self.min_length,
                 "maxLength": self.max_length, "pattern": self.pattern, "default": self.default}
        return {key: value for key, value in pairs.items() if value is not None}

    def openapi(self) -> dict:
        return {"name": self.name, "in": self.where, "required": self.required or self.where == "path",
                "description": self.description, "schema": self.schema()}

    def but(self, **changes: Any) -> "Param":
        """The same parameter as another endpoint has it (another description, default or limit)."""
        return replace(self, **changes)


def _year_param(name: str, label: str, description: str) -> Param:
    return Param(name, description, type="integer", label=label, minimum=YEAR_MIN, maximum=YEAR_MAX)


Q = Param("q", "What to search for: words, \"exact phrases\", -excluded words.", label="Search",
          min_length=1, max_length=MAX_QUERY_CHARS, required=True)
K = Param("k", "Results per page.", type="integer", label="Results per page (k)", minimum=1, maximum=K_MAX,
          default=K_DEFAULT)
THEME = Param("theme", "Only passages stating a barrier of this theme.", label="Theme", enum=THEMES)
SOURCE = Param("source", "Only documents from this source.", label="Source", enum=ALL_SOURCES)
YEAR_FROM = _year_param("from", "From year", "Only documents published in or after this year.")
YEAR_TO = _year_param("to", "To year", "Only documents published in or before this year.")
DOC_TYPE_PARAM = Param("type", f"Only documents of this type (e.g. {', '.join(DOC_TYPE_EXAMPLES)}).",
                       label="Document type", pattern=DOC_TYPE_PATTERN)
SEARCH_SORT = Param("sort", "Order of the listed passages: `relevance` (the default with words), `-date` (newest "
                    "first; the default with no words) or `date` (oldest first). Dated orders list every "
                    "matching passage by date (within a document, the most relevant first); undated documents "
                    "come last.", label="Sort", enum=SEARCH_SORTS)
GROUP = Param("group", "`document`: one entry per document, ranked by its best passage, with its best passages "
                       "and how many of its passages match.", label="Group", enum=SEARCH_GROUPS)
PER_DOC = Param("per_doc", "At most this many passages from any one document in the list (so one long report "
                           "cannot fill the page); 0: no cap. The API's default is no cap; the web page's is "
                           f"{WEB_PER_DOC}. Each result's `more_in_document` says how many more of its document's "
                           "passages match.", type="integer", label="Passages per document", minimum=0,
                maximum=K_MAX)
DOC = Param("doc", "Only passages of this document (an id, as in `doc_id`): where a result's 'more from this "
                   "document' link leads.", label="Document", pattern=r"^[0-9A-Za-z_\-]{1,64}$")
PAGE = Param("page", "Page of results, from 1; past the last page is a 400.", type="integer", label="Page",
             minimum=1, maximum=MAX_PAGE, default=1)
PART = Param("part", "Which part of a document's items (200 of each kind per part), from 1; past the last "
             "is a 400.", type="integer", label="Part", minimum=1, maximum=10_000_000, default=1)
FORMAT = Param("format", "`csv` downloads the data as CSV (cells that could run as a spreadsheet formula start "
                         "with an apostrophe).", enum=FORMATS, default="json")
MIN_YEARS = Param("min_years", "Only groups made in at least this many different years.", type="integer",
                  label="min_years", minimum=1, maximum=MIN_YEARS_MAX, default=1)
RECURRENCE_KIND = Param("kind", "Recommendations, findings (barrier sentences) or both.", enum=RECURRENCE_KINDS,
                        default="all")
BARRIER_COUNT = Param("count", "What the barriers page counts for each theme and year: `sentences` (barrier "
                              "sentences, the default) or `documents` (documents stating the theme that year, so "
                              "one long report counts once). The JSON carries both.", label="Count",
                      enum=("sentences", "documents"), default="sentences")
FUNDING_KIND = Param("kind", "Only figures of this kind.", enum=FUNDING_KINDS)
FUNDING_Q = Param("q", "Words that must all appear in the subject or the sentence.", max_length=FUNDING_Q_MAX)
FUNDING_SORT = Param("sort", "Sort column.", enum=FUNDING_SORTS, default="amount")
FUNDING_ORDER = Param("order", "Sort direction (default: desc for amount, asc otherwise).", enum=SORT_ORDERS)
FUNDING_K = Param("k", "Rows per page.", type="integer", label="Rows per page (k)", minimum=1,
                  maximum=FUNDING_PER_PAGE_MAX, default=FUNDING_PER_PAGE_DEFAULT)
GROUP_FILTER = Param("group_id", "Only recommendations of this recurrence group.", pattern=GROUP_ID_PATTERN)
ANSWERED = Param("answered", "Only recommendations with (yes) or without (no) a linked response.",
                 enum=("yes", "no"))
THEME_PATH = Param("theme", "A theme id.", enum=THEMES, where="path")
GROUP_PATH = Param("group_id", "A group id.", pattern=GROUP_ID_PATTERN, where="path")
DOC_PATH = Param("doc_id", "A document id.", where="path")

# What each endpoint takes, in the order the OpenAPI document lists them.
SEARCH = (Q.but(required=False, description=Q.description + " May be left out when a filter is given: the "
                                                             "filter's passages are listed, newest first."), K, THEME, SOURCE, YEAR_FROM, YEAR_TO, DOC_TYPE_PARAM, SEARCH_SORT, GROUP, PER_DOC, DOC, PAGE, FORMAT)
RECURRENCES = (MIN_YEARS, RECURRENCE_KIND, FORMAT)
LIFECYCLE = (GROUP_FILTER, ANSWERED)
FUNDING = (FUNDING_KIND, SOURCE, YEAR_FROM, YEAR_TO, FUNDING_Q, FUNDING_SORT, FUNDING_ORDER, PAGE, FUNDING_K, FORMAT)


class ParamError(BadRequest):
    """A 400 carrying ``errors``: ``[(parameter, message), ...]``."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(message for _, message in errors))


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    theme: str | None = None
    source: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    doc_type: str | None = None
    page: int = 1
    k: int = K_DEFAULT
    sort: str | None = None  # None: relevance with words, newest first without
    group: str | None = None  # "document" groups by document
    per_doc: int | None = None  # as asked (0: no cap); None: ``per_doc_default``
    doc: str | None = None  # only this document's passages
    per_doc_default: int | None = None  # the page's cap when none is asked (the API has none)

    def but(self, **changes) -> "SearchParams":
        return replace(self, **changes)

    @property
    def cap(self) -> int | None:
        """Passages of one document listed at most, in effect (None: no cap)."""
        cap = self.per_doc if self.per_doc is not None else self.per_doc_default
        return cap or None

    @property
    def order(self) -> str:
        """The order in effect: relevance needs words, so a browse (no words) is newest first."""
        if self.sort in (None, "relevance"):
            return "relevance" if self.q else "-date"
        return self.sort

    @property
    def by_document(self) -> bool:
        return self.group == "document"

    @property
    def browsing(self) -> bool:
        """No words but a filter: list that filter's passages (a theme's, a source's ...)."""
        return not self.q and self.filtered

    @property
    def filters(self) -> Filters:
        return Filters(theme=self.theme, source=self.source, year_from=self.year_from,
                       year_to=self.year_to, doc_type=self.doc_type, doc_id=self.doc)

    @property
    def filtered(self) -> bool:
        return self.filters.active

    def args(self, **changes) -> dict[str, str | int]:
        """The query string of this search (defaults left out), with ``changes`` applied:
        the permalink, and the base of facet and pagination links."""
        params = replace(self, **changes)
        pairs = {"q": params.q, "theme": params.theme, "source": params.source, "from": params.year_from,
                 "to": params.year_to, "type": params.doc_type,
                 "sort": params.sort, "group": params.group, "per_doc": params.per_doc, "doc": params.doc,
                 "k": params.k if params.k != K_DEFAULT else None,
                 "page": params.page if params.page != 1 else None}
        return {key: value for key, value in pairs.items() if value not in (None, "")}


def _text(args: Mapping[str, str], name: str) -> str | None:
    value = args.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _doc_type(args: Mapping[str, str], errors: list[tuple[str, str]]) -> str | None:
    """The ``type`` filter, when it is a plausible document type (else an error for the page)."""
    doc_type = _text(args, "type")
    if doc_type is not None and not DOC_TYPE.match(doc_type):
        errors.append(("type", f"Document type {_show(doc_type)} is not valid: use letters, digits, "
                               f"spaces, '_' or '-' (up to 64), like {DOC_TYPE_EXAMPLES[-1]}."))
        return None
    return doc_type


def _int(args: Mapping[str, str], param: Param, errors: list[tuple[str, str]]) -> int:
    name, default, lo, hi, what = param.name, param.default, param.minimum, param.maximum, param.label
    raw = _text(args, name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        errors.append((name, f"{what} must be a whole number from {lo} to {hi}, not {_show(raw)}."))
        return default
    value = int(raw)
    if not lo <= value <= hi:
        errors.append((name, f"{what} must be from {lo} to {hi}, not {value}."))
        return default
    return value


def _year(args: Mapping[str, str], param: Param, errors: list[tuple[str, str]]) -> int | None:
    name, label = param.name, param.label
    raw = _text(args, name)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{4}", raw):
        errors.append((name, f"{label} must be a four-digit year, like 2014, not {_show(raw)}."))
        return None
    value = int(raw)
    if not param.minimum <= value <= param.maximum:
        errors.append((name, f"{label} must be between {param.minimum} and {param.maximum}, not {value}."))
        return None
    return value


def _choice(args: Mapping[str, str], param: Param, errors: list[tuple[str, str]]) -> str | None:
    """One of the parameter's choices (case-insensitive), or None when empty; anything else is
    an error that lists the choices."""
    name, allowed = param.name, param.enum
    value = (_text(args, name) or "").lower() or None
    if value is not None and value not in allowed:
        errors.append((name, f"Unknown {name} {_show(value)}. Choose one of: {', '.join(allowed)}."))
        return None
    return value


def _years(args: Mapping[str, str], errors: list[tuple[str, str]]) -> tuple[int | None, int | None]:
    """``from`` and ``to``, each a year, the first not after the second."""
    year_from = _year(args, YEAR_FROM, errors)
    year_to = _year(args, YEAR_TO, errors)
    if year_from is not None and year_to is not None and year_from > year_to:
        errors.append(("from", f"From year ({year_from}) must not be after To year ({year_to})."))
    return year_from, year_to


def _show(raw: str, limit: int = 40) -> str:
    """A user's bad value, quoted and shortened, for an error message (escaped on output)."""
    return "“" + (raw if len(raw) <= limit else raw[:limit] + "…") + "”"


def parse_search(args: Mapping[str, str], require_query: bool = False, browse: bool = False,
                 per_doc_default: int | None = None) -> SearchParams:
    """Check a search's parameters (``q theme source from to type sort group per_doc doc page k``).
    ``browse``: a filter without words is enough (it lists the filter's passages).
    ``per_doc_default``: the cap per document when ``per_doc`` is not given (the web page's)."""
    errors: list[tuple[str, str]] = []
    q = (args.get("q") or "").strip()
    if len(q) > Q.max_length:
        errors.append(("q", f"Search must be {Q.max_length} characters or fewer; yours is {len(q)}."))
    elif require_query and not q:
        errors.append(("q", "Enter something to search for in the q parameter"
                            + (", or a filter (theme, source, from, to, type) to browse." if browse else ".")))
    theme = _choice(args, THEME, errors)
    source = _choice(args, SOURCE, errors)
    year_from, year_to = _years(args, errors)
    doc_type = _doc_type(args, errors)
    sort = _choice(args, SEARCH_SORT, errors)
    group = _choice(args, GROUP, errors)
    per_doc = _int(args, PER_DOC, errors)
    doc = _text(args, "doc")
    if doc is not None and not DOC_ID.match(doc):
        errors.append(("doc", f"Document {_show(doc)} is not a document id: letters, digits, '_' or '-' (up to 64)."))
        doc = None
    page = _int(args, PAGE, errors)
    k = _int(args, K, errors)
    if browse and not q and (theme or source or year_from or year_to or doc_type or doc):
        errors = [e for e in errors if e[0] != "q"]  # a filter with no words browses it
    params = SearchParams(q=q[:Q.max_length], theme=theme, source=source, year_from=year_from,
                          year_to=year_to, doc_type=doc_type, page=page, k=k, sort=sort,
                          group=None if group == "passage" else group, per_doc=per_doc, doc=doc,
                          per_doc_default=per_doc_default)
    if errors:
        error = ParamError(errors)
        error.params = params  # what could be read, so a form can be shown again as submitted
        raise error
    return params


def parse_page(args: Mapping[str, str]) -> int:
    errors: list[tuple[str, str]] = []
    page = _int(args, PAGE, errors)
    if errors:
        raise ParamError(errors)
    return page


def parse_min_years(args: Mapping[str, str], default: int = 1) -> int:
    errors: list[tuple[str, str]] = []
    value = _int(args, MIN_YEARS.but(default=default), errors)
    if errors:
        raise ParamError(errors)
    return value


def parse_barrier_count(args: Mapping[str, str]) -> str:
    """``sentences`` or ``documents``: what the barriers page counts."""
    errors: list[tuple[str, str]] = []
    count = _choice(args, BARRIER_COUNT, errors)
    if errors:
        raise ParamError(errors)
    return count or BARRIER_COUNT.default


def parse_kind(args: Mapping[str, str], default: str) -> str | None:
    """Which recurring items: recommendations, findings (barrier sentences), or all (None)."""
    kind = args.get("kind", default)
    if kind not in RECURRENCE_KIND.enum:
        raise ParamError([("kind", f"kind must be one of {', '.join(RECURRENCE_KIND.enum)}.")])
    return None if kind == "all" else kind


@dataclass(frozen=True)
class Page:
    """One page of a list: its items, which page it is, how many pages and items in all."""

    items: list
    number: int
    pages: int
    total: int
    per_page: int

    @property
    def first(self) -> int:
        """1-based position of the page's first item."""
        return (self.number - 1) * self.per_page + 1


def paginate(items: Sequence, page: int, per_page: int) -> Page:
    """Page ``page`` of ``items``, ``per_page`` at a time; a page past the last is a ``ParamError``."""
    pages = math.ceil(len(items) / per_page)
    check_page(page, pages)
    start = (page - 1) * per_page
    return Page(list(items[start:start + per_page]), page, pages, len(items), per_page)


def check_page(page: int, pages: int) -> None:
    """A page past the last one is a 400 that says how many there are (page 1 always exists)."""
    if page > max(pages, 1):
        raise ParamError([("page", f"There is no page {page}: there {'is' if pages == 1 else 'are'} "
                                   f"{pages} page{'' if pages == 1 else 's'} of results.")])


# --- funding, barriers, formats ---------------------------------------------------------------


def parse_format(args: Mapping[str, str]) -> str:
    """``?format=json`` (the default) or ``?format=csv``."""
    value = (_text(args, "format") or FORMAT.default).lower()
    if value not in FORMAT.enum:
        raise ParamError([("format", f"format must be one of {', '.join(FORMAT.enum)}, not {_show(value)}.")])
    return value


def parse_theme(theme: str) -> str:
    """A theme id from a URL path: a 404 names the themes there are (not a 400: it is a page)."""
    if theme not in THEME_PATH.enum:
        from werkzeug.exceptions import NotFound

        raise NotFound(f"There is no barrier theme “{theme[:60]}”. The themes are: {', '.join(THEME_PATH.enum)}.")
    return theme


def is_group_id(value: str) -> bool:
    """Whether ``value`` could be a recurrence group id (``GROUP_ID_PATTERN``)."""
    return re.match(GROUP_ID_PATTERN, value) is not None


def parse_lifecycle(args: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The lifecycle list's narrowing (``group_id answered``): ``(group_id, "yes"|"no")``, each
    None when not given."""
    group_id = (args.get("group_id") or "").strip() or None
    answered = (args.get("answered") or "").strip().lower() or None
    errors = []
    if group_id is not None and not is_group_id(group_id):
        errors.append(("group_id", "group_id must be a recurrence group id: up to 64 hex digits."))
    if answered is not None and answered not in ANSWERED.enum:
        errors.append(("answered", "answered must be yes or no."))
    if errors:
        raise ParamError(errors)
    return group_id, answered


def parse_funding(args: Mapping[str, str]):
    """Check the funding table's parameters (``kind source from to q sort order page k``);
    returns ``(FundingQuery, page, k)``."""
    errors: list[tuple[str, str]] = []
    kind = _choice(args, FUNDING_KIND, errors)
    source = _choice(args, SOURCE, errors)
    year_from, year_to = _years(args, errors)
    q = _text(args, "q")
    if q is not None and len(q) > FUNDING_Q.max_length:
        errors.append(("q", f"Subject words must be {FUNDING_Q.max_length} characters or fewer; yours are {len(q)}."))
        q = None
    sort = (_text(args, "sort") or FUNDING_SORT.default).lower()
    if sort not in FUNDING_SORT.enum:
        errors.append(("sort", f"sort must be one of {', '.join(FUNDING_SORT.enum)}, not {_show(sort)}."))
        sort = FUNDING_SORT.default
    default_order = "desc" if sort == "amount" else "asc"
    order = (_text(args, "order") or default_order).lower()
    if order not in FUNDING_ORDER.enum:
        errors.append(("order", f"order must be asc or desc, not {_show(order)}."))
        order = default_order
    page = _int(args, PAGE, errors)
    k = _int(args, FUNDING_K, errors)
    query = FundingQuery(kind=kind, source=source, year_from=year_from, year_to=year_to, q=q, sort=sort, order=order)
    if errors:
        error = ParamError(errors)
        error.params = (query, page, k)
        raise error
    return query, page, k


def funding_args(query, page: int = 1, k: int = FUNDING_PER_PAGE_DEFAULT, **changes) -> dict:
    """The query string of a funding table view (defaults left out): links keep the filters."""
    pairs = {"kind": query.kind, "source": query.source, "from": query.year_from, "to": query.year_to,
             "q": query.q, "sort": query.sort, "order": query.order, "k": k, "page": page}
    pairs.update(changes)
    defaults = {"sort": "amount", "order": "desc" if pairs["sort"] == "amount" else "asc",
                "k": FUNDING_PER_PAGE_DEFAULT, "page": 1}
    return {key: value for key, value in pairs.items() if value not in (None, "") and value != defaults.get(key)}


def parse_part(args: Mapping[str, str]) -> int:
    """``?part=N`` of a document page: which ``ITEMS_PER_PART`` items of each kind to show."""
    errors: list[tuple[str, str]] = []
    part = _int(args, PART, errors)
    if errors:
        raise ParamError(errors)
    return part


# --- the document list (/documents, /api/documents) -------------------------------------------

DOCUMENTS_PER_PAGE_DEFAULT, DOCUMENTS_PER_PAGE_MAX = 25, 200
DOC_YEAR = _year_param("year", "Year", "Only documents published in this year.")
DOC_SORT = Param("sort", "Sort by publication date or title (undated or untitled documents last).",
                 enum=DOCUMENT_SORTS, default="date")
DOC_ORDER = Param("order", "Sort direction (default: desc for date, asc for title).", enum=SORT_ORDERS)
DOC_K = Param("k", "Documents per page.", type="integer", label="Documents per page (k)", minimum=1,
              maximum=DOCUMENTS_PER_PAGE_MAX, default=DOCUMENTS_PER_PAGE_DEFAULT)
DOCUMENTS = (SOURCE.but(description="Only documents from this source."), DOC_TYPE_PARAM, DOC_YEAR, DOC_SORT,
             DOC_ORDER, PAGE, DOC_K)


def parse_documents(args: Mapping[str, str]) -> dict:
    """Check the document list's parameters (``source type year sort order page k``); the
    keyword arguments of ``kb.analysis.documents.list_documents``."""
    errors: list[tuple[str, str]] = []
    source = _choice(args, SOURCE, errors)
    doc_type = _doc_type(args, errors)
    year = _year(args, DOC_YEAR, errors)
    sort = _choice(args, DOC_SORT, errors) or DOC_SORT.default
    order = _choice(args, DOC_ORDER, errors) or ("desc" if sort == "date" else "asc")
    page = _int(args, PAGE, errors)
    k = _int(args, DOC_K, errors)
    if errors:
        raise ParamError(errors)
    return {"source": source, "doc_type": doc_type, "year": year, "sort": sort, "order": order, "page": page, "k": k}


def documents_args(query: dict | None, **changes) -> dict:
    """The query string of a document-list view (defaults left out): links keep the filters."""
    pairs = {"source": None, "type": None, "year": None, "sort": "date", "order": None, "page": 1,
             "k": DOCUMENTS_PER_PAGE_DEFAULT}
    if query:
        pairs.update(source=query["source"], type=query["doc_type"], year=query["year"], sort=query["sort"],
                     order=query["order"], page=query["page"], k=query["k"])
    pairs.update(changes)
    defaults = {"sort": "date", "order": "desc" if pairs["sort"] == "date" else "asc", "page": 1,
                "k": DOCUMENTS_PER_PAGE_DEFAULT}
    return {key: value for key, value in pairs.items() if value not in (None, "") and value != defaults.get(key)}


PASSAGE = Param("passage", "A passage to open the document at (a search hit's passage_id): its page is shown "
                "expanded with the passage marked.", pattern="^[0-9a-f]{1,64}$")
QUOTE = Param("quote", "The words of the passage to mark as the cited sentence (a search result's snippet).",
              max_length=1000)


def parse_cite(args: Mapping[str, str]) -> tuple[str | None, str | None]:
    """``?passage=&quote=`` of a document page: where a citation lands. A malformed passage id
    or an over-long quote is ignored, not an error: the document itself is still worth showing."""
    passage = _text(args, PASSAGE.name)
    quote = _text(args, QUOTE.name)
    if passage is not None and not re.match(PASSAGE.pattern, passage):
        passage = None
    if quote is not None and len(quote) > QUOTE.max_length:
        quote = None
    return passage, quote


def check_part(part: int, parts: int) -> None:
    if part > parts:
        raise ParamError([("part", f"There is no part {part}: this document has {parts} "
                                   f"part{'' if parts == 1 else 's'}.")])


# --- recommendation statuses (issue 19) ------------------------------------------------------

STATUS = Param("status", "Only recommendations with this status.", label="Status", enum=STATUSES)
ACTOR = Param("actor", "Only recommendations addressed to this actor (an id of /api/actors).", label="Actor")
RECOMMENDATIONS = (STATUS, ACTOR, SOURCE, YEAR_FROM.but(description="Only recommendations made in or after this year."),
                   YEAR_TO.but(description="Only recommendations made in or before this year."), FORMAT)


def parse_status_query(args: Mapping[str, str], actor_ids: tuple[str, ...]):
    """``status``, ``actor``, ``source``, ``from``, ``to`` of /recommendations and its API; the
    actors are those of the vocabulary in use (``$KB_HOME/actors.json`` may add some)."""
    errors: list[tuple[str, str]] = []
    status = _choice(args, STATUS, errors)
    actor = _choice(args, ACTOR.but(enum=actor_ids), errors)
    source = _choice(args, SOURCE, errors)
    year_from, year_to = _years(args, errors)
    query = StatusQuery(status=status, actor=actor, source=source, year_from=year_from, year_to=year_to)
    if errors:
        exc = ParamError(errors)
        exc.params = StatusQuery()
        raise exc
    return query

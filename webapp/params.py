"""Reading and checking query-string parameters, shared by the pages and the JSON API.

Every problem becomes a ``ParamError`` (a 400) naming the parameter and saying what would be
accepted; all problems of one request are reported together, so a user fixes them in one go.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

from werkzeug.exceptions import BadRequest

from kb.vocabulary import ALL_SOURCES, THEMES
from kb.search.query import MAX_QUERY_CHARS
from kb.search.engine import Filters

YEAR_MIN, YEAR_MAX = 1800, 2200
K_DEFAULT, K_MAX = 10, 100
MAX_PAGE = 10_000
MIN_YEARS_MAX = 100
DOC_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _\-]{0,63}$")

FIELD_LABELS = {"q": "Search", "theme": "Theme", "source": "Source", "from": "From year", "to": "To year",
                "type": "Document type", "page": "Page", "k": "Results per page", "min_years": "Minimum years"}


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

    @property
    def filters(self) -> Filters:
        return Filters(theme=self.theme, source=self.source, year_from=self.year_from,
                       year_to=self.year_to, doc_type=self.doc_type)

    @property
    def filtered(self) -> bool:
        return self.filters.active

    def args(self, **changes) -> dict[str, str | int]:
        """The query string of this search (defaults left out), with ``changes`` applied:
        the permalink, and the base of facet and pagination links."""
        params = replace(self, **changes)
        pairs = {"q": params.q, "theme": params.theme, "source": params.source, "from": params.year_from,
                 "to": params.year_to, "type": params.doc_type,
                 "k": params.k if params.k != K_DEFAULT else None,
                 "page": params.page if params.page != 1 else None}
        return {key: value for key, value in pairs.items() if value not in (None, "")}


def _text(args: Mapping[str, str], name: str) -> str | None:
    value = args.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _int(args: Mapping[str, str], name: str, default: int, lo: int, hi: int,
         errors: list[tuple[str, str]], what: str) -> int:
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


def _year(args: Mapping[str, str], name: str, errors: list[tuple[str, str]]) -> int | None:
    raw = _text(args, name)
    if raw is None:
        return None
    label = FIELD_LABELS[name]
    if not re.fullmatch(r"[0-9]{4}", raw):
        errors.append((name, f"{label} must be a four-digit year, like 2014, not {_show(raw)}."))
        return None
    value = int(raw)
    if not YEAR_MIN <= value <= YEAR_MAX:
        errors.append((name, f"{label} must be between {YEAR_MIN} and {YEAR_MAX}, not {value}."))
        return None
    return value


def _choice(args: Mapping[str, str], name: str, allowed: tuple[str, ...], errors: list[tuple[str, str]]) -> str | None:
    """One of ``allowed`` (case-insensitive), or None when empty; anything else is an error
    that lists the choices."""
    value = (_text(args, name) or "").lower() or None
    if value is not None and value not in allowed:
        errors.append((name, f"Unknown {name} {_show(value)}. Choose one of: {', '.join(allowed)}."))
        return None
    return value


def _years(args: Mapping[str, str], errors: list[tuple[str, str]]) -> tuple[int | None, int | None]:
    """``from`` and ``to``, each a year, the first not after the second."""
    year_from = _year(args, "from", errors)
    year_to = _year(args, "to", errors)
    if year_from is not None and year_to is not None and year_from > year_to:
        errors.append(("from", f"From year ({year_from}) must not be after To year ({year_to})."))
    return year_from, year_to


def _show(raw: str, limit: int = 40) -> str:
    """A user's bad value, quoted and shortened, for an error message (escaped on output)."""
    return "“" + (raw if len(raw) <= limit else raw[:limit] + "…") + "”"


def parse_search(args: Mapping[str, str], require_query: bool = False) -> SearchParams:
    """Check a search's parameters (``q theme source from to type page k``)."""
    errors: list[tuple[str, str]] = []
    q = (args.get("q") or "").strip()
    if len(q) > MAX_QUERY_CHARS:
        errors.append(("q", f"Search must be {MAX_QUERY_CHARS} characters or fewer; yours is {len(q)}."))
    elif require_query and not q:
        errors.append(("q", "Enter something to search for in the q parameter."))
    theme = _choice(args, "theme", THEMES, errors)
    source = _choice(args, "source", ALL_SOURCES, errors)
    year_from, year_to = _years(args, errors)
    doc_type = _text(args, "type")
    if doc_type is not None and not DOC_TYPE.match(doc_type):
        errors.append(("type", f"Document type {_show(doc_type)} is not valid: use letters, digits, "
                               "spaces, '_' or '-' (up to 64), like policy_paper."))
        doc_type = None
    page = _int(args, "page", 1, 1, MAX_PAGE, errors, "Page")
    k = _int(args, "k", K_DEFAULT, 1, K_MAX, errors, "Results per page (k)")
    params = SearchParams(q=q[:MAX_QUERY_CHARS], theme=theme, source=source, year_from=year_from,
                          year_to=year_to, doc_type=doc_type, page=page, k=k)
    if errors:
        error = ParamError(errors)
        error.params = params  # what could be read, so a form can be shown again as submitted
        raise error
    return params


def parse_page(args: Mapping[str, str]) -> int:
    errors: list[tuple[str, str]] = []
    page = _int(args, "page", 1, 1, MAX_PAGE, errors, "Page")
    if errors:
        raise ParamError(errors)
    return page


def parse_min_years(args: Mapping[str, str], default: int = 1) -> int:
    errors: list[tuple[str, str]] = []
    value = _int(args, "min_years", default, 1, MIN_YEARS_MAX, errors, "min_years")
    if errors:
        raise ParamError(errors)
    return value


RECURRENCE_KINDS = ("recommendation", "finding", "all")


def parse_kind(args: Mapping[str, str], default: str) -> str | None:
    """Which recurring items: recommendations, findings (barrier sentences), or all (None)."""
    kind = args.get("kind", default)
    if kind not in RECURRENCE_KINDS:
        raise ParamError([("kind", f"kind must be one of {', '.join(RECURRENCE_KINDS)}.")])
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

FORMATS = ("json", "csv")
SORT_ORDERS = ("asc", "desc")
FUNDING_Q_MAX = 100
FUNDING_PER_PAGE_DEFAULT, FUNDING_PER_PAGE_MAX = 50, 500


def parse_format(args: Mapping[str, str]) -> str:
    """``?format=json`` (the default) or ``?format=csv``."""
    value = (_text(args, "format") or "json").lower()
    if value not in FORMATS:
        raise ParamError([("format", f"format must be one of {', '.join(FORMATS)}, not {_show(value)}.")])
    return value


def parse_theme(theme: str) -> str:
    """A theme id from a URL path: a 404 names the themes there are (not a 400: it is a page)."""
    if theme not in THEMES:
        from werkzeug.exceptions import NotFound

        raise NotFound(f"There is no barrier theme “{theme[:60]}”. The themes are: {', '.join(THEMES)}.")
    return theme


def parse_funding(args: Mapping[str, str]):
    """Check the funding table's parameters (``kind source from to q sort order page k``);
    returns ``(FundingQuery, page, k)``."""
    from kb.analysis.browse import FUNDING_SORTS, FundingQuery
    from kb.vocabulary import FUNDING_KINDS

    errors: list[tuple[str, str]] = []
    kind = _choice(args, "kind", FUNDING_KINDS, errors)
    source = _choice(args, "source", ALL_SOURCES, errors)
    year_from, year_to = _years(args, errors)
    q = _text(args, "q")
    if q is not None and len(q) > FUNDING_Q_MAX:
        errors.append(("q", f"Subject words must be {FUNDING_Q_MAX} characters or fewer; yours are {len(q)}."))
        q = None
    sort = (_text(args, "sort") or "amount").lower()
    if sort not in FUNDING_SORTS:
        errors.append(("sort", f"sort must be one of {', '.join(FUNDING_SORTS)}, not {_show(sort)}."))
        sort = "amount"
    default_order = "desc" if sort == "amount" else "asc"
    order = (_text(args, "order") or default_order).lower()
    if order not in SORT_ORDERS:
        errors.append(("order", f"order must be asc or desc, not {_show(order)}."))
        order = default_order
    page = _int(args, "page", 1, 1, MAX_PAGE, errors, "Page")
    k = _int(args, "k", FUNDING_PER_PAGE_DEFAULT, 1, FUNDING_PER_PAGE_MAX, errors, "Rows per page (k)")
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


# --- recommendation statuses (issue 19) ------------------------------------------------------

def parse_status_query(args: Mapping[str, str], statuses: tuple[str, ...], actor_ids: tuple[str, ...]):
    """``status``, ``actor``, ``source``, ``from``, ``to`` of /recommendations and its API."""
    from kb.analysis.status import StatusQuery

    errors: list[tuple[str, str]] = []
    status = _choice(args, "status", statuses, errors)
    actor = _choice(args, "actor", actor_ids, errors)
    source = _choice(args, "source", ALL_SOURCES, errors)
    year_from, year_to = _years(args, errors)
    query = StatusQuery(status=status, actor=actor, source=source, year_from=year_from, year_to=year_to)
    if errors:
        exc = ParamError(errors)
        exc.params = StatusQuery()
        raise exc
    return query

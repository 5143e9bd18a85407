"""The OpenAPI 3 description of /api, served at /api/openapi.json.

Generated, not written twice: each endpoint's parameters are the ``Param`` declarations the
checks in ``webapp.params`` enforce, and its response schemas come from the fields of the read
models it serialises (``kb.analysis.models``, ``kb.search.engine.Hit``).
"""
from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from kb.analysis.models import (BarrierOverview, BarrierThemeDetail, DocumentDetail, DocumentList, FundingFigure,
                                FundingKindTotal, FundingYear,
                                LifecycleEntry, RecurrenceGroup)
from kb.search.engine import Hit
from webapp import params as p

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _schema_of(hint: Any, schemas: dict[str, dict]) -> dict:
    """The schema of a field's type hint; a dataclass becomes a named component."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        return {**_schema_of(args[0], schemas), "nullable": True}
    if typing.get_origin(hint) in (list, tuple):
        return {"type": "array", "items": _schema_of(args[0], schemas) if args else {}}
    if typing.get_origin(hint) is dict:
        return {"type": "object"}
    if dataclasses.is_dataclass(hint):
        return model_schema(hint, schemas)
    return {"type": _SCALARS[hint]} if hint in _SCALARS else {}


def model_schema(model: type, schemas: dict[str, dict]) -> dict:
    """A ``$ref`` to ``model``'s schema, added to ``schemas`` (with every model it holds) from
    its dataclass fields: those its ``to_json()`` writes, in order."""
    name = model.__name__
    if name not in schemas:
        schemas[name] = {}  # placed first: a model may hold itself
        hints = typing.get_type_hints(model)
        shown = [f for f in dataclasses.fields(model) if f.metadata.get("json", True)]
        always = [f.name for f in shown if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        schemas[name] = {"type": "object", "required": always,
                         "properties": {f.name: _schema_of(hints[f.name], schemas) for f in shown}}
        if model.__doc__ and not model.__doc__.startswith(f"{name}("):  # not the dataclass default
            schemas[name]["description"] = " ".join(model.__doc__.split())
    return _ref(name)


def _list_of(model: type, schemas: dict[str, dict]) -> dict:
    return {"type": "array", "items": model_schema(model, schemas)}


def _format(what: str) -> dict:
    return p.FORMAT.but(description=f"`csv` downloads {what} as CSV (cells that could run as a spreadsheet "
                                    "formula start with an apostrophe).").openapi()


def _ok(description: str, schema: dict, csv: bool = False) -> dict:
    content = {"application/json": {"schema": schema}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {"200": {"description": description, "content": content}}


ERRORS = {
    "400": {"description": "A parameter is wrong; the message says what would be accepted.",
            "content": {"application/json": {"schema": _ref("Error")}}},
    "503": {"description": "There is no knowledge base yet.",
            "content": {"application/json": {"schema": _ref("Error")}}},
}
NOT_FOUND = {"404": {"description": "No such item.", "content": {"application/json": {"schema": _ref("Error")}}}}

OBJECT = {"type": "object"}


def _get(summary: str, parameters: list[dict], responses: dict, not_found: bool = False) -> dict:
    return {"get": {"summary": summary, "parameters": parameters,
                    "responses": {**responses, **ERRORS, **(NOT_FOUND if not_found else {})}}}


def _query(declared: tuple[p.Param, ...], format_what: str | None = None) -> list[dict]:
    """An endpoint's declared parameters, the format one described for what it downloads."""
    return [_format(format_what) if param is p.FORMAT and format_what else param.openapi() for param in declared]


def openapi_document() -> dict:
    schemas: dict[str, dict] = {
        "Error": {"type": "object", "required": ["error"], "properties": {
            "error": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "param": {"type": "string"}, "message": {"type": "string"}}}}}},
    }
    page_of = {"total": {"type": "integer"}, "page": {"type": "integer"}, "pages": {"type": "integer"},
               "k": {"type": "integer"}, "filters": OBJECT}
    schemas["SearchResults"] = {"type": "object", "properties": {
        "query": {"type": "string"}, **page_of, "results": _list_of(Hit, schemas),
        "total_is_exact": {"type": "boolean", "description": "false: counting stopped at a limit, total is a lower bound"},
        "listed": {"type": "integer", "description": "matching passages that can be paged through (the best 100 "
                                                      "by relevance, every match by date; after the per_doc cap)"},
        "every_match_listed": {"type": "boolean", "description": "true: the list holds every match (a date order "
                                                                 "or a browse), not the best window"},
        "sort": {"type": "string"}, "group": {"type": "string"}, "per_doc": {"type": "integer", "nullable": True},
        "facets": OBJECT, "documents": {"type": "array", "items": OBJECT}}}
    schemas["FundingResults"] = {"type": "object", "properties": {
        **{k: v for k, v in page_of.items() if k != "filters"}, "sort": {"type": "string"},
        "order": {"type": "string"}, "filters": OBJECT, "by_year": _list_of(FundingYear, schemas),
        "by_kind": _list_of(FundingKindTotal, schemas), "results": _list_of(FundingFigure, schemas)}}
    paths = {
        "/api/search": _get("Search passages (hybrid keyword and semantic ranking, best 100)",
                            _query(p.SEARCH, "every listed hit (not one page)"),
                            _ok("`{query, total, page, pages, k, filters, results: [hit], total_is_exact, listed, sort, group, "
                                "per_doc, every_match_listed, facets}` (and `documents` with `group=document`); each result has "
                                "`more_in_document`", _ref("SearchResults"),
                                csv=True)),
        "/api/barriers": _get("Every barrier theme's count per year, for comparing themes over time", [],
                              _ok("`{years: [int], themes: [{theme, total, documents, undated, by_year: [{year, count, documents}]}]}`: "
                                  "`count` barrier sentences, `documents` the documents they come from",
                                  model_schema(BarrierOverview, schemas))),
        "/api/barriers/{theme}": _get("One barrier theme: per year, strongest sentences, top documents",
                                      [p.THEME_PATH.openapi()],
                                      _ok("`{theme, total, documents, undated, by_year, sentences, top_documents}`",
                                          model_schema(BarrierThemeDetail, schemas)), not_found=True),
        "/api/recurrences": _get("Recurring recommendations and findings, most years spanned first",
                                 _query(p.RECURRENCES, "one row per occurrence"),
                                 _ok("The `kb recurrences --json` list", _list_of(RecurrenceGroup, schemas),
                                     csv=True)),
        "/api/recurrences/{group_id}": _get(
            "One recurrence group with its occurrences and responses", [p.GROUP_PATH.openapi()],
            _ok("A group: `{id, kind, label, years, first_seen, last_seen, count, key_phrases, why, occurrences}`",
                model_schema(RecurrenceGroup, schemas)), not_found=True),
        "/api/lifecycle": _get("Every recommendation with the government responses linked to it",
                               _query(p.LIFECYCLE),
                               _ok("The `kb lifecycle --json` list: `[{recommendation, responses, group_id}]`",
                                   _list_of(LifecycleEntry, schemas))),
        "/api/funding": _get("Extracted funding figures, filtered and sorted, with totals by year",
                             _query(p.FUNDING, "every matching figure (not one page)"),
                             _ok("`{total, page, pages, k, sort, order, filters, by_year, results}`",
                                 _ref("FundingResults"), csv=True)),
        "/api/documents": _get("Every stored document, filtered by source, type and year, sorted by date or title",
                               _query(p.DOCUMENTS),
                               _ok("`{total, page, pages, k, sort, order, filters, results, sources, doc_types, "
                                   "years}`", model_schema(DocumentList, schemas))),
        "/api/documents/{doc_id}": _get("A document's metadata and the items extracted from it, 200 of each "
                                        "kind per part", [p.DOC_PATH.openapi(), p.PART.openapi()],
                                        _ok("The document with `barriers`, `recommendations`, `funding`, "
                                            "`responses` (this part), `totals`, `part`, `parts`, `per_part`",
                                            model_schema(DocumentDetail, schemas)), not_found=True),
        "/api/recommendations": _get("Every recommendation's status, derived from evidence and citing it",
                                     _query(p.RECOMMENDATIONS, "one row per recommendation, with its evidence"),
                                     _ok("The `kb status --json` list: `[{recommendation_id, doc_id, text, actor, "
                                         "status, evidence, history}]`", {"type": "array", "items": OBJECT},
                                         csv=True)),
        "/api/actors": _get("The bodies recommendations are addressed to, with their aliases and status counts", [],
                            _ok("`[{id, name, names, aliases, recommendations, first_year, last_year, statuses}]`",
                                {"type": "array", "items": OBJECT})),
        "/api/actors/{actor_id}": _get("One actor: its recommendations over the years, responses, counts",
                                       [p.Param("actor_id", "An actor id.", where="path").openapi()],
                                       _ok("`{id, name, names, aliases, statuses, by_year, responses, "
                                           "recommendations}`", OBJECT), not_found=True),
        "/api/stats": _get("Counts of what the knowledge base holds", [], _ok("The `kb stats --json` object", OBJECT)),
        "/api/openapi.json": _get("This description", [], _ok("An OpenAPI 3 document", OBJECT)),
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Refrain API", "version": "1",
                 "description": "Read-only JSON over Refrain's knowledge base of evidence on health and social "
                                "care integration. Every response of the API mirrors a page of the web app."},
        "paths": paths,
        "components": {"schemas": schemas},
    }

"""The OpenAPI 3 description of /api, served at /api/openapi.json.

Written by hand as data, next to the parameter checks it describes (``webapp.params``), so the
limits it states are the ones enforced: the constants are imported, not copied.
"""
from __future__ import annotations

from kb.analysis.browse import FUNDING_SORTS
from kb.analysis.status import STATUSES
from kb.vocabulary import FUNDING_KINDS, THEMES
from kb.search.query import MAX_QUERY_CHARS
from webapp.params import (ALL_SOURCES, FORMATS, FUNDING_PER_PAGE_MAX, FUNDING_Q_MAX, K_DEFAULT, K_MAX, MAX_PAGE,
                           MIN_YEARS_MAX, RECURRENCE_KINDS, YEAR_MAX, YEAR_MIN)


def _param(name: str, description: str, schema: dict, required: bool = False, where: str = "query") -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "description": description,
            "schema": schema}


def _year(name: str, what: str) -> dict:
    return _param(name, what, {"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX})


PAGE = _param("page", "Page of results, from 1; past the last page is a 400.",
              {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1})
SOURCE = _param("source", "Only documents from this source.", {"type": "string", "enum": list(ALL_SOURCES)})


def _format(what: str) -> dict:
    return _param("format", f"`csv` downloads {what} as CSV (cells that could run as a spreadsheet formula "
                            "start with an apostrophe).", {"type": "string", "enum": list(FORMATS), "default": "json"})


def _ok(description: str, schema: dict, csv: bool = False) -> dict:
    content = {"application/json": {"schema": schema}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {"200": {"description": description, "content": content}}


ERRORS = {
    "400": {"description": "A parameter is wrong; the message says what would be accepted.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "503": {"description": "There is no knowledge base yet.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
}
NOT_FOUND = {"404": {"description": "No such item.",
                     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}

OBJECT = {"type": "object"}
LIST = {"type": "array", "items": OBJECT}


def _get(summary: str, parameters: list[dict], responses: dict, not_found: bool = False) -> dict:
    return {"get": {"summary": summary, "parameters": parameters,
                    "responses": {**responses, **ERRORS, **(NOT_FOUND if not_found else {})}}}


def openapi_document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Refrain API", "version": "1",
                 "description": "Read-only JSON over Refrain's knowledge base of evidence on health and social "
                                "care integration. Every response of the API mirrors a page of the web app."},
        "paths": {
            "/api/search": _get("Search passages (hybrid keyword and semantic ranking, best 100)", [
                _param("q", "What to search for: words, \"exact phrases\", -excluded words.",
                       {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS}, required=True),
                _param("k", "Results per page.", {"type": "integer", "minimum": 1, "maximum": K_MAX,
                                                  "default": K_DEFAULT}),
                _param("theme", "Only passages stating a barrier of this theme.",
                       {"type": "string", "enum": list(THEMES)}),
                SOURCE, _year("from", "Only documents published in or after this year."),
                _year("to", "Only documents published in or before this year."),
                _param("type", "Only documents of this type (e.g. report, policy_paper).",
                       {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9 _\\-]{0,63}$"}),
                PAGE, _format("every hit of the window (not one page)"),
            ], _ok("`{query, total, page, pages, k, filters, results: [hit]}`",
                   {"$ref": "#/components/schemas/SearchResults"}, csv=True)),
            "/api/barriers": _get("Every barrier theme's count per year, for comparing themes over time", [],
                                  _ok("`{years: [int], themes: [{theme, total, documents, undated, by_year}]}`",
                                      OBJECT)),
            "/api/barriers/{theme}": _get("One barrier theme: per year, strongest sentences, top documents", [
                _param("theme", "A theme id.", {"type": "string", "enum": list(THEMES)}, where="path"),
            ], _ok("`{theme, total, documents, undated, by_year, sentences, top_documents}`", OBJECT),
                not_found=True),
            "/api/recurrences": _get("Recurring recommendations and findings, most years spanned first", [
                _param("min_years", "Only groups made in at least this many different years.",
                       {"type": "integer", "minimum": 1, "maximum": MIN_YEARS_MAX, "default": 1}),
                _param("kind", "Recommendations, findings (barrier sentences) or both.",
                       {"type": "string", "enum": list(RECURRENCE_KINDS), "default": "all"}),
                _format("one row per occurrence"),
            ], _ok("The `kb recurrences --json` list", LIST, csv=True)),
            "/api/recurrences/{group_id}": _get("One recurrence group with its occurrences and responses", [
                _param("group_id", "A group id.", {"type": "string", "pattern": "^[0-9a-f]{1,64}$"}, where="path"),
            ], _ok("A group: `{id, kind, label, years, first_seen, last_seen, count, key_phrases, why, occurrences}`",
                   OBJECT),
                not_found=True),
            "/api/lifecycle": _get("Every recommendation with the government responses linked to it", [
                _param("group_id", "Only recommendations of this recurrence group.",
                       {"type": "string", "pattern": "^[0-9a-f]{1,64}$"}),
                _param("answered", "Only recommendations with (yes) or without (no) a linked response.",
                       {"type": "string", "enum": ["yes", "no"]}),
            ], _ok("The `kb lifecycle --json` list: `[{recommendation, responses, group_id}]`", LIST)),
            "/api/funding": _get("Extracted funding figures, filtered and sorted, with totals by year", [
                _param("kind", "Only figures of this kind.", {"type": "string", "enum": list(FUNDING_KINDS)}),
                SOURCE, _year("from", "Only documents published in or after this year."),
                _year("to", "Only documents published in or before this year."),
                _param("q", "Words that must all appear in the subject or the sentence.",
                       {"type": "string", "maxLength": FUNDING_Q_MAX}),
                _param("sort", "Sort column.", {"type": "string", "enum": list(FUNDING_SORTS), "default": "amount"}),
                _param("order", "Sort direction (default: desc for amount, asc otherwise).",
                       {"type": "string", "enum": ["asc", "desc"]}),
                PAGE, _param("k", "Rows per page.", {"type": "integer", "minimum": 1,
                                                    "maximum": FUNDING_PER_PAGE_MAX, "default": 50}),
                _format("every matching figure (not one page)"),
            ], _ok("`{total, page, pages, k, sort, order, filters, by_year, results}`", OBJECT, csv=True)),
            "/api/documents/{doc_id}": _get("A document's metadata and every item extracted from it", [
                _param("doc_id", "A document id.", {"type": "string"}, where="path"),
            ], _ok("The document with `barriers`, `recommendations`, `funding`, `responses`", OBJECT),
                not_found=True),
            "/api/recommendations": _get("Every recommendation's status, derived from evidence and citing it", [
                _param("status", "Only recommendations with this status.", {"type": "string", "enum": list(STATUSES)}),
                _param("actor", "Only recommendations addressed to this actor (an id of /api/actors).",
                       {"type": "string"}),
                SOURCE, _year("from", "Only recommendations made in or after this year."),
                _year("to", "Only recommendations made in or before this year."),
                _format("one row per recommendation, with the evidence of its status"),
            ], _ok("The `kb status --json` list: `[{recommendation_id, doc_id, text, actor, status, evidence, "
                   "history}]`", LIST, csv=True)),
            "/api/actors": _get("The bodies recommendations are addressed to, with their aliases and status counts",
                                [], _ok("`[{id, name, names, aliases, recommendations, first_year, last_year, "
                                        "statuses}]`", LIST)),
            "/api/actors/{actor_id}": _get("One actor: its recommendations over the years, responses, counts", [
                _param("actor_id", "An actor id.", {"type": "string"}, where="path"),
            ], _ok("`{id, name, names, aliases, statuses, by_year, responses, recommendations}`", OBJECT),
                not_found=True),
            "/api/stats": _get("Counts of what the knowledge base holds", [],
                               _ok("The `kb stats --json` object", OBJECT)),
            "/api/openapi.json": _get("This description", [], _ok("An OpenAPI 3 document", OBJECT)),
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {
                "error": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object", "properties": {
                    "param": {"type": "string"}, "message": {"type": "string"}}}}}},
            "SearchResults": {"type": "object", "properties": {
                "query": {"type": "string"}, "total": {"type": "integer"}, "page": {"type": "integer"},
                "pages": {"type": "integer"}, "k": {"type": "integer"}, "filters": OBJECT,
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}}}},
            "Hit": {"type": "object", "properties": {
                name: {"type": t} for name, t in (
                    ("doc_id", "string"), ("title", "string"), ("source", "string"), ("url", "string"),
                    ("published", "string"), ("page", "integer"), ("text", "string"), ("score", "number"),
                    ("passage_id", "string"), ("doc_type", "string"), ("publisher", "string"))}},
        }},
    }

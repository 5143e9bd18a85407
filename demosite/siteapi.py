"""The demo site's two search APIs, answering as the real ones do: parameters checked, pages sliced.

The demo serves static files, but a crawler that pages wrongly or sends a parameter the
real API refuses must fail here as it would against GOV.UK or Parliament. So the Search API
(``/api/search.json``) answers 422 to an unknown parameter or a malformed filter and
honours ``start``/``count``; the Committees API (``/api/Publications``) honours
``Skip``/``Take``. Plain functions: stored JSON and a parsed query in, status and JSON out.
"""
from __future__ import annotations

import re

# GOV.UK Search API v1 (search-api's documented parameters); filter/reject/facet/aggregate
# take a field name after the prefix.
SEARCH_PARAMS = {"q", "order", "start", "count", "fields", "suggest", "ab_tests", "c", "debug", "cluster"}
SEARCH_PREFIXES = ("filter_", "reject_", "facet_", "aggregate_")
_TIMESTAMP = re.compile(r"^(?:from:\d{4}-\d{2}-\d{2})?(?:,?to:\d{4}-\d{2}-\d{2})?$")
MAX_COUNT = 1500


def search_api(stored: dict, query: dict[str, list[str]]) -> tuple[int, dict]:
    """Answer a Search API request from the stored result set."""
    for name, values in query.items():
        if name not in SEARCH_PARAMS and not name.startswith(SEARCH_PREFIXES):
            return 422, {"error": f"Unexpected parameters: {name}"}
        if name.endswith("public_timestamp") and name.startswith(("filter_", "reject_")):
            bad = [v for v in values if not v or not _TIMESTAMP.match(v)]
            if bad:
                return 422, {"error": f"Invalid {name} value: {bad[0]!r}"}
    try:
        start = int(query.get("start", ["0"])[-1])
        count = int(query.get("count", ["10"])[-1])
    except ValueError:
        return 422, {"error": "start and count must be integers"}
    if start < 0 or not 0 <= count <= MAX_COUNT:
        return 422, {"error": f"count must be between 0 and {MAX_COUNT}, start 0 or more"}
    results = list(stored.get("results") or [])
    return 200, {**stored, "results": results[start:start + count], "total": len(results), "start": start}


def committees_api(stored: dict, query: dict[str, list[str]]) -> tuple[int, dict]:
    """Answer a Committees API publications search (``Skip``/``Take`` paging)."""
    try:
        skip = int(query.get("Skip", ["0"])[-1])
        take = int(query.get("Take", ["30"])[-1])
    except ValueError:
        return 400, {"errors": {"Skip": ["The value is not valid."]}}
    items = list(stored.get("items") or [])
    return 200, {**stored, "items": items[skip:skip + take], "totalResults": len(items), "itemsPerPage": take}


# Request path → the function answering it, for paths whose static file is the full set.
APIS = {"/api/search.json": search_api, "/api/search": search_api, "/api/Publications": committees_api}

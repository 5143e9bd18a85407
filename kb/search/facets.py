"""Facet counts over search hits: how many hits fall under each source, theme, year and type.

Counted over a list of hits the caller already has (the web app passes the top 100 hits of the
unfiltered query), so the counts describe "where this query's evidence lies" and cost no
extra SQL. Plain functions of ``Hit``-like objects, testable without a knowledge base.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Protocol

FACETS = ("source", "theme", "year", "doc_type")


class HitLike(Protocol):
    source: str
    published: str | None
    doc_type: str | None
    themes: list[str]


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


def hit_year(hit: HitLike) -> str | None:
    """The four-digit year a hit was published, or None when its date is unknown."""
    m = re.match(r"^(\d{4})", hit.published or "")
    return m.group(1) if m else None


def _values(facet: str) -> Callable[[HitLike], Iterable[str]]:
    if facet == "source":
        return lambda h: [h.source] if h.source else []
    if facet == "theme":
        # A passage can state several barriers; it counts once under each of its themes.
        return lambda h: sorted(set(h.themes or []))
    if facet == "year":
        return lambda h: [y] if (y := hit_year(h)) else []
    if facet == "doc_type":
        return lambda h: [h.doc_type] if h.doc_type else []
    raise ValueError(f"unknown facet {facet!r}; expected one of {', '.join(FACETS)}")


def facet_values(hits: Iterable[HitLike], facet: str) -> list[FacetValue]:
    """Counts for one facet: years newest first, anything else largest count first."""
    values = _values(facet)
    counts = Counter(v for hit in hits for v in values(hit))
    if facet == "year":
        ordered = sorted(counts.items(), key=lambda kv: kv[0], reverse=True)
    else:
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [FacetValue(value, count) for value, count in ordered]


def facet_counts(hits: Iterable[HitLike], facets: Iterable[str] = FACETS) -> dict[str, list[FacetValue]]:
    """Every requested facet's counts, in the order asked for."""
    hits = list(hits)
    return {facet: facet_values(hits, facet) for facet in facets}


def facets_json(counts: dict[str, list[FacetValue]]) -> dict[str, dict[str, int]]:
    """``{"source": {"nao": 12, ...}, ...}`` with each facet's order kept."""
    return {facet: {v.value: v.count for v in values} for facet, values in counts.items()}

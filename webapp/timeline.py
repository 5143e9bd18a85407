"""Geometry of a recurrence timeline: years along an axis, one mark per occurrence.

Computed here and drawn by the template as inline SVG (server-side, no script), so the
picture exists without JavaScript and every mark is a real, focusable link.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

WIDTH = 960
PAD_X = 44
MARK_R = 13
STACK_GAP = 32
AXIS_GAP = 34  # from the lowest mark's centre to the axis
TOP = 40  # room for the "first said" label above the top mark
BOTTOM = 44  # tick labels below the axis
MAX_LABELS = 14
EVENT_GAP = 18  # between events of one year on the axis


@dataclass
class Tick:
    x: float
    year: int
    labelled: bool
    active: bool  # some occurrence falls in this year


@dataclass
class Mark:
    x: float
    y: float
    year: int
    href: str
    label: str
    first: bool
    index: int  # 1-based position in the occurrence list below the picture


@dataclass
class Event:
    """Something on the axis itself: a government response, or the target date it set."""
    x: float
    y: float
    year: int
    kind: str  # "response" or "target"
    href: str
    label: str


@dataclass
class Timeline:
    width: int
    height: int
    axis_y: float
    x0: float
    x1: float
    ticks: list[Tick] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    undated: list[dict] = field(default_factory=list)
    mark_r: int = MARK_R
    events: list[Event] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.marks


def occurrence_year(occurrence: dict) -> int | None:
    m = re.match(r"^(\d{4})", occurrence.get("published") or "")
    return int(m.group(1)) if m else None


def year_in(text: str | None) -> int | None:
    """The year a free-text date names ('March 2019', 'Spring 2018', '2018/19' → 2018), or None
    ('implemented')."""
    m = re.search(r"\b((?:19|20)\d{2})\b", text or "")
    return int(m.group(1)) if m else None


def layout(occurrences: list[dict], href, label, width: int = WIDTH,
           events: list[tuple[int, str, str, str]] = ()) -> Timeline:
    """Place ``occurrences`` (in list order) on a year axis.

    ``href(occ)`` and ``label(occ)`` give each mark's link and accessible name. Occurrences in
    the same year stack upwards; undated ones are returned in ``undated`` (listed, not drawn).
    ``events`` — ``(year, kind, href, label)`` of government responses and target dates — sit
    on the axis line itself, side by side when they share a year.
    """
    dated = [(i, o, occurrence_year(o)) for i, o in enumerate(occurrences, 1)]
    undated = [o for _, o, y in dated if y is None]
    dated = [(i, o, y) for i, o, y in dated if y is not None]
    if not dated:
        return Timeline(width, 0, 0, PAD_X, width - PAD_X, undated=undated)
    years = sorted({y for _, _, y in dated})
    lo, hi = min([years[0], *(e[0] for e in events)]), max([years[-1], *(e[0] for e in events)])
    if lo == hi:  # one year: give the axis a year either side so the mark sits in the middle
        lo, hi = lo - 1, hi + 1
    x0, x1 = PAD_X, width - PAD_X

    def x(year: int) -> float:
        return round(x0 + (year - lo) / (hi - lo) * (x1 - x0), 1)

    per_year: dict[int, int] = {}
    for _, _, y in dated:
        per_year[y] = per_year.get(y, 0) + 1
    tallest = max(per_year.values())
    axis_y = TOP + MARK_R + (tallest - 1) * STACK_GAP + AXIS_GAP
    height = int(axis_y + BOTTOM)
    step = max(1, math.ceil((hi - lo + 1) / MAX_LABELS))
    event_years = {e[0] for e in events}
    ticks = [Tick(x(y), y, (y - lo) % step == 0 or y in per_year or y in event_years, y in per_year)
             for y in range(lo, hi + 1)]
    # With many years, label only every step-th tick and the years that have marks.
    seen: dict[int, int] = {}
    marks = []
    first_year = years[0]
    for index, occ, y in dated:
        level = seen.get(y, 0)
        seen[y] = level + 1
        marks.append(Mark(x(y), axis_y - AXIS_GAP - level * STACK_GAP, y, href(occ), label(occ),
                          y == first_year and level == 0, index))
    placed: list[Event] = []
    at_year: dict[int, int] = {}
    for year, kind, link, text in sorted(events, key=lambda e: (e[0], e[1] != "response")):
        n = at_year.get(year, 0)
        at_year[year] = n + 1
        # Beside the occurrence stem (which stands on the tick), alternating right and left.
        offset = (1 if n % 2 == 0 else -1) * (EVENT_GAP * (n // 2 + 1))
        placed.append(Event(round(x(year) + offset, 1), axis_y, year, kind, link, text))
    return Timeline(width, height, axis_y, x0, x1, ticks, marks, undated, events=placed)


def story(years: list[int]) -> str:
    """'First said in 2014, repeated in 2017, 2018 and 2022.' — the sentence a journalist needs."""
    if not years:
        return "No dated occurrences."
    if len(years) == 1:
        return f"Said in {years[0]}, in more than one document."
    rest = [str(y) for y in years[1:]]
    repeated = rest[0] if len(rest) == 1 else ", ".join(rest[:-1]) + " and " + rest[-1]
    return f"First said in {years[0]}, repeated in {repeated}."

"""Dates in English prose, for every nlp module: the month names (once) and ``normalise_date``.

(The crawler reads publishers' dates with its own ``crawler.scope.parse_date``: it imports no
other stage, by the import contract.)
"""
from __future__ import annotations

import re

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
SHORT_MONTHS = "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
ANY_MONTH = f"{MONTHS}|{SHORT_MONTHS}"  # a month written out or abbreviated
# '8th February, 2017', '25 Oct 2017': day, month, year as three groups
DAY_MONTH_YEAR = rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+({MONTHS}|{SHORT_MONTHS})\.?,?\s+((?:19|20)\d{{2}})"


def month_number(name: str) -> int | None:
    """1 for 'January' or 'jan', ..., 12 for 'December'; None for anything else."""
    key = (name or "").strip().lower()[:3]
    names = [m[:3].lower() for m in MONTHS.split("|")]
    return names.index(key) + 1 if len(name.strip()) >= 3 and key in names else None


def normalise_date(value: str) -> str | None:
    """ISO date from an ISO timestamp or an English date ('8 February 2017'), else None."""
    from datetime import date

    value = (value or "").strip()
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", value)
    if m:
        try:  # '2023-13-45' is not a date: never store one that no calendar has
            return date(*map(int, m.groups())).isoformat()
        except ValueError:
            return None
    m = re.search(rf"\b(\d{{1,2}})\s+({MONTHS}|{SHORT_MONTHS})\.?\s+(\d{{4}})\b", value, re.I)
    if m:
        from datetime import datetime

        for fmt in ("%d %B %Y", "%d %b %Y"):
            try:
                month = m.group(2).title()[:3] if fmt == "%d %b %Y" else m.group(2).title()
                return datetime.strptime(f"{m.group(1)} {month} {m.group(3)}", fmt).date().isoformat()
            except ValueError:
                continue
    return None

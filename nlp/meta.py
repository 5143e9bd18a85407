"""Title and publication date recovered from the text when the file did not carry them.

An NAO cover page ends 'HC 1011 SESSION 2016–17 8 FEBRUARY 2017'; GOV.UK and NHS pages say
'Published: 8 February 2017' or 'Date published: 3 December, 2024'; a command paper says
'Presented to Parliament ... 16 January 2025'; failing all that, a month and year on the
first pages ('September 2017') or the year in the title.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime

from nlp.models import SourceDocument
from nlp.text import MONTHS, SHORT_MONTHS, normalise_date

log = logging.getLogger(__name__)

DATE = rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+({MONTHS}|{SHORT_MONTHS})\.?,?\s+((?:19|20)\d{{2}})"
LABELLED = re.compile(
    rf"(?:date\s+)?(?:published|publication\s+date|first\s+published|date\s+of\s+publication)\s*:?\s*(?:on\s+)?{DATE}",
    re.I,
)
SESSION = re.compile(rf"\bSESSION\s+(?:19|20)\d\d[–\-/]\d\d\s+{DATE}", re.I)
PRESENTED = re.compile(rf"(?:presented\s+to\s+parliament|ordered\s+by\s+the\s+house\s+of\s+commons)[\s\S]{{0,200}}?{DATE}", re.I)
ANY_DATE = re.compile(DATE, re.I)
MONTH_YEAR = re.compile(rf"^\s*({MONTHS})\s+((?:19|20)\d{{2}})\s*$", re.I | re.M)
YEAR = re.compile(r"\b((?:19|20)\d{2})\b")


def _iso(day: str, month: str, year: str) -> str | None:
    return normalise_date(f"{day} {month} {year}")


def recover_published(doc: SourceDocument) -> str | None:
    """An ISO date (or YYYY-MM) for the document, from its first pages."""
    head = "\n".join(doc.pages[:4])[:20000]
    for rx in (LABELLED, SESSION, PRESENTED):
        m = rx.search(head)
        if m:
            iso = _iso(*m.groups()[-3:])
            if iso:
                return iso
    first = "\n".join(doc.pages[:2])[:4000]
    m = ANY_DATE.search(first)
    if m:
        iso = _iso(*m.groups())
        if iso:
            return iso
    m = MONTH_YEAR.search(first)
    if m:
        month = datetime.strptime(m.group(1).title(), "%B").month
        return f"{m.group(2)}-{month:02d}"
    return None


def recover_title(doc: SourceDocument) -> str | None:
    """The first substantial lines of the first page with text."""
    for page in doc.pages[:3]:
        lines = []
        for raw in page.splitlines():
            line = re.sub(r"[*#_]+", "", raw).strip()
            if not line:
                if lines:
                    break
                continue
            if re.fullmatch(r"[\d\s.ivx]+|HC\s+\d+.*|CP\s*\d+.*|©.*|\d+\s+of\s+\d+", line, re.I) \
                    or ANY_DATE.fullmatch(line) or re.fullmatch(r"[•●\-–]\s*.*", line):
                if lines:
                    break
                continue
            if re.match(r"(?:date\s+)?(?:published|last\s+updated)", line, re.I):
                continue
            lines.append(line)
            if len(" ".join(lines)) > 120 or len(lines) >= 5:
                break
        if lines:
            return " ".join(" ".join(lines).split())[:200]
    return None


def recover_metadata(doc: SourceDocument) -> tuple[str | None, str | None]:
    """(title, published): the document's own values when present, else recovered ones."""
    title = doc.title or recover_title(doc)
    published = doc.published or recover_published(doc)
    if published is None and title:
        m = YEAR.search(title)
        if m:
            published = m.group(1)
    return title, published

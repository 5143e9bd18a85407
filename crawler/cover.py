"""What an NAO report's cover page says: departments, title, HC number, session and date.

The cover of every NAO value-for-money report reads, top to bottom::

    Report by the Comptroller and Auditor General
    <departments>
    <title>
    HC <n> SESSION <yyyy–yy> <day month year>

The report page on the website usually says the same, but not always (and a PDF found by
another route has no page at all), so the crawler reads the cover too and fills what the
page left out. Plain functions: PDF bytes or text in, a dict out.
"""
from __future__ import annotations

import re

import pypdfium2 as pdfium

from crawler.scope import parse_date, parse_session

_REPORT_BY = re.compile(r"report\s+by\s+the\s+comptroller\s+and\s+auditor\s+general", re.IGNORECASE)
_HC_LINE = re.compile(
    r"\bHC\s+(?P<hc>\d+(?:-[IVX]+)?)\s+SESSION\s+(?P<session>\d{4}\s*[-\u2013\u2014]\s*\d{2,4})"
    r"(?:\s+(?P<date>\d{1,2}\s+[A-Za-z]+\s+\d{4}))?",
    re.IGNORECASE,
)

_BODY = re.compile(r"\b(?:Department|Ministry|NHS England|NHS Improvement|HM Treasury|Cabinet Office|"
                   r"Home Office|Office for|Agency|Commission|Executive|Authority)\b")


def first_page_text(body: bytes) -> str:
    """The text of a PDF's first page ('' when it cannot be read: the pipeline judges that)."""
    try:
        document = pdfium.PdfDocument(body)
    except pdfium.PdfiumError:
        return ""
    try:
        if len(document) == 0:
            return ""
        page = document[0]
        textpage = page.get_textpage()
        try:
            return textpage.get_text_range()
        finally:
            textpage.close()
            page.close()
    finally:
        document.close()


def read_cover(text: str) -> dict:
    """``{"hc_number", "session", "published", "title", "departments"}`` from a cover page's
    text; keys it cannot find are left out."""
    lines = [" ".join(line.split()) for line in text.replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    found: dict = {}
    hc_at = next((i for i, line in enumerate(lines) if _HC_LINE.search(line)), None)
    if hc_at is None:
        return found
    match = _HC_LINE.search(lines[hc_at])
    found["hc_number"] = match.group("hc")
    found["session"] = parse_session(match.group("session"))
    published = parse_date(match.group("date") or (lines[hc_at + 1] if hc_at + 1 < len(lines) else ""))
    if published:
        found["published"] = published
    by_at = next((i for i, line in enumerate(lines[:hc_at]) if _REPORT_BY.search(line)), None)
    if by_at is not None and hc_at - by_at >= 2:
        between = lines[by_at + 1:hc_at]
        # Departments come first, one or more lines naming bodies; the title (perhaps
        # wrapped over lines) follows.
        split = 0
        while split < len(between) - 1 and _BODY.search(between[split]):
            split += 1
        found["departments"] = " ".join(between[:split])
        found["title"] = " ".join(between[split:])
    return {key: value for key, value in found.items() if value}

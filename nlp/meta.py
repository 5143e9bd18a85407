"""Title and publication date recovered from the text when the file did not carry them.

An NAO cover page ends 'HC 1011 SESSION 2016–17 8 FEBRUARY 2017'; GOV.UK and NHS pages say
'Published: 8 February 2017' or 'Date published: 3 December, 2024'; a command paper says
'Presented to Parliament ... 16 January 2025'; failing all that, a month and year on the
first pages ('September 2017') or the year in the title.
"""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from nlp.models import SourceDocument
from nlp.cover import SESSION_DATE
from nlp.dates import DAY_MONTH_YEAR, MONTHS, normalise_date

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"

DATE = DAY_MONTH_YEAR
LABELLED = re.compile(
    rf"(?:date\s+)?(?:published|publication\s+date|first\s+published|date\s+of\s+publication)\s*:?\s*(?:on\s+)?{DATE}",
    re.I,
)
PRESENTED = re.compile(rf"(?:presented\s+to\s+parliament|ordered\s+by\s+the\s+house\s+of\s+commons)[\s\S]{{0,200}}?{DATE}", re.I)
ANY_DATE = re.compile(DATE, re.I)
MONTH_YEAR = re.compile(rf"^\s*({MONTHS})\s+((?:19|20)\d{{2}})\s*$", re.I | re.M)
YEAR = re.compile(r"\b((?:19|20)\d{2})\b")


def _iso(day: str, month: str, year: str) -> str | None:
    return normalise_date(f"{day} {month} {year}")


def recover_published(doc: SourceDocument) -> str | None:
    """An ISO date (or YYYY-MM) for the document, from its first pages."""
    # the cover of a PDF, or the top of an unpaged file (deeper down, 'published' is a citation)
    head = "\n".join(doc.pages[:4])[:20000] if doc.paged else doc.text[:5000]
    if not doc.paged:
        # a date on a line of its own among the first lines is the cover date ('23 July 2025')
        for line in doc.text[:800].splitlines()[:15]:
            m = ANY_DATE.fullmatch(re.sub(r"[*_#]+", "", line).strip())
            if m:
                iso = _iso(*m.groups())
                if iso:
                    return iso
    for rx in (LABELLED, SESSION_DATE, PRESENTED):  # SESSION_DATE: an NAO cover's date
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


@lru_cache(maxsize=4)
def load_title_rules(path: str | None = None) -> tuple[re.Pattern, re.Pattern]:
    """(skip_lines, bad_titles) from ``nlp/data/title_boilerplate.json`` (or ``path``)."""
    data = _title_data(path)

    def alt(items: list[str]) -> re.Pattern:
        return re.compile(r"^(?:" + "|".join(f"(?:{x})" for x in items) + r")\s*[:.]?$", re.I)

    return alt(data.get("skip_lines", [])), alt(data.get("bad_titles", []))


@lru_cache(maxsize=4)
def _title_data(path: str | None = None) -> dict:
    p = Path(path) if path else DATA_DIR / "title_boilerplate.json"
    return json.loads(p.read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def margin_text(path: str | None = None) -> re.Pattern | None:
    """A publisher's margin text ('BMJ Open: first published as …'), from the same file."""
    items = _title_data(path).get("margin_text", [])
    return re.compile("|".join(f"(?:{x})" for x in items), re.I) if items else None


def _clean_line(raw: str) -> str:
    line = re.sub(r"<[^>]+>", " ", raw)
    line = re.sub(r"[*#_`]+", "", line)
    margin = margin_text()
    if margin is not None:
        line = margin.sub(" ", line)
    return " ".join(line.split()).strip(" |")


_CONNECTOR = re.compile(r"(?:\b(?:the|of|and|for|to|in|on|a|an|with|from|by|at|or|into|towards)|[:,–—\-&])$", re.I)
_LABEL_LINE = re.compile(r"^[A-Z][\w ]{0,25}:\s*\S")


def recover_title(doc: SourceDocument) -> str | None:
    """The title from the first lines of the first page with text.

    Boilerplate lines (a classification, 'Open access', a publisher's name, a date, page
    numbers) are skipped; then lines are joined while the title is still unfinished — it
    has fewer than four words, ends with a connecting word ('FIT FOR' / 'THE FUTURE'), or
    the next line carries on in lower case. PDF-to-markdown conversion splits cover titles
    like this, often with blank lines in between. A date, an author or label line, a
    quotation or a long line ends the title.
    """
    skip, bad = load_title_rules()
    for page in doc.pages[:3]:
        lines: list[str] = []
        blanks = 0
        blanks_seen = False  # a blank line inside the title so far (a markdown-style cover)
        for raw in page.splitlines()[:80]:
            line = _clean_line(raw)
            if not line:
                blanks += 1
                blanks_seen = blanks_seen or bool(lines)
                if lines and blanks > 2:
                    break
                continue
            blanks = 0
            words = len(line.split())
            boiler = skip.match(line) or ANY_DATE.fullmatch(line) or MONTH_YEAR.fullmatch(line) \
                or re.fullmatch(r"[\d\s.ivx]+|HC\s+\d+.*|CP\s*\d+.*|Cm\s*\d+.*|\d+\s+of\s+\d+", line, re.I) \
                or re.match(r"(?:date\s+)?(?:published|last\s+updated)", line, re.I) or re.fullmatch(r"[•●\-–]\s*.*", line)
            if lines:
                so_far = " ".join(lines)
                unfinished = len(so_far.split()) < 4 or _CONNECTOR.search(so_far) or line[:1].islower() \
                    or (doc.paged and not blanks_seen and len(so_far.split()) + words <= 12)
                dangling = _CONNECTOR.search(so_far)  # '… systems in the' must go on: 'NHS: a review' is no label
                if boiler or line[:1] in "‘“\"'" or words > 16 or ANY_DATE.search(line) \
                        or (_LABEL_LINE.match(line) and not dangling) \
                        or not unfinished or (line[:1].isdigit() and not dangling):
                    break
                lines.append(line)
            elif not boiler and line[:1] not in "‘“\"'" and words <= 20 and not _LABEL_LINE.match(line) \
                    and not bad.match(line):  # 'Introduction', 'Overview': a section's heading, never a title's start
                lines.append(line)
            if len(" ".join(lines)) > 160 or len(lines) >= 6:
                break
        if lines:
            title = " ".join(" ".join(lines).split())[:200].strip(" :,–-")
            return None if bad.match(title) or _SELF_REFERENCE.match(title) else title
    return None


# 'This document gives an overview of …': a document's first sentence about itself, not its title.
# (The verb in lower case: 'This Is England' is a title.)
_SELF_REFERENCE = re.compile(r"^(?:[Tt]his|THIS|[Tt]he following)\s+(?:[\w\-]+\s+){0,2}?(?:gives?|sets?\s+out|"
                             r"describes?|provides?|summari[sz]es?|explains?|outlines?|presents?|is|are|was|has|will|"
                             r"aims?)\b")


def plausible_title(title: str | None, doc: SourceDocument) -> bool:
    """Whether a title the loader found (a first markdown heading, a PDF's metadata title)
    reads as a title: not 'Document Outline', not a file name, and for markdown a heading
    near the top of the file."""
    if not title:
        return False
    _, bad = load_title_rules()
    title = " ".join(title.split())
    if bad.match(title) or len(title) < 3:
        return False
    if doc.format == "markdown":
        text = doc.text
        at = text.find(title)
        if at > max(3000, len(text) // 10):
            return False  # a heading deep inside the file ('Document Outline' of a PDF dump)
        if len(title.split()) == 1:
            return False  # 'Framework' is the tail of a cover title split over lines
    return True


def recover_metadata(doc: SourceDocument) -> tuple[str | None, str | None]:
    """(title, published): the document's own values when present, else recovered ones.

    A loaded title that does not read as one (see ``plausible_title``) is replaced by the
    title recovered from the text, when there is one.
    """
    title = doc.title
    if not plausible_title(title, doc):
        title = recover_title(doc) or title
    published = doc.published or recover_published(doc)
    if published is None and title:
        m = YEAR.search(title)
        if m:
            published = m.group(1)
    return title, published

"""Who published a document and its paper numbers, read from its cover.

A file ingested from disk carries no publisher. Its cover says who it is:

* a Commons committee report: 'House of Commons / Health and Social Care Committee /
  <title> / Fourth Report of Session 2024–25 / … / HC 381 / Published on 14 April 2025 by
  authority of the House of Commons';
* a Lords committee report: 'HOUSE OF LORDS / <committee> / 2nd Report of Session 2010–12 /
  <title> / … published 19 July 2011 / Published by the Authority of the House of Lords / HL Paper 179';
* a Command Paper (government responses, Treasury Minutes): 'Presented to Parliament by the
  Secretary of State for … by Command of His Majesty / February 2025 / CP 1248' (or 'Cm 9504');
* an NAO report: 'Report by the Comptroller and Auditor General / … / HC 1011 SESSION 2016–17 …';
* an inquiry report: 'UK Covid-19 Inquiry', 'Infected Blood Inquiry' on the cover.

``read_cover`` returns what it finds: ``publisher``, ``identifiers`` (``hc_number``,
``hl_paper``, ``command_paper_number``, ``session``), ``published``, ``title`` (committee
reports only, where the cover lays it out) and ``doc_type``.
"""
from __future__ import annotations

import re

from nlp.models import SourceDocument
from nlp.dates import MONTHS, normalise_date

_DATE = rf"(\d{{1,2}}\s+(?:{MONTHS})\s+(?:19|20)\d{{2}})"
HC = re.compile(r"\bHC\s*(\d{1,4}(?:-[IVX]+)?)\b")
HL = re.compile(r"\bHL\s+Paper\s+(\d{1,4})\b", re.I)
CP = re.compile(r"\b(CP|Cm|Cmnd)\s*(\d{2,5})\b")
SESSION = re.compile(r"\bSession\s+((?:19|20)\d{2})\s*[–\-/]\s*(\d{2,4})", re.I)
PUBLISHED_ON = re.compile(rf"\bpublished\s+(?:on\s+)?{_DATE}", re.I)
AUTHORITY = re.compile(r"by\s+(?:the\s+)?authority\s+of\s+the\s+House\s+of\s+(Commons|Lords)", re.I)
HOUSE_LINE = re.compile(r"^House\s+of\s+(Commons|Lords)$", re.I)
COMMITTEE_LINE = re.compile(r"^(?:(?:[A-Z][\w,’'&\-]*|and|of|for|the|on)\s+){0,8}(?:Select\s+)?Committee$|^Committee\s+of\s+(?:[A-Z]\w*\s*){1,4}$")
REPORT_OF_SESSION = re.compile(r"^\w+\s+Report\s+of\s+Session\b", re.I)
PRESENTED_BY = re.compile(r"Presented\s+to\s+Parliament\s+by\s+(?:the\s+)?(.{3,90}?)\s+by\s+Command", re.I | re.S)
NAO = re.compile(r"report\s+by\s+the\s+comptroller\s+and\s+auditor\s+general|national\s+audit\s+office", re.I)
INQUIRY = re.compile(r"\b((?:UK\s+|The\s+)?(?:[A-Z][\w\-]*\s+){0,4}Inquiry)\b")
RESPONSE = re.compile(r"\b(?:government\s+response|treasury\s+minutes|response\s+to\s+the)\b", re.I)
DEPARTMENTS = {  # 'Presented to Parliament by the Secretary of State for …'
    "health and social care": "Department of Health and Social Care", "health": "Department of Health",
    "transport": "Department for Transport", "education": "Department for Education",
    "work and pensions": "Department for Work and Pensions", "justice": "Ministry of Justice",
    "the home department": "Home Office", "defence": "Ministry of Defence",
    "housing, communities and local government": "Ministry of Housing, Communities and Local Government",
    "levelling up, housing and communities": "Department for Levelling Up, Housing and Communities",
    "environment, food and rural affairs": "Department for Environment, Food and Rural Affairs",
    "culture, media and sport": "Department for Culture, Media and Sport",
    "science, innovation and technology": "Department for Science, Innovation and Technology",
    "business and trade": "Department for Business and Trade", "energy security and net zero":
    "Department for Energy Security and Net Zero", "foreign, commonwealth and development affairs":
    "Foreign, Commonwealth and Development Office", "scotland": "Scotland Office", "wales": "Wales Office",
    "northern ireland": "Northern Ireland Office",
}
MINISTERS = {
    "exchequer secretary to the treasury": "HM Treasury", "chancellor of the exchequer": "HM Treasury",
    "chief secretary to the treasury": "HM Treasury", "prime minister": "Cabinet Office",
    "chancellor of the duchy of lancaster": "Cabinet Office", "paymaster general": "Cabinet Office",
}


def _lines(doc: SourceDocument) -> list[str]:
    head = "\n".join(doc.pages[:2]) if doc.paged else doc.text[:4000]
    return [" ".join(line.split()) for line in head.splitlines() if line.strip()]


def read_cover(doc: SourceDocument) -> dict:
    """Publisher, paper numbers, date, title and kind read from the cover (keys found only)."""
    lines = _lines(doc)
    flat = " ".join(lines)
    out: dict = {"identifiers": _identifiers(flat)}
    m = PUBLISHED_ON.search(flat)
    if m and normalise_date(m.group(1)):
        out["published"] = normalise_date(m.group(1))
    house = AUTHORITY.search(flat) or next((HOUSE_LINE.match(line) for line in lines[:6] if HOUSE_LINE.match(line)), None)
    if re.search(r"\btreasury\s+minutes\b", flat[:300], re.I):
        out["publisher"] = "HM Treasury"
    elif house:
        _committee_cover(lines, f"House of {house.group(1).title()}", out)
    elif PRESENTED_BY.search(flat) and out["identifiers"].get("command_paper_number"):
        out["publisher"] = _minister_department(PRESENTED_BY.search(flat).group(1))
    elif RESPONSE.search(flat[:600]) and out["identifiers"].get("command_paper_number"):
        out["publisher"] = "HM Government"  # a government response to an inquiry names the inquiry too
    elif NAO.search(flat[:600]):
        out["publisher"] = "National Audit Office"
    elif INQUIRY.search(flat[:800]):
        out["publisher"] = _inquiry(flat[:800])
    elif out["identifiers"].get("command_paper_number") or re.search(r"\bgovernment\s+response\b", flat[:300], re.I):
        out["publisher"] = "HM Government"
    if RESPONSE.search(flat[:600]):
        out["doc_type"] = "government_response"
    out["identifiers"] = {k: v for k, v in out["identifiers"].items() if v}
    return {k: v for k, v in out.items() if v}


def _identifiers(flat: str) -> dict:
    ids: dict = {}
    m = HC.search(flat)
    ids["hc_number"] = m.group(1) if m else None
    m = HL.search(flat)
    ids["hl_paper"] = m.group(1) if m else None
    m = CP.search(flat)
    ids["command_paper_number"] = f"{m.group(1)} {m.group(2)}" if m else None
    m = SESSION.search(flat)
    ids["session"] = f"{m.group(1)}-{m.group(2)[-2:]}" if m else None
    return ids


def _committee_cover(lines: list[str], house: str, out: dict) -> None:
    """'House of Commons / X Committee / <title> / Fourth Report of Session …' (title may come after)."""
    committee = next((line for line in lines[:8] if COMMITTEE_LINE.match(line)), None)
    out["publisher"] = f"{house} {committee}" if committee else house
    out["doc_type"] = "committee_report"
    at = next((i for i, line in enumerate(lines[:12]) if REPORT_OF_SESSION.match(line)), None)
    if at is None:
        return
    start = lines.index(committee) + 1 if committee in lines[:at] else 0
    before = [line for line in lines[start:at] if not HOUSE_LINE.match(line)]
    after = []
    for line in lines[at + 1:at + 4]:
        if re.match(r"^(?:Report|Ordered|Published|HC\s|HL\s)", line, re.I):
            break
        after.append(line)
    title = " ".join(before or after).strip()
    if 3 <= len(title) <= 200:
        out["title"] = title


def _minister_department(who: str) -> str:
    who = " ".join(who.split()).lower()
    if who in MINISTERS:
        return MINISTERS[who]
    m = re.match(r"secretary\s+of\s+state\s+for\s+(.+)$", who)
    return DEPARTMENTS.get(m.group(1).strip(" ,"), "HM Government") if m else "HM Government"


def _inquiry(head: str) -> str | None:
    names = [n.strip() for n in INQUIRY.findall(head)]
    names = [re.sub(r"^(?:(?:The|Report|A|An|Final|Interim)\s+)+", "", n) for n in names]
    names = [n for n in names if not re.match(r"^inquiry$", n, re.I)]
    return max(names, key=len) if names else None

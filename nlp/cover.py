"""Who published a document and its paper numbers, read from its cover.

A file ingested from disk carries no publisher. Its cover says who it is:

* a Commons committee report: 'House of Commons / Health and Social Care Committee /
  <title> / Fourth Report of Session 2024–25 / … / HC 381 / Published on 14 April 2025 by
  authority of the House of Commons';
* a Lords committee report: 'HOUSE OF LORDS / <committee> / 2nd Report of Session 2010–12 /
  <title> / … published 19 July 2011 / Published by the Authority of the House of Lords / HL Paper 179';
* a Command Paper (government responses, Treasury Minutes): 'Presented to Parliament by the
  Secretary of State for … by Command of His Majesty / February 2025 / CP 1248' (or 'Cm 9504');
* an NAO report: 'Report by the Comptroller and Auditor General / <departments> / <title> /
  HC 1011 SESSION 2016–17 8 FEBRUARY 2017' (the date sometimes on the next line);
* an inquiry report: 'UK Covid-19 Inquiry', 'Infected Blood Inquiry' on the cover.

``read_cover`` returns what it finds: ``publisher``, ``identifiers`` (``hc_number``,
``hl_paper``, ``command_paper_number``, ``session`` as '2016-17', and for an NAO report
``departments``), ``published``, ``title`` (committee and NAO reports, where the cover lays
it out) and ``doc_type``.

This is the one reader of covers: the crawler stores what the publisher's page says, and
ingest fills the stored document's gaps (an NAO report's departments, a file found without a
page) from this extraction.
"""
from __future__ import annotations

import re

from nlp.models import SourceDocument
from nlp.dates import DAY_MONTH_YEAR, MONTHS, normalise_date

_DATE = rf"(\d{{1,2}}\s+(?:{MONTHS})\s+(?:19|20)\d{{2}})"
HC = re.compile(r"\bHC\s*(\d{1,4}(?:-[IVX]+)?)\b")
HL = re.compile(r"\bHL\s+Paper\s+(\d{1,4})\b", re.I)
CP = re.compile(r"\b(CP|Cm|Cmnd)\s*(\d{2,5})\b")
_SPAN = r"((?:19|20)\d{2})\s*[–—\-/]\s*(\d{2,4})"  # '2016–17', '2017-2019'
SESSION = re.compile(rf"\bSession\s+{_SPAN}", re.I)
# The NAO's cover line 'HC 1011 SESSION 2016–17 8 FEBRUARY 2017'; nlp.meta reads its date too.
SESSION_DATE = re.compile(rf"\bSESSION\s+{_SPAN}\s+{DAY_MONTH_YEAR}", re.I)
NAO_HC_LINE = re.compile(rf"\bHC\s+\d+(?:-[IVX]+)?\s+SESSION\s+{_SPAN}", re.I)
NAO_BODY = re.compile(r"\b(?:Department|Ministry|NHS England|NHS Improvement|HM Treasury|Cabinet Office|"
                      r"Home Office|Office for|Agency|Commission|Executive|Authority)\b")
PUBLISHED_ON = re.compile(rf"\bpublished\s+(?:on\s+)?{_DATE}", re.I)
AUTHORITY = re.compile(r"by\s+(?:the\s+)?authority\s+of\s+the\s+House\s+of\s+(Commons|Lords)", re.I)
HOUSE_LINE = re.compile(r"^House\s+of\s+(Commons|Lords)$", re.I)
COMMITTEE_LINE = re.compile(r"^(?:(?:[A-Z][\w,’'&\-]*|and|of|for|the|on)\s+){0,8}(?:Select\s+)?Committee$|^Committee\s+of\s+(?:[A-Z]\w*\s*){1,4}$")
REPORT_OF_SESSION = re.compile(r"^\w+\s+Report\s+of\s+Session\b", re.I)
PRESENTED_BY = re.compile(r"Presented\s+to\s+Parliament\s+by\s+(?:the\s+)?(.{3,90}?)\s+by\s+Command", re.I | re.S)
REPORT_BY = re.compile(r"report\s+by\s+the\s+comptroller\s+and\s+auditor\s+general", re.I)
NAO = re.compile(rf"{REPORT_BY.pattern}|national\s+audit\s+office", re.I)
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
        _nao_cover(lines, out)
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
    ids["session"] = session(m.group(1), m.group(2)) if m else None
    return ids


def session(start: str, end: str) -> str | None:
    """A parliamentary session as '2016-17' (the one format, the crawler's too), from its
    years as printed ('2016', '2017' or '17'); None for a span no session has."""
    span = (int(end[-2:]) - int(start)) % 100
    return f"{start}-{end[-2:]}" if 1 <= span <= 3 else None  # a year, sometimes two (2017-19)


def _nao_cover(lines: list[str], out: dict) -> None:
    """'Report by the Comptroller and Auditor General / <departments> / <title> / HC <n>
    SESSION <yyyy–yy> <date>': the departments audited, the title and the date."""
    hc_at = next((i for i, line in enumerate(lines[:40]) if NAO_HC_LINE.search(line)), None)
    if hc_at is None:
        return
    m = SESSION_DATE.search(" ".join(lines[hc_at:hc_at + 2]))
    if m and not out.get("published") and normalise_date(" ".join(m.groups()[-3:])):
        out["published"] = normalise_date(" ".join(m.groups()[-3:]))
    by_at = next((i for i, line in enumerate(lines[:hc_at]) if REPORT_BY.search(line)), None)
    if by_at is None or hc_at - by_at < 2:
        return
    between = lines[by_at + 1:hc_at]
    split = 0  # departments come first, one or more lines naming bodies; the title follows
    while split < len(between) - 1 and NAO_BODY.search(between[split]):
        split += 1
    if split:
        out["identifiers"]["departments"] = " ".join(between[:split])
    out["title"] = " ".join(between[split:])


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


def document_metadata(doc: SourceDocument) -> dict:
    """Title, date, publisher, paper numbers and kind of a document, from the document itself:
    what a file found without a publisher's page carries (``kb ingest FOLDER``)."""
    from nlp.meta import plausible_title, recover_metadata
    from nlp.provenance import cover_span_year, other_publisher, pdf_created

    title, published = recover_metadata(doc)
    cover = read_cover(doc)
    if cover.get("publisher") == "National Audit Office":
        if cover.get("title") and not plausible_title(doc.title, doc):
            title = cover["title"]  # the cover's title line beats a guess from the first lines
    elif cover.get("title") and cover["title"].lower() not in (doc.title or "").lower():
        title = cover["title"]  # a committee report's cover beats a PDF's 'Committee Report 4.3'
    published = doc.published or cover.get("published") or published
    orgs = ", ".join(doc.meta.get("organisations") or [])
    publisher = orgs or cover.get("publisher") or text_publisher(doc)
    if not published:  # a journal's running head: 'Iqbal et al. BMC Public Health (2025) 25:1374'
        m = re.search(rf"{JOURNAL.pattern}\s*\(((?:19|20)\d{{2}})\)", doc.text[:1500])
        published = m.group(2) if m else None
    published = published or cover_span_year(doc) or pdf_created(doc)  # weakest evidence last
    if doc.format == "govuk-json" and orgs and doc.title and _GENERIC_PAGE.match(doc.title.strip()):
        title = f"{doc.title.strip()} – {orgs}"  # GOV.UK's 'About us' is the organisation's page
    elif title and not plausible_title(title, doc) and _stem_like(title, doc):
        title = None  # a file name is not a title
    if title:
        title = _TRAILING_DATE.sub("", title).strip() or title
    if title and _FRAGMENT.search(title) and not _GENERIC_PAGE.match((doc.title or "").strip()):
        title = doc.title if doc.title and not _FRAGMENT.search(doc.title) and plausible_title(doc.title, doc) else None
    publisher = publisher or other_publisher(doc, title)  # a reference scheme, own site, back cover
    return {"title": title, "published": published, "publisher": publisher,
            "identifiers": cover.get("identifiers", {}), "doc_type": cover.get("doc_type")}


_TRAILING_DATE = re.compile(r"\s+(?:published|updated)\s+(?:end\s+|early\s+|mid\s+)?[A-Z][a-z]+\s+(?:19|20)\d{2}$", re.I)
_GENERIC_PAGE = re.compile(r"^(?:about\s+us|contact\s+us|our\s+(?:work|responsibilities)|what\s+we\s+do|home)$", re.I)
# 'Our responsibilities We are responsible for': the opening words of a sentence, not a title.
_FRAGMENT = re.compile(r"\b(?:we|you|they|it)\s+(?:are|were|have|will|can|do)\b(?!.*[:?])", re.I)
ORG_WORDS = re.compile(r"\b(?:Inquiry|Office|Department|Ministry|Committee|Council|NHS|Foundation|Trust|Association|"
                       r"Institute|Library|Government|Commission|Agency|Board|Fund|Authority|University|Partnership|"
                       r"Research|Treasury|Parliament|House of (?:Commons|Lords)|Service|Network|Centre|Society|"
                       r"College|Group|Public Health|BMJ|BMC|Care Quality|Ofsted|Limited|Ltd|Consulting)\b")
_ACRONYM = re.compile(r"^[A-Z]{2,6}$")
_SOFTWARE = re.compile(r"acrobat|microsoft|word|indesign|pdf|quartz|skia|latex|writer|office\s+\d", re.I)
COPYRIGHT = re.compile(r"(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:(?:19|20)\d{2}\s+)?([A-Z][\w’'&.,\- ]{1,80}?)\s*(?:,?\s*(?:19|20)\d{2})?\s*(?:[.;]|$)",
                       re.M)
PUBLISHED_BY = re.compile(r"\bpublished\s+by\s+(?:the\s+)?([A-Z][\w’'&\- ]{2,80}?)\s*(?:[.,;(]|\bin\b|\bon\b|$)", re.M)
SELF_DESCRIBED = re.compile(r"^(?:\W*)((?:The\s+)?[A-Z][\w’'&\- ]{1,70}?)(?:,\s+[^,]{3,80},)?\s+is\s+(?:a|an|the\s+UK[’']s)\s+"
                            r"(?:[\w\-]+\s+){0,5}(?:think\s+tank|charity|research|organisation|body|service|"
                            r"department|institute|network|partnership)", re.M)
JOURNAL = re.compile(r"\b(BMJ\s+Open|BMC\s+[A-Z]\w+(?:\s+[A-Z]\w+)?|The\s+Lancet|PLOS\s+\w+)\b")


def _org(name: str | None) -> str | None:
    """A publisher candidate that names an organisation ('IPPR', 'National Audit Office'), or None
    ('The Author(s)', a person, a program that made the PDF)."""
    name = " ".join((name or "").replace("\\", "").split()).strip(" .,;:*")
    if not name or len(name) > 90 or _SOFTWARE.search(name) or re.search(r"author|rights\s+reserved", name, re.I):
        return None
    if name.lower().startswith("crown"):
        return "HM Government"
    name = re.sub(r"\s+(?:and\s+)?(?:(?:19|20)\d{2}|\d{1,3})$", "", name)  # a year, or a running head's page number
    return name if ORG_WORDS.search(name) or _ACRONYM.match(name) else None


def _self_named(name: str) -> str | None:
    """A body that says what it is ('Reform is a registered charity'): its name needs no
    organisation word, only to be a name (capitalised, up to six words, not 'It' or 'This')."""
    name = " ".join(name.split()).strip(" .,;:")
    if not name or len(name.split()) > 6 or re.match(r"^(?:it|this|that|he|she|there|which|the\s+(?:report|paper|plan))\b", name, re.I):
        return None
    return name


def text_publisher(doc: SourceDocument) -> str | None:
    """Who published a document with no cover read by ``read_cover``: the PDF's or page's
    author when it names an organisation ('UK Covid-19 Inquiry', not 'coopersk'), 'Published
    by …', a copyright line ('© IPPR 2020'; '© Crown copyright 2023' is HM Government), the
    body describing itself ('The House of Commons Library is a research and information
    service'), a journal's running head ('BMC Public Health (2025) 25:1374')."""
    pdf = doc.meta.get("pdf") or {}
    for name in (pdf.get("author"), doc.meta.get("publisher")):
        if _org(name):
            return _org(name)
    text = re.sub(r"[*_]+", "", doc.text)  # Markdown emphasis around a name ('*Reform* is a …')
    head = text[:6000]
    tail = text[-8000:] if len(text) > 14000 else ""
    for region in (head, tail):
        for rx in (PUBLISHED_BY, COPYRIGHT, SELF_DESCRIBED):
            for m in rx.finditer(region):
                name = _org(m.group(1)) or (_self_named(m.group(1)) if rx is SELF_DESCRIBED else None)
                if name:
                    return name
    m = JOURNAL.search(head[:1500])
    return " ".join(m.group(1).split()) if m else None


def _stem_like(title: str, doc: SourceDocument) -> bool:
    """Whether a title is the file's name ('system-metrics-reference-guide')."""
    from pathlib import Path

    stem = re.sub(r"[\W_]+", " ", Path(doc.path).stem).strip().lower()
    return re.sub(r"[\W_]+", " ", title).strip().lower() == stem

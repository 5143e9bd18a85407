"""Who published a document, and when, from evidence *other than* its cover: what a web page
printed to Markdown, a plain-text summary or a data appendix still carries.

``nlp.cover`` reads covers, imprints and copyright lines. Documents converted from a web page
or written as plain text often have none, yet they say who made them in other ways:

* a publisher's own reference scheme: 'Publication reference: PRN01625' is NHS England's
  (``REFERENCE_SCHEMES``), as 'Publications approval reference' was NHS England's and NHS
  Improvement's; any other 'Publication reference:' line counts only when the document names
  the body that issues it;
* the publisher's own site: a figure of the page hosted there
  ('https://www.england.nhs.uk/wp-content/uploads/2025/09/….jpg'), or the document's own
  address ('Full version is available online here: https://www.healthandcareleeds.org/
  publications/healthy-leeds-plan/', its path naming the title). The site is named from a
  short table of publishers' domains (``SITES``) or by an organisation the text names whose
  words make up the domain ('Leeds Health and Care Partnership' for healthandcareleeds.org);
* 'developed by the System Insight and Analysis team within the System Transformation
  directorate of NHS England' (``MADE_BY``);
* a back cover: the last lines of the document are a body's name ('Leeds / Health and
  Wellbeing / Board').

A body only *cited* ('the SitRep dataset from NHS England', a reference list's 'Department
of Health and Social Care. ‘…’ 2021') is never taken for the publisher: with no evidence the
publisher stays empty.

Dates: a cover's year span on its own line under the title ('2023 - 2028': a plan is dated
by its first year, as the title's year already is) and, last of all, a PDF's creation date
(what the file's own metadata says).
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from nlp.models import SourceDocument

# Reference numbers only one publisher issues: 'Publication reference: PRN01625'.
REFERENCE_SCHEMES = ((re.compile(r"\bPublications?\s+(?:approval\s+)?reference\s*:?\s*(?:PRN|PAR)\s*\d{3,6}", re.I),
                      "NHS England"),)
REFERENCE_LINE = re.compile(r"^\W*Publications?\s+(?:approval\s+)?reference\s*:\s*\S", re.I | re.M)
# Bodies that issue 'Publication reference:' lines, and the names the text must use for them.
REFERENCE_ISSUERS = ("NHS England", "NHS Improvement", "Health Education England", "UK Health Security Agency")

# Publishers' own domains (host suffix -> publisher), for sites whose name is not spelled in the domain.
SITES = {
    "england.nhs.uk": "NHS England", "improvement.nhs.uk": "NHS Improvement", "digital.nhs.uk": "NHS Digital",
    "hee.nhs.uk": "Health Education England", "nao.org.uk": "National Audit Office",
    "health.org.uk": "The Health Foundation", "kingsfund.org.uk": "The King's Fund",
    "nuffieldtrust.org.uk": "Nuffield Trust", "local.gov.uk": "Local Government Association",
    "cqc.org.uk": "Care Quality Commission", "commonslibrary.parliament.uk": "House of Commons Library",
    "lordslibrary.parliament.uk": "House of Lords Library", "ippr.org": "IPPR", "reform.uk": "Reform",
    "instituteforgovernment.org.uk": "Institute for Government", "ifs.org.uk": "Institute for Fiscal Studies",
    "adass.org.uk": "ADASS", "scie.org.uk": "Social Care Institute for Excellence",
    "healthwatch.co.uk": "Healthwatch England", "nice.org.uk": "NICE", "ons.gov.uk": "Office for National Statistics",
    "ukhsa.gov.uk": "UK Health Security Agency", "nhsconfed.org": "NHS Confederation", "nhsproviders.org": "NHS Providers",
}
URL = re.compile(r"https?://[^\s)\]>\"'\\]+")
IMAGE = re.compile(r"\.(?:png|jpe?g|gif|svg|webp)$|/wp-content/uploads/", re.I)
# Hosts that belong to everyone (a page hosted there says nothing about who wrote it).
SHARED_HOSTS = re.compile(r"(?:^|\.)(?:gov\.uk|nhs\.uk|parliament\.uk|doi\.org|github\.com|youtube\.com|twitter\.com|"
                          r"x\.com|linkedin\.com|facebook\.com|bit\.ly|wikipedia\.org)$")
MADE_BY = re.compile(r"\b(?:developed|produced|prepared|written|compiled)\s+by\s+(?:the\s+)?[^.;]{0,120}?\b"
                     r"(?:team|unit|directorate|division)\s+((?:within|of|at|in)\s[^.;]{3,160})")
# In the rest of that sentence, the body: 'within the System Transformation directorate of NHS England'.
MADE_BY_BODY = re.compile(r"\b(?:within|of|at|in)\s+(?:the\s+)?((?:NHS|HM)\s+[A-Z]\w*(?:\s+(?:and\s+)?(?:NHS\s+)?[A-Z]\w*)?"
                          r"|[A-Z][\w’'&\-]*(?:\s+(?:and|of|for|[A-Z][\w’'&\-]*)){0,6})")
TYPE_WORDS = {"partnership", "council", "board", "trust", "foundation", "the", "and", "of", "for", "city",
              "committee", "group", "network", "association", "institute", "centre", "service", "limited", "ltd"}
ORG_NAME = re.compile(r"\b((?:The\s+)?(?:[A-Z][\w’'&\-]*\s+)(?:(?:and|of|for|[A-Z][\w’'&\-]*)\s+){0,5}"
                      r"(?:Partnership|Council|Board|Trust|Foundation|Fund|Association|Institute|Network|Centre|Commission|"
                      r"Agency|Authority|England|Improvement|Digital|Library|Office|Group))\b")
# '2023 - 2028' (not '2024/2025', a financial year: such a report comes out after it)
SPAN_LINE = re.compile(r"^\W*((?:19|20)\d{2})\s*[-–—]\s*(?:19|20)\d{2}\W*$")


def _host(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host


def _site_name(host: str, text: str) -> str | None:
    """The publisher a host belongs to: the table, else a body the text names whose own words
    ('Leeds', 'Health', 'Care' of 'Leeds Health and Care Partnership') all make up the domain."""
    for suffix, name in SITES.items():
        if host == suffix or host.endswith("." + suffix):
            return name
    if not host or SHARED_HOSTS.search(host):
        return None
    label = re.sub(r"[^a-z]", "", host.rsplit(".", 2)[0] if host.count(".") >= 2 else host.split(".")[0])
    best = None
    for m in ORG_NAME.finditer(text[:200_000]):
        name = " ".join(m.group(1).split())
        words = [w.lower() for w in re.findall(r"[A-Za-z]+", name)]
        own = [w for w in words if w not in TYPE_WORDS]
        if len(own) >= 2 and all(w in label for w in own) and sum(map(len, own)) >= len(label) * 0.6:
            if best is None or len(name) > len(best):
                best = re.sub(r"^The\s+", "", name)
    return best


def _title_words(title: str | None) -> set[str]:
    return {w for w in re.findall(r"[a-z]{3,}", (title or "").lower()) if w not in {"the", "and", "for", "plan"}}


def site_publisher(doc: SourceDocument, title: str | None) -> str | None:
    """The publisher whose site hosts the document's own figures, or its own address (a link
    whose path names at least two of the title's words and most of them: a link to another
    publication on a neighbouring subject names a few)."""
    text = doc.text
    urls = [u.rstrip(".,;:") for u in URL.findall(text.replace("\\_", "_"))]
    own = [u for u in urls if IMAGE.search(urlsplit(u).path or "")]
    words = _title_words(title)
    for u in urls:
        path = re.sub(r"[^a-z]+", " ", (urlsplit(u).path or "").lower())
        hits = {w for w in words if re.search(rf"\b{w}\b", path)}
        if len(hits) >= 2 and len(hits) >= 0.6 * len(words):
            own.append(u)
    hosts = [h for h in (_host(u) for u in own) if h]
    for host in sorted(set(hosts), key=hosts.count, reverse=True):
        name = _site_name(host, text)
        if name:
            return name
    return None


def reference_publisher(text: str) -> str | None:
    """The body whose publication-reference scheme the document carries."""
    for rx, name in REFERENCE_SCHEMES:
        if rx.search(text):
            return name
    if REFERENCE_LINE.search(text):
        named = [(text.count(n), n) for n in REFERENCE_ISSUERS if n in text]
        if named:
            return max(named)[1]
    return None


def made_by_publisher(text: str) -> str | None:
    """'developed by the … team within the … directorate of NHS England and NHS Improvement'."""
    flat = " ".join(re.sub(r"<[^>]+>|[*_]+", " ", text[:20_000]).split())
    flat = re.sub(r"\bNhs\b", "NHS", flat)  # 'NHS England and Nhs Improvement'
    m = MADE_BY.search(flat)
    if not m:
        return None
    for body in reversed(list(MADE_BY_BODY.finditer(m.group(1)))):  # the outermost body is named last
        name = re.sub(r"\s+(?:and|of|for|the)$", "", body.group(1).strip())
        if name[:1].isupper() and (ORG_NAME.search(name) or name.startswith(("NHS ", "HM "))):
            return re.sub(r"^The\s+", "", name)
    return None


def back_cover_publisher(doc: SourceDocument) -> str | None:
    """A body's name alone on the last lines ('Leeds / Health and Wellbeing / Board')."""
    from nlp.cover import ORG_WORDS

    lines = [" ".join(re.sub(r"[*_#]+", " ", line).split()) for line in doc.text[-600:].splitlines()]
    lines = [line for line in lines if line and not re.fullmatch(r"[\d\W]*|▲?\s*Back to top", line, re.I)]
    tail: list[str] = []
    for line in reversed(lines[-4:]):
        if len(line.split()) > 5 or re.search(r"[.:;,!?]$|\d", line):
            break
        tail.insert(0, line)
    name = " ".join(tail)
    if 2 <= len(name.split()) <= 8 and ORG_WORDS.search(name) and name[:1].isupper() and ORG_NAME.fullmatch(name):
        return name
    return None


def other_publisher(doc: SourceDocument, title: str | None) -> str | None:
    """The publisher from the evidence above, strongest first; None when there is none."""
    return (reference_publisher(doc.text) or made_by_publisher(doc.text) or site_publisher(doc, title)
            or back_cover_publisher(doc))


def cover_span_year(doc: SourceDocument) -> str | None:
    """'2023 - 2028' on a line of its own among the cover's first lines: the first year."""
    head = doc.pages[0] if doc.paged and doc.pages else doc.text[:1500]
    for line in [ln for ln in head.splitlines() if ln.strip()][:8]:
        m = SPAN_LINE.match(re.sub(r"[*_#]+", "", line))
        if m:
            return m.group(1)
    return None


def pdf_created(doc: SourceDocument) -> str | None:
    """A PDF's creation date ('D:20240314085912') as an ISO date, the last resort for its date."""
    raw = str((doc.meta.get("pdf") or {}).get("creationdate") or "")
    m = re.match(r"(?:D:)?((?:19|20)\d{2})(\d{2})(\d{2})", raw)
    if not m or not (1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31):
        return None
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"

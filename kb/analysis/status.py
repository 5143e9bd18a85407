"""What happened to each recommendation: a status derived from evidence, never typed by hand.

Built on the lifecycle's links (recommendation → responses with stance, target date and, when
the extractor says so, implementation) and on the recurrence groups (the same point made in a
later document). Events are read in date order and the latest one is the status:

- ``open``: no response yet (the only status without evidence);
- a response's stance (``accepted``, ``accepted_in_principle``, ``partially_accepted``,
  ``rejected``, ``noted``);
- ``implemented`` / ``superseded``: a later response or progress report says so — these close
  the recommendation;
- ``overdue``: an accepted recommendation's target date passed with no evidence of
  implementation (dated at the end of the period the target names: 'spring 2024' → 31 May);
- ``repeated_after_acceptance``: accepted, still open, and the same point recommended again
  in a later document — the signal journalists look for.

Every event cites the sentence, document, page and date that set it; "today" is a parameter
(``Settings.today``, ``KB_TODAY``) so tests and reports can fix it.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import asdict, dataclass, field
from datetime import date

from kb.analysis.actors import Actors
from nlp.dates import MONTHS

STATUSES = ("open", "accepted", "accepted_in_principle", "partially_accepted", "rejected", "noted",
            "implemented", "overdue", "repeated_after_acceptance", "superseded")
ACCEPTING = frozenset({"accepted", "accepted_in_principle", "partially_accepted"})
CLOSING = frozenset({"implemented", "superseded"})

# Words a response or progress report uses when the work is done or overtaken. Used when the
# extractor has not set ``implementation`` itself (older knowledge bases).
_IMPLEMENTED = re.compile(r"\b(?:recommendation\s+implemented|(?:has|have|had)\s+(?:already\s+|now\s+|been\s+)?"
                          r"(?:implemented|delivered|completed)\b|(?:work\s+)?(?:is\s+)?complete(?:d)?\s*\.?$)", re.I)
_SUPERSEDED = re.compile(r"\b(?:superseded|overtaken\s+by|no\s+longer\s+(?:applies|relevant))\b", re.I)
_SEASON_END = {"spring": (5, 31), "summer": (8, 31), "autumn": (11, 30), "winter": (2, 28)}
_TARGET = re.compile(rf"\b(?:(?P<month>{MONTHS})|(?P<season>spring|summer|autumn|winter))?\s*(?P<year>(?:19|20)\d{{2}})"
                     rf"(?:\s*/\s*(?P<next>\d{{2}}))?\b", re.I)


@dataclass
class Evidence:
    doc_id: str
    page: int | None
    sentence: str
    date: str | None
    title: str | None = None
    anchor: str | None = None  # the element of the document page that shows it: rec-<id>, response-<id>


@dataclass
class Event:
    status: str
    date: str | None
    evidence: Evidence | None


@dataclass
class RecommendationStatus:
    recommendation_id: str
    doc_id: str
    title: str | None
    published: str | None
    source: str
    label: str | None
    page: int | None
    text: str
    actor: str | None
    actors: list[str]
    group_id: str | None
    target_date: str | None
    history: list[Event] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.history[-1].status

    @property
    def evidence(self) -> Evidence | None:
        return self.history[-1].evidence

    @property
    def changed(self) -> str | None:
        return self.history[-1].date

    def to_json(self) -> dict:
        """The ``kb status --json`` item."""
        out = {"recommendation_id": self.recommendation_id, "doc_id": self.doc_id, "title": self.title,
               "published": self.published, "source": self.source, "label": self.label, "page": self.page,
               "text": self.text, "actor": self.actor, "actors": self.actors, "status": self.status,
               "evidence": _evidence_json(self.evidence), "target_date": self.target_date,
               "group_id": self.group_id,
               "history": [{"status": e.status, "date": e.date, "evidence": _evidence_json(e.evidence)}
                           for e in self.history]}
        return out


def _evidence_json(ev: Evidence | None) -> dict | None:
    return asdict(ev) if ev else None


def target_deadline(text: str | None) -> date | None:
    """The last day a target date allows: 'April 2018' → 2018-04-30, 'summer 2023' → 2023-08-31,
    '2020/21' → 2021-03-31 (a financial year), '2019' → 2019-12-31; None for 'implemented' or
    'not applicable'."""
    m = _TARGET.search(text or "")
    if not m:
        return None
    year = int(m.group("year"))
    if m.group("month"):
        month = [x.lower() for x in MONTHS.split("|")].index(m.group("month").lower()) + 1
        return date(year, month, calendar.monthrange(year, month)[1])
    if m.group("season"):
        month, day = _SEASON_END[m.group("season").lower()]
        return date(year + (m.group("season").lower() == "winter"), month, day)
    if m.group("next"):
        return date(year + 1, 3, 31)
    return date(year, 12, 31)


def implementation_of(response: dict) -> str | None:
    """implemented | superseded | in_progress | not_started | None: the extractor's field when
    it set one, else read from the response's own words."""
    value = response.get("implementation")
    if value:
        return value
    text = " ".join(filter(None, (response.get("text"), response.get("target_date"))))
    if _SUPERSEDED.search(text):
        return "superseded"
    if _IMPLEMENTED.search(text) or (response.get("target_date") or "").strip().lower() == "implemented":
        return "implemented"
    return None


def derive(rec: dict, responses: list[dict], repeats: list[dict], today: date) -> list[Event]:
    """The status history of one recommendation (see the module docstring), oldest first."""
    history = [Event("open", rec["published"], None)]
    items = [(r["published"] or "", 0, "response", r) for r in responses]
    items += [(r["published"] or "", 1, "repeat", r) for r in repeats if r["published"]]
    # As of ``today``: evidence dated later is not known yet (a report as of a past day).
    items = sorted((x for x in items if not x[0] or x[0][:10] <= today.isoformat()), key=lambda x: (x[0], x[1]))
    accepted = closed = overdue_noted = repeated = False
    deadline: tuple[date, Evidence] | None = None

    def check_overdue(before: date) -> None:
        nonlocal overdue_noted
        if accepted and not closed and not overdue_noted and deadline and deadline[0] < before:
            history.append(Event("overdue", deadline[0].isoformat(), deadline[1]))
            overdue_noted = True

    for when, _, kind, item in items:
        check_overdue(_day(when) or today)
        if kind == "response":
            ev = Evidence(item["doc_id"], item["page"], item["text"], item["published"], item.get("title"),
                          f"response-{item['id']}")
            if item["stance"] in STATUSES:
                history.append(Event(item["stance"], item["published"], ev))
                accepted = item["stance"] in ACCEPTING or (accepted and item["stance"] == "noted")
                closed = closed and item["stance"] not in ACCEPTING
            done = implementation_of(item)
            if done in CLOSING:
                history.append(Event(done, item["published"], ev))
                closed = True
            end = target_deadline(item.get("target_date"))
            if end and not closed:
                deadline, overdue_noted = (end, ev), False
        elif accepted and not closed and not repeated:
            history.append(Event("repeated_after_acceptance", item["published"],
                                 Evidence(item["doc_id"], item["page"], item["text"], item["published"],
                                          item.get("title"), f"rec-{item['id']}")))
            repeated = True
    check_overdue(today)
    return history


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "")[:10])
    except ValueError:
        return None


def recommendation_statuses(store, actors: Actors, today: date | None = None) -> list[RecommendationStatus]:
    """Every recommendation in the knowledge base with its status history, oldest document first."""
    today = today or date.today()
    recs = [dict(r) for r in store.conn.execute(
        """SELECT r.id, r.doc_id, d.title, d.published, d.source, r.label, r.page, r.text, r.actor, r.group_id
           FROM recommendations r JOIN documents d ON d.id = r.doc_id ORDER BY d.published, d.id, r.seq""")]
    answered = _responses(store)
    by_group: dict[str, list[dict]] = {}
    for r in recs:
        if r["group_id"]:
            by_group.setdefault(r["group_id"], []).append(r)
    out = []
    for r in recs:
        responses = answered.get(r["id"], [])
        repeats = [o for o in by_group.get(r["group_id"], []) if o["doc_id"] != r["doc_id"]
                   and (o["published"] or "") > (r["published"] or "")]
        found = actors.find(r["actor"], r["text"], r["published"])
        targets = [x["target_date"] for x in responses if target_deadline(x.get("target_date"))]
        status = RecommendationStatus(
            r["id"], r["doc_id"], r["title"], r["published"], r["source"], r["label"], r["page"], r["text"],
            found[0] if found else None, found, r["group_id"], targets[-1] if targets else None)
        status.history = derive(r, responses, repeats, today)
        out.append(status)
    return out


@dataclass
class StatusQuery:
    status: str | None = None
    actor: str | None = None
    source: str | None = None
    year_from: int | None = None
    year_to: int | None = None


def select(statuses: list[RecommendationStatus], q: StatusQuery) -> list[RecommendationStatus]:
    def year(s: RecommendationStatus) -> int | None:
        return int(s.published[:4]) if s.published else None

    return [s for s in statuses
            if (not q.status or s.status == q.status) and (not q.actor or q.actor in s.actors)
            and (not q.source or s.source == q.source)
            and (q.year_from is None or (year(s) or 0) >= q.year_from)
            and (q.year_to is None or (year(s) or 9999) <= q.year_to)]


def counts(statuses: list[RecommendationStatus]) -> dict[str, int]:
    """How many recommendations have each status, every status listed (zeros included)."""
    out = {s: 0 for s in STATUSES}
    for s in statuses:
        out[s.status] += 1
    return out


def actor_summaries(statuses: list[RecommendationStatus], actors: Actors) -> list[dict]:
    """Every actor asked to act, most recommendations first: the ``/api/actors`` list."""
    out = []
    for actor in actors.by_id.values():
        mine = [s for s in statuses if actor.id in s.actors]
        if mine:
            years = sorted({int(s.published[:4]) for s in mine if s.published})
            out.append({"id": actor.id, "name": actor.name, "names": actor.names, "aliases": actor.aliases,
                        "recommendations": len(mine), "first_year": years[0] if years else None,
                        "last_year": years[-1] if years else None, "statuses": counts(mine)})
    out.sort(key=lambda a: (-a["recommendations"], a["name"]))
    return out


def actor_detail(statuses: list[RecommendationStatus], actors: Actors, actor_id: str) -> dict | None:
    """One actor: its recommendations over the years (each with its status and the name the body
    had then), the responses to them, status counts and counts per year (``/api/actors/<id>``)."""
    actor = actors.get(actor_id)
    if actor is None:
        return None
    mine = [s for s in statuses if actor_id in s.actors]
    per_year: dict[int, int] = {}
    for s in mine:
        if s.published:
            per_year[int(s.published[:4])] = per_year.get(int(s.published[:4]), 0) + 1
    responses = [dict(_evidence_json(e.evidence), status=e.status, recommendation_id=s.recommendation_id)
                 for s in mine for e in s.history if e.evidence and e.status in (*ACCEPTING, "rejected", "noted",
                                                                                  *CLOSING)]
    return {"id": actor.id, "name": actor.name, "names": actor.names, "aliases": actor.aliases,
            "statuses": counts(mine),
            "by_year": [{"year": y, "count": per_year[y]} for y in sorted(per_year)],
            "responses": responses,
            "recommendations": [dict(s.to_json(), addressed_as=actor.name_at(s.published)) for s in mine]}


def _responses(store) -> dict[str, list[dict]]:
    """Every linked response by recommendation, oldest first, with ``implementation`` where the
    knowledge base's extractor records it. A response that answers several recommendations
    ('8.12, 8.13') counts for each when the knowledge base keeps a ``response_links`` table."""
    conn = store.conn
    columns = {row[1] for row in conn.execute("PRAGMA table_info(responses)")}
    implementation = "s.implementation" if "implementation" in columns else "NULL"
    has_links = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'response_links'").fetchone()
    link = ("response_links l JOIN responses s ON s.id = l.response_id" if has_links else
            "(SELECT id AS response_id, recommendation_id FROM responses) l JOIN responses s ON s.id = l.response_id")
    out: dict[str, list[dict]] = {}
    for r in conn.execute(
            f"""SELECT s.id, l.recommendation_id, s.doc_id, d.title, d.published, s.stance, s.target_date, s.text,
                       s.page, {implementation} AS implementation
                FROM {link} JOIN documents d ON d.id = s.doc_id
                WHERE l.recommendation_id IS NOT NULL ORDER BY d.published, s.id"""):
        out.setdefault(r["recommendation_id"], []).append(dict(r))
    return out

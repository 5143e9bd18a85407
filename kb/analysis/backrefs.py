"""Explicit back-references: a document saying it makes a point again.

"The National Audit Office made similar points in a report in March 2014", "we reiterate
the recommendation from our 2014 report", "as we said in 2017": the author, not a
similarity score, says two documents make one point. Each such sentence is stored with the
body and date it names, and linked to the earlier document when the knowledge base holds it
(same body, same year and month where named, title words named in the sentence), so both
documents' pages can show the link.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

log = logging.getLogger(__name__)

MONTHS = ("january february march april may june july august september october november december").split()
_MONTH = r"(?:(?P<month>" + "|".join(MONTHS) + r"),?\s+)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
# A cue that the sentence makes a point again ("reiterate", "made similar points", "as we
# said"), not any repetition ("repeat donors", "repeated pressure").
CUES = re.compile(
    r"\b(?:re-?iterat\w*|restat(?:e|es|ed|ing)\s+(?:its|our|their|the|this|that)|reaffirm\w*|"
    r"repeat(?:s|ed|ing)?\s+(?:its|our|their|the|this|that|these)\s+(?:\w+\s+)?"
    r"(?:call|recommendation|finding|point|conclusion|warning|concern)s?|"
    r"made (?:similar|the same|these|this) (?:points?|findings?|recommendations?|case)|"
    r"as (?:we|it|the \w+(?: \w+)?) (?:said|noted|found|recommended|concluded|reported|warned)|"
    r"we (?:previously|have previously|have already|already) (?:said|noted|found|recommended|reported)|"
    r"(?:our|its|their) (?:previous|earlier|last|prior) report|echo(?:es|ed|ing)? (?:our|its|the))", re.I)
_WORK = r"(?:report|review|study|inquiry|audit|paper|briefing|strategy|plan)"
# The earlier work and its date: "a report in March 2014", "our 2014 report", "said in 2017".
DATED = re.compile(
    r"\b" + _WORK + r"s?\b[^.]{0,40}?\b(?:in|of|from|dated)\s+" + _MONTH + _YEAR + r"\b(?![/-]\d)"
    r"|\b(?:our|its|their|the|a|an)\s+" + _MONTH.replace("month", "month2") + _YEAR.replace("year", "year2")
    + r"\s+(?:\w+\s+)?" + _WORK
    + r"|\b(?:said|noted|found|recommended|concluded|reported|warned)\s+in\s+"
    + _MONTH.replace("month", "month3") + _YEAR.replace("year", "year3") + r"\b(?![/-]\d)", re.I)
BODY = re.compile(
    r"\b(?:the\s+)?((?:[A-Z][\w'’&-]*\s+){0,5}(?:Office|Committee|Commission|Fund|Foundation|Trust|Inquiry|"
    r"Institute|Department|Council|Association|Board|Agency|Authority|Service|Government|Parliament|"
    r"Ombudsman|Guardian)|NAO|PAC|CQC|LGA|DHSC|NHS England|IPPR|Reform|[A-Z]{2,6})\b")
TITLE_ON = re.compile(r"\b(?:report|review|study|inquiry|audit|paper)\s+(?:on|into|of|about)\s+(?:the\s+)?"
                      r"((?:[A-Za-z'’-]+\s*){1,6})")
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"'(•])")
GENERIC = frozenset("the of and for a an on in to report review national".split())
# Words every health body's name shares: a match on these alone says nothing about who.
COMMON_BODY = frozenset("department health social care nhs england government office committee national "
                        "service services council".split())


@dataclass
class BackRef:
    doc_id: str
    page: int | None
    sentence: str
    body: str | None
    year: int
    month: int | None
    title_words: frozenset[str]


def find_backrefs(doc_id: str, pages: list[tuple[int | None, str]], doc_year: int | None) -> list[BackRef]:
    """Sentences of one document that say an earlier report made the point, with the date they
    name. A named year after the document's own year is a plan, not a back-reference."""
    out = []
    for page, text in pages:
        sentences = [s for para in re.split(r"\n\s*\n", text) for s in SENTENCE.split(" ".join(para.split()))]
        for sentence in sentences:
            if len(sentence) > 600 or not CUES.search(sentence):
                continue
            m = DATED.search(sentence)
            if not m:
                continue
            year = int(m.group("year") or m.group("year2") or m.group("year3"))
            if doc_year and year > doc_year:
                continue
            month = m.group("month") or m.group("month2") or m.group("month3")
            # The body that made the point is named before the cue ("The NAO made similar points");
            # what follows is the earlier report's subject ("its 2014 report on the Better Care Fund").
            body = BODY.search(sentence[:CUES.search(sentence).start()])
            title = TITLE_ON.search(sentence[m.start():]) or TITLE_ON.search(sentence)
            subject = re.split(r"\b(?:that|which|where|who|and|but|to|with)\b|[,;:]", title.group(1))[0] if title else ""
            words = frozenset(w for w in re.findall(r"[a-z]{3,}", subject.lower()) if w not in GENERIC)
            name = re.sub(r"^the\s+", "", body.group(1).strip(), flags=re.I) if body else None
            out.append(BackRef(doc_id, page, sentence.strip(), name, year,
                               MONTHS.index(month.lower()) + 1 if month else None, words))
    return out


def _tokens(text: str | None) -> set[str]:
    return {w for w in re.findall(r"[a-z]{2,}", (text or "").lower()) if w not in GENERIC}


def _acronym(text: str | None) -> str:
    return "".join(w[0] for w in re.findall(r"[A-Za-z]+", text or "") if w.lower() not in GENERIC).upper()


def resolve(ref: BackRef, docs: list[dict], own: dict) -> str | None:
    """The earlier document a back-reference names, or None when the knowledge base lacks it.

    A candidate is published in the year (and month, when named) and comes from the body named
    in the sentence (by words or acronym), or — for "our"/"we" with no body named — from the
    citing document's own publisher. Title words named in the sentence break ties.
    """
    body = ref.body
    body_tokens = _tokens(body) if body and not body.isupper() else set()
    best, best_score = None, 0.0
    for d in docs:
        if d["id"] == own["id"] or (d["publication_id"] and d["publication_id"] == own.get("publication_id")):
            continue
        published = d["published"] or ""
        if not published.startswith(str(ref.year)):
            continue
        if ref.month and len(published) >= 7 and published[5:7] != f"{ref.month:02d}":
            continue
        who = " ".join(filter(None, (d["publisher"], d["source"])))
        who_tokens = _tokens(who)
        if body:
            same_body = (body.isupper() and (body == _acronym(d["publisher"]) or body.lower() in who_tokens)) or \
                        bool(body_tokens and len(body_tokens & who_tokens) >= max(1, (len(body_tokens) + 1) // 2)
                             and body_tokens & who_tokens - COMMON_BODY)
        else:  # "our"/"we": the citing document's own publisher
            mine = _tokens(own.get("publisher") or own.get("source"))
            same_body = bool((mine & who_tokens) - COMMON_BODY)
        title_hits = len(ref.title_words & _tokens(d["title"]))
        if ref.title_words and not title_hits:
            continue  # the sentence names the earlier report's subject, and this is not it
        score = (2.0 if same_body else 0.0) + title_hits
        if (same_body or title_hits >= 2) and score > best_score:
            best, best_score = d["id"], score
    return best


def link_backrefs(store) -> int:
    """Find and resolve every document's back-references; returns how many were linked."""
    conn = store.conn
    docs = [dict(r) for r in conn.execute(
        "SELECT id, title, published, year, publisher, source, publication_id FROM documents")]
    found: list[tuple[BackRef, str | None]] = []
    for d in docs:
        pages = [(r[0], r[1]) for r in conn.execute("SELECT page, text FROM pages WHERE doc_id = ? ORDER BY page",
                                                    (d["id"],))]
        for ref in find_backrefs(d["id"], pages, d["year"]):
            found.append((ref, resolve(ref, docs, d)))
    with store.transaction() as tx:
        tx.execute("DELETE FROM back_references")
        tx.executemany(
            "INSERT INTO back_references(doc_id, page, sentence, body, year, month, target_doc_id) VALUES (?,?,?,?,?,?,?)",
            [(r.doc_id, r.page, r.sentence, r.body, r.year, r.month, target) for r, target in found])
    linked = sum(1 for _, t in found if t)
    log.info("back-references: %d found, %d linked to a document in the knowledge base", len(found), linked)
    return linked


def back_references(store, doc_id: str) -> dict[str, list[dict]]:
    """For a document page: what it says it repeats ("cites") and who says they repeat it ("cited_by")."""
    conn = store.conn
    cites = [dict(r) for r in conn.execute(
        """SELECT b.page, b.sentence, b.body, b.year, b.month, b.target_doc_id, d.title AS target_title,
                  d.published AS target_published
           FROM back_references b LEFT JOIN documents d ON d.id = b.target_doc_id
           WHERE b.doc_id = ? ORDER BY b.page, b.id""", (doc_id,))]
    cited_by = [dict(r) for r in conn.execute(
        """SELECT b.doc_id, b.page, b.sentence, d.title, d.published FROM back_references b
           JOIN documents d ON d.id = b.doc_id WHERE b.target_doc_id = ? ORDER BY d.published, b.id""",
        (doc_id,))]
    return {"cites": cites, "cited_by": cited_by}

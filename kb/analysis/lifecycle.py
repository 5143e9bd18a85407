"""Recommendation lifecycle: link each government response to the recommendation it answers.

A response document (Treasury Minutes, a government response to an inquiry) answers one or
more earlier reports. We first find which: a report it names (title or HC number) or, failing
that, the earlier report whose recommendations its text resembles most. Then each response
is matched within those reports by its printed label ('1', '2a') where one is given — the
most similar recommendation among same-labelled ones, when several reports share numbering —
and by similarity otherwise.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

DOC_MATCH_FLOOR = 0.75  # mean best similarity of a report's recommendations to the response text
LINK_FLOOR = 0.45  # a response linked by similarity alone must be at least this close


@dataclass
class _Rec:
    id: str
    doc_id: str
    label: str | None
    text: str


def normalise_label(label: str | None) -> str | None:
    """'Recommendation 2(a)' / '2a' / '2.a' → '2a'; the first label of a list ('2a, 2b') only."""
    if not label:
        return None
    label = label.lower().split(",")[0].split(" and ")[0]
    label = re.sub(r"^(recommendation|rec\.?|conclusion)\s*", "", label.strip())
    label = re.sub(r"[^0-9a-z]", "", label)
    return label or None


def _norm_text(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def link_responses(kbase) -> dict:
    """Recompute every response → recommendation link; returns counts by method."""
    conn = kbase.store.conn
    response_docs = [r[0] for r in conn.execute("SELECT DISTINCT doc_id FROM responses")]
    counts = {"label": 0, "similarity": 0, "unlinked": 0}
    updates: list[tuple] = []
    for doc_id in response_docs:
        for row in _link_document(kbase, doc_id):
            counts[row[1] or "unlinked"] += 1
            updates.append(row)
    with kbase.store.transaction() as c:
        c.execute("UPDATE responses SET recommendation_id = NULL, link_method = NULL, link_score = NULL")
        c.executemany("UPDATE responses SET recommendation_id = ?, link_method = ?, link_score = ? WHERE id = ?",
                      updates)
    log.info("lifecycle: %s", counts)
    return counts


def _link_document(kbase, doc_id: str) -> list[tuple]:
    conn = kbase.store.conn
    doc = conn.execute("SELECT published FROM documents WHERE id = ?", (doc_id,)).fetchone()
    responses = conn.execute("SELECT id, responds_to, text, page FROM responses WHERE doc_id = ? ORDER BY id",
                             (doc_id,)).fetchall()
    recs = [_Rec(*r) for r in conn.execute(
        """SELECT r.id, r.doc_id, r.label, r.text FROM recommendations r JOIN documents d ON d.id = r.doc_id
           WHERE r.doc_id != ? AND (? IS NULL OR d.published IS NULL OR d.published <= ?)
           ORDER BY r.doc_id, r.seq""",
        (doc_id, doc["published"], doc["published"]))]
    passages = conn.execute("SELECT page, text FROM passages WHERE doc_id = ? ORDER BY seq", (doc_id,)).fetchall()
    if not recs or not responses or not passages:
        return [(None, None, None, r["id"]) for r in responses]
    rec_vecs = kbase.embed([r.text for r in recs])
    # Responses are formulaic ("The government agrees…"); the text around them — which usually
    # restates the recommendation — is what resembles the recommendation answered.
    passage_vecs = kbase.embed([p["text"] for p in passages])
    passage_pages = np.array([p["page"] or 0 for p in passages])
    rec_to_passages = rec_vecs @ passage_vecs.T
    answered = _answered_documents(kbase, doc_id, recs, rec_to_passages)
    pool = [i for i, r in enumerate(recs) if r.doc_id in answered]
    resp_vecs = kbase.embed([r["text"] for r in responses])
    rows = []
    for k, resp in enumerate(responses):
        if not pool:
            rows.append((None, None, None, resp["id"]))
            continue
        near = passage_pages == (resp["page"] or 0)
        context = rec_to_passages[pool][:, near].max(axis=1) if near.any() else np.zeros(len(pool))
        sims = np.maximum(context, rec_vecs[pool] @ resp_vecs[k])
        label = normalise_label(resp["responds_to"])
        same_label = [n for n, i in enumerate(pool) if label and normalise_label(recs[i].label) == label]
        if same_label:
            best = max(same_label, key=lambda n: sims[n])
            # A report often lists its recommendations twice (chapter and summary): the answer
            # belongs to the first statement of that label in the report it answers.
            best = next(n for n in same_label if recs[pool[n]].doc_id == recs[pool[best]].doc_id)
            rows.append((recs[pool[best]].id, "label", round(float(sims[best]), 4), resp["id"]))
        elif float(sims.max()) >= LINK_FLOOR:
            best = int(np.argmax(sims))
            rows.append((recs[pool[best]].id, "similarity", round(float(sims[best]), 4), resp["id"]))
        else:
            rows.append((None, None, None, resp["id"]))
    return rows


def _answered_documents(kbase, doc_id: str, recs: list[_Rec], rec_to_passages: np.ndarray) -> set[str]:
    """Reports this response document names or restates: a report counts when it is named
    (title or HC number) or when its recommendations reappear in the response document."""
    conn = kbase.store.conn
    text = _norm_text(" ".join(r[0] for r in conn.execute("SELECT text FROM pages WHERE doc_id = ?", (doc_id,))))
    best_passage = rec_to_passages.max(axis=1)
    by_strength: dict[int, set[str]] = {2: set(), 1: set(), 0: set()}
    for cand in sorted({r.doc_id for r in recs}):
        row = conn.execute("SELECT title, identifiers FROM documents WHERE id = ?", (cand,)).fetchone()
        title = _norm_text(row["title"] or "")
        short = _norm_text((row["title"] or "").split(":")[0])
        hc = (json.loads(row["identifiers"] or "{}") or {}).get("hc_number")
        if (len(title) >= 15 and title in text) or (hc and re.search(rf"\bhc {re.escape(str(hc).lower())}\b", text)):
            strength = 2  # named in full, or by its HC number
        elif len(short) >= 15 and short in text:
            strength = 1  # named by its main title only
        else:
            strength = 0
        score = float(np.mean([best_passage[i] for i, r in enumerate(recs) if r.doc_id == cand]))
        if score >= DOC_MATCH_FLOOR - (0.25 if strength else 0):
            by_strength[strength].add(cand)
    # A report the response names outranks look-alikes (the NAO often recommends what the
    # PAC then recommends, and the Treasury Minutes answer only the PAC).
    return by_strength[2] or by_strength[1] or by_strength[0]


def responses_for(store, recommendation_ids: list[str]) -> dict[str, list[dict]]:
    if not recommendation_ids:
        return {}
    marks = ",".join("?" * len(recommendation_ids))
    out: dict[str, list[dict]] = {}
    for r in store.conn.execute(
            f"""SELECT s.recommendation_id, s.doc_id, d.title, d.published, s.stance, s.target_date, s.text,
                       s.page, s.responds_to, s.link_method
                FROM responses s JOIN documents d ON d.id = s.doc_id
                WHERE s.recommendation_id IN ({marks}) ORDER BY d.published, s.id""", recommendation_ids):
        item = dict(r)
        out.setdefault(item.pop("recommendation_id"), []).append(item)
    return out


def lifecycle(store) -> list[dict]:
    """The ``kb lifecycle --json`` contract: every recommendation with its linked responses."""
    recs = [dict(r) for r in store.conn.execute(
        """SELECT r.id, r.doc_id, d.title, d.published, r.label, r.text, r.page, r.actor, r.deadline,
                  r.group_id, d.source, d.url
           FROM recommendations r JOIN documents d ON d.id = r.doc_id
           ORDER BY d.published, d.id, r.seq""")]
    answered = responses_for(store, [r["id"] for r in recs])
    out = []
    for r in recs:
        group_id = r.pop("group_id")
        r["recommendation_id"] = r.pop("id")
        out.append({"recommendation": r, "responses": answered.get(r["recommendation_id"], []),
                    "group_id": group_id})
    return out

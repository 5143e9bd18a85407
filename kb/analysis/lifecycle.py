"""Recommendation lifecycle: link each government response to the recommendation it answers.

A response document (Treasury Minutes, a government response to an inquiry) answers one or
more earlier reports. We first find which: a report it names (title, HC or Command Paper
number) or, failing that, the earlier report whose recommendations its text resembles most.
Then each response is matched within those reports by its printed labels, normalised and
ranges expanded ('8.14–8.16', '12(a)–(c)', ``nlp.labels``) — in the most similar report when
several share numbering — or by the recommendation text it quotes, and by similarity
otherwise. One response may answer several recommendations (``response_links``).
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

import numpy as np

from nlp.labels import canonical, expand_labels, link

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
    labels = expand_labels(label)
    return labels[0] if labels else None


def _norm_text(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def link_responses(kbase) -> dict:
    """Recompute every response → recommendation link; returns counts by method."""
    conn = kbase.store.conn
    response_docs = [r[0] for r in conn.execute("SELECT DISTINCT doc_id FROM responses")]
    counts = {"label": 0, "text": 0, "similarity": 0, "unlinked": 0}
    links: list[tuple] = []  # (response id, recommendation id, method, score)
    for doc_id in response_docs:
        for resp_id, found in _link_document(kbase, doc_id):
            counts[found[0][1] if found else "unlinked"] += 1
            links += [(resp_id, rid, method, score) for rid, method, score in found]
    firsts = {}
    for resp_id, rid, method, score in links:
        firsts.setdefault(resp_id, (rid, method, score, resp_id))
    with kbase.store.transaction() as c:
        c.execute("UPDATE responses SET recommendation_id = NULL, link_method = NULL, link_score = NULL")
        c.execute("DELETE FROM response_links")
        c.executemany("INSERT OR IGNORE INTO response_links(response_id, recommendation_id, link_method, link_score) "
                      "VALUES (?,?,?,?)", links)
        c.executemany("UPDATE responses SET recommendation_id = ?, link_method = ?, link_score = ? WHERE id = ?",
                      list(firsts.values()))
    log.info("lifecycle: %s", counts)
    return counts


def _link_document(kbase, doc_id: str) -> list[tuple[int, list[tuple]]]:
    """For each response of ``doc_id``: [(recommendation id, method, score), ...]."""
    conn = kbase.store.conn
    doc = conn.execute("SELECT published FROM documents WHERE id = ?", (doc_id,)).fetchone()
    responses = conn.execute("SELECT id, responds_to, text, page, quoted FROM responses WHERE doc_id = ? ORDER BY id",
                             (doc_id,)).fetchall()
    recs = [_Rec(*r) for r in conn.execute(
        """SELECT r.id, r.doc_id, r.label, r.text FROM recommendations r JOIN documents d ON d.id = r.doc_id
           WHERE r.doc_id != ? AND (? IS NULL OR d.published IS NULL OR d.published <= ?)
           ORDER BY r.doc_id, r.seq""",
        (doc_id, doc["published"], doc["published"]))]
    passages = conn.execute("SELECT page, text FROM passages WHERE doc_id = ? ORDER BY seq", (doc_id,)).fetchall()
    if not recs or not responses or not passages:
        return [(r["id"], []) for r in responses]
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
            rows.append((resp["id"], []))
            continue
        near = passage_pages == (resp["page"] or 0)
        context = rec_to_passages[pool][:, near].max(axis=1) if near.any() else np.zeros(len(pool))
        sims = dict(zip(pool, np.maximum(context, rec_vecs[pool] @ resp_vecs[k]).tolist()))
        rows.append((resp["id"], _link_one(resp, recs, pool, sims)))
    return rows


def _link_one(resp, recs: list[_Rec], pool: list[int], sims: dict[int, float]) -> list[tuple]:
    """By printed label or quoted text within the most similar answered report, else by similarity."""
    best: tuple[float, list[tuple]] | None = None
    for doc in dict.fromkeys(recs[i].doc_id for i in pool):
        in_doc = [i for i in pool if recs[i].doc_id == doc]
        # A report often lists its recommendations twice (chapter and summary): the answer
        # belongs to the first statement of each label.
        first: dict[str, int] = {}
        for i in in_doc:
            first.setdefault(canonical(recs[i].label) or f"#{i}", i)
        candidates = [(str(i), recs[i].label, recs[i].text) for i in first.values()]
        ids, method = link(resp["responds_to"], resp["quoted"], candidates)
        if ids:
            score = float(np.mean([sims[int(x)] for x in ids]))
            if best is None or score > best[0]:
                best = (score, [(recs[int(x)].id, method, round(sims[int(x)], 4)) for x in ids])
    if best:
        return best[1]
    if expand_labels(resp["responds_to"]) and any(recs[i].label for i in pool):
        return []  # a numbered answer to a paragraph the report does not recommend in (a conclusion)
    top = max(pool, key=lambda i: sims[i])
    return [(recs[top].id, "similarity", round(sims[top], 4))] if sims[top] >= LINK_FLOOR else []


def _answered_documents(kbase, doc_id: str, recs: list[_Rec], rec_to_passages: np.ndarray) -> set[str]:
    """Reports this response document names or restates: a report counts when it is named
    (title or HC number) or when its recommendations reappear in the response document."""
    conn = kbase.store.conn
    text = _norm_text(" ".join(r[0] for r in conn.execute("SELECT text FROM pages WHERE doc_id = ?", (doc_id,))))
    best_passage = rec_to_passages.max(axis=1)
    by_strength: dict[int, set[str]] = {2: set(), 1: set(), 0: set()}
    for cand in sorted({r.doc_id for r in recs}):
        row = conn.execute("SELECT title, identifiers, publisher FROM documents WHERE id = ?", (cand,)).fetchone()
        title = _norm_text(row["title"] or "")
        short = _norm_text((row["title"] or "").split(":")[0])
        author = _norm_text(row["publisher"] or "")
        if (len(title) >= 15 and title in text) or _names_paper(json.loads(row["identifiers"] or "{}") or {}, text):
            strength = 2  # named in full, or by its HC number
        elif (len(short) >= 15 and short in text) or (re.search(r"\b(?:inquiry|commission|review)$", author)
                                                      and len(author) >= 12 and author in text):
            strength = 1  # named by its main title only, or by the inquiry that wrote it
        else:
            strength = 0
        score = float(np.mean([best_passage[i] for i, r in enumerate(recs) if r.doc_id == cand]))
        if score >= DOC_MATCH_FLOOR - (0.25 if strength else 0):
            by_strength[strength].add(cand)
    # A report the response names outranks look-alikes (the NAO often recommends what the
    # PAC then recommends, and the Treasury Minutes answer only the PAC).
    return by_strength[2] or by_strength[1] or by_strength[0]


def _names_paper(identifiers: dict, text: str) -> bool:
    """The response text cites the report's paper number: 'HC 381', 'HL Paper 179', 'CP 1248'."""
    for key, prefix in (("hc_number", "hc"), ("hl_paper", "hl paper"), ("command_paper_number", "")):
        value = identifiers.get(key)
        if value and re.search(rf"\b{prefix + ' ' if prefix else ''}{re.escape(_norm_text(str(value)))}\b", text):
            return True
    return False


def responses_for(store, recommendation_ids: list[str]) -> dict[str, list[dict]]:
    if not recommendation_ids:
        return {}
    marks = ",".join("?" * len(recommendation_ids))
    out: dict[str, list[dict]] = {}
    for r in store.conn.execute(
            f"""SELECT l.recommendation_id, s.doc_id, d.title, d.published, s.stance, s.target_date, s.text,
                       s.page, s.responds_to, l.link_method, s.responder, s.stance_evidence, s.implementation
                FROM response_links l JOIN responses s ON s.id = l.response_id JOIN documents d ON d.id = s.doc_id
                WHERE l.recommendation_id IN ({marks}) ORDER BY d.published, s.id""", recommendation_ids):
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

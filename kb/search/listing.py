"""Lists that are not a relevance ranking: the passages a filter selects (browsing without
words), and every passage matching a query in date order.

A researcher who picks the theme "workforce" and no words wants that theme's evidence, newest
first — not an empty page. One who sorts a search by date wants *every* matching passage in
date order (``kb.search.relevance`` decides what matches), not the best hundred re-sorted: a
2012 report that mentions the words once is still part of the story. Both lists are of passage
ids only (a page builds its hits with ``hits_for``), so ordering thousands costs milliseconds.

The filters are the search's own (``Filters.sql``, ``MatchSet.passing``), so a browse, a
dated list and a search with words select passages the same way.
"""
from __future__ import annotations

from kb.search.engine import Filters, Hit, _hits
from kb.search.query import Query
from kb.search.relevance import MatchSet
from kb.store.knowledge import KnowledgeBase
from kb.store.renditions import one_per_publication

ORDERED_LIMIT = 100_000  # passages put in date order at most; past it the list says how many it holds

Entry = tuple[str, str]  # (passage id, document id)


def browse(kbase: KnowledgeBase, filters: Filters, limit: int, newest_first: bool = True) -> tuple[int, list[Hit]]:
    """``(total, hits)``: how many passages ``filters`` select, and the first ``limit`` of them
    by publication date (undated last), in document then passage order within a date."""
    total, entries = browse_entries(kbase, filters, limit, newest_first)
    return total, hits_for(kbase, entries, Query())


def browse_entries(kbase: KnowledgeBase, filters: Filters, limit: int = ORDERED_LIMIT,
                   newest_first: bool = True) -> tuple[int, list[Entry]]:
    """``(total, entries)``: the passages ``filters`` select, by publication date (undated last),
    in document then passage order within a date; ``limit`` of them at most."""
    conn = kbase.store.conn
    where, args = filters.sql()
    total = conn.execute(f"""SELECT COUNT(*) FROM passages p JOIN documents d ON d.id = p.doc_id
                             WHERE {where}""", args).fetchone()[0]
    direction = "DESC" if newest_first else "ASC"
    rows = conn.execute(f"""SELECT p.id, p.doc_id FROM passages p JOIN documents d ON d.id = p.doc_id WHERE {where}
                            ORDER BY d.published IS NULL, d.published {direction}, d.id, p.rowid
                            LIMIT ?""", [*args, limit]).fetchall()
    return total, [(r[0], r[1]) for r in rows]


def matches_by_date(kbase: KnowledgeBase, matches: MatchSet, filters: Filters, ranked: list[str],
                    newest_first: bool = True, limit: int = ORDERED_LIMIT) -> list[Entry]:
    """Every passage of ``matches`` passing ``filters``, by its document's publication date
    (undated last); within a document the ``ranked`` ones (the relevance ranking) first, in
    rank order, then the others in document order. A publication stored in several renditions
    (a PDF and its HTML) is listed once: the rendition the ranking met first, else the first stored."""
    passing = matches.passing(filters)
    if not passing:
        return []
    conn = kbase.store.conn
    docs = sorted({m.doc_id for _, m in passing})
    published: dict[str, str | None] = {}
    publication: dict[str, str] = {}
    stored: dict[str, int] = {}
    for start in range(0, len(docs), 500):
        chunk = docs[start:start + 500]
        for i, (doc_id, date, pub) in enumerate(conn.execute(
                f"""SELECT id, published, COALESCE(publication_id, id) FROM documents
                    WHERE id IN ({','.join('?' * len(chunk))}) ORDER BY ingested_at, id""", chunk)):
            published[doc_id], publication[doc_id], stored[doc_id] = date, pub, start + i
    rank = {pid: i for i, pid in enumerate(ranked)}
    first_ranked: dict[str, int] = {}
    for pid, m in passing:
        if pid in rank:
            first_ranked[m.doc_id] = min(first_ranked.get(m.doc_id, len(rank)), rank[pid])
    chosen: dict[str, str] = {}  # publication -> the rendition listed
    for doc_id in sorted(published, key=lambda d: (first_ranked.get(d, len(rank)), stored[d])):
        chosen.setdefault(publication[doc_id], doc_id)
    kept = [(pid, m) for pid, m in passing if chosen.get(publication.get(m.doc_id, m.doc_id)) == m.doc_id]
    kept.sort(key=lambda e: (rank.get(e[0], len(rank)), e[1].rowid))  # within a document
    dated = [e for e in kept if published.get(e[1].doc_id)]
    dated.sort(key=lambda e: (published[e[1].doc_id], e[1].doc_id), reverse=newest_first)  # stable
    undated = sorted((e for e in kept if not published.get(e[1].doc_id)), key=lambda e: e[1].doc_id)
    return [(pid, m.doc_id) for pid, m in (dated + undated)[:limit]]


def hits_for(kbase: KnowledgeBase, entries: list[Entry], query: Query,
             known: dict[str, Hit] | None = None) -> list[Hit]:
    """The hits of ``entries``, in order: ``known`` ones as they are, the others read from the
    store (score 0: not ranked), each naming its publication's other renditions."""
    known = known or {}
    missing = [pid for pid, _ in entries if pid not in known]
    read: dict[str, Hit] = {}
    for start in range(0, len(missing), 500):
        chunk = missing[start:start + 500]
        read.update((h.passage_id, h) for h in _hits(kbase.store.conn, [(pid, 0.0) for pid in chunk], query))
    fresh = [read[pid] for pid, _ in entries if pid in read]
    one_per_publication(kbase.store.conn, fresh)  # names the other renditions (none of them is listed)
    return [known.get(pid) or read[pid] for pid, _ in entries if pid in known or pid in read]

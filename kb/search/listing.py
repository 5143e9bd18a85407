"""Browsing without words: the passages a filter selects (a theme's, a source's), by date.

A researcher who picks the theme "workforce" and no words wants that theme's evidence, newest
first — not an empty page. The filters are the search's own (``Filters.sql``), so a browse and
a search with words select passages the same way.
"""
from __future__ import annotations

from kb.search.engine import Filters, Hit, _hits
from kb.search.query import Query
from kb.store.knowledge import KnowledgeBase


def browse(kbase: KnowledgeBase, filters: Filters, limit: int, newest_first: bool = True) -> tuple[int, list[Hit]]:
    """``(total, hits)``: how many passages ``filters`` select, and the first ``limit`` of them
    by publication date (undated last), in document then passage order within a date."""
    conn = kbase.store.conn
    where, args = filters.sql()
    total = conn.execute(f"""SELECT COUNT(*) FROM passages p JOIN documents d ON d.id = p.doc_id
                             WHERE {where}""", args).fetchone()[0]
    direction = "DESC" if newest_first else "ASC"
    rows = conn.execute(f"""SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc_id WHERE {where}
                            ORDER BY d.published IS NULL, d.published {direction}, d.id, p.rowid
                            LIMIT ?""", [*args, limit]).fetchall()
    hits = _hits(conn, [(r[0], 0.0) for r in rows], Query())
    return total, hits

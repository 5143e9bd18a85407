"""Keep Chroma a faithful copy of SQLite: rebuild it wholesale (``kb reindex``)."""
from __future__ import annotations

import logging

from kb.knowledge import KnowledgeBase
from kb.vectors import PASSAGES, RECOMMENDATIONS

log = logging.getLogger(__name__)

TABLE_FOR = {
    PASSAGES: "SELECT p.id, p.text, p.doc_id, d.source, d.year, p.page FROM passages p "
              "JOIN documents d ON d.id = p.doc_id ORDER BY p.rowid",
    RECOMMENDATIONS: "SELECT r.id, r.text, r.doc_id, d.source, d.year, r.page FROM recommendations r "
                     "JOIN documents d ON d.id = r.doc_id ORDER BY r.id",
}


def reindex(kbase: KnowledgeBase, batch: int = 2000) -> dict:
    """Drop and refill every collection from SQLite rows and the embedding cache."""
    from kb.recurrence import rebuild_groups

    counts = {}
    for name, sql in TABLE_FOR.items():
        kbase.vectors.reset(name)
        rows = kbase.store.conn.execute(sql).fetchall()
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            vectors = kbase.embed([r[1] for r in chunk])
            kbase.vectors.upsert(name, [r[0] for r in chunk], vectors,
                                 [{"doc_id": r[2], "source": r[3], "year": r[4] or 0, "page": r[5] or 0}
                                  for r in chunk])
        counts[name] = len(rows)
    groups = rebuild_groups(kbase)
    return {"vectors": counts, "recurrence_groups": len(groups)}

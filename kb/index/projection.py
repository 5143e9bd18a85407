"""Chroma as one projection of SQLite: the only writer of vectors and their metadata.

Each collection is a query over SQLite rows, ``(id, text, doc_id, source, year, page,
[extra metadata...])``; a vector is the embedding of ``text`` (from the embedding cache, so
nothing is embedded twice) and its metadata is read off the same row. Ingest, ``kb reindex``
and ``kb doctor`` all write through here, so the three can never disagree on what a vector's
metadata holds, and a collection added here is written, checked and rebuilt everywhere.
"""
from __future__ import annotations

import sqlite3

from kb.store.knowledge import KnowledgeBase
from kb.store.vectors import FINDINGS, PASSAGES, RECOMMENDATIONS

# (SELECT ... FROM ... JOIN, condition or None, ORDER BY, the row's document column)
_QUERIES = {
    PASSAGES: ("SELECT p.id, p.text, p.doc_id, d.source, d.year, p.page FROM passages p "
               "JOIN documents d ON d.id = p.doc_id", None, "p.rowid", "p.doc_id"),
    RECOMMENDATIONS: ("SELECT r.id, r.text, r.doc_id, d.source, d.year, r.page FROM recommendations r "
                      "JOIN documents d ON d.id = r.doc_id", None, "r.id", "r.doc_id"),
    FINDINGS: ("SELECT b.vector_id, b.sentence, b.doc_id, d.source, d.year, b.page, b.theme FROM barriers b "
               "JOIN documents d ON d.id = b.doc_id", "b.vector_id IS NOT NULL", "b.id", "b.doc_id"),
}


def collection_sql(name: str, one_document: bool = False) -> str:
    """The rows of collection ``name``; with ``one_document``, those of the document bound to ``?``."""
    select, condition, order, doc_column = _QUERIES[name]
    conditions = [c for c in (condition, f"{doc_column} = ?" if one_document else None) if c]
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"{select}{where} ORDER BY {order}"


# Every collection's full query: what reindex rebuilds and doctor compares.
TABLE_FOR = {name: collection_sql(name) for name in _QUERIES}


def metadata(row: sqlite3.Row) -> dict:
    """A vector's metadata, from its row: columns after the sixth under their own names."""
    meta = {"doc_id": row[2], "source": row[3], "year": row[4] or 0, "page": row[5] or 0}
    meta.update({key: row[key] for key in row.keys()[6:] if row[key] is not None})
    return meta


def write_rows(kbase: KnowledgeBase, name: str, rows: list, batch: int = 2000) -> None:
    """Upsert the vectors of these rows (cached texts are never re-embedded)."""
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        vectors = kbase.embed([r[1] for r in chunk])
        kbase.vectors.upsert(name, [r[0] for r in chunk], vectors, [metadata(r) for r in chunk])


def write_documents(kbase: KnowledgeBase, doc_ids: list[str]) -> dict:
    """(Re)write every vector of these documents from their SQLite rows: a new document's
    vectors, or what a run killed between its SQLite commit and its Chroma writes still owes."""
    counts = {}
    for name in _QUERIES:
        sql = collection_sql(name, one_document=True)
        rows = [r for doc_id in doc_ids for r in kbase.store.conn.execute(sql, (doc_id,))]
        write_rows(kbase, name, rows)
        counts[name] = len(rows)
    return counts

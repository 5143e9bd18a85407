"""Keep Chroma a faithful copy of SQLite: rebuild it wholesale (``kb reindex``) or check and
repair it id by id (``kb doctor``).

SQLite is the record of truth. Chroma can drift from it when a process dies between the
SQLite commit and the Chroma write, when a Chroma server is shared or restored from an older
backup, or when someone edits a collection by hand. ``doctor`` finds exactly which ids differ
and repairs only those, from the embedding cache, so a repair never re-embeds a whole corpus.
"""
from __future__ import annotations

import logging
import sqlite3

import numpy as np

from kb.store.knowledge import KnowledgeBase
from kb.index.ingest import LINKS_STALE, settle
from kb.index.projection import TABLE_FOR, write_rows

log = logging.getLogger(__name__)

# Full-text tables kept in step with their content table by triggers: (fts table, content table).
FTS_TABLES = (("passages_fts", "passages"),)


def reindex(kbase: KnowledgeBase, batch: int = 2000) -> dict:
    """Drop and refill every collection from SQLite rows and the embedding cache."""
    from kb.analysis.recurrence import rebuild_groups

    counts = {}
    for name, sql in TABLE_FOR.items():
        kbase.vectors.reset(name)
        rows = kbase.store.conn.execute(sql).fetchall()
        write_rows(kbase, name, rows, batch)
        counts[name] = len(rows)
    with kbase.store.transaction() as conn:  # every vector is rewritten: nothing is owed any more
        conn.execute("DELETE FROM vectors_pending")
        conn.execute("DELETE FROM vectors_stale")
    from kb.analysis.lifecycle import link_responses

    links = link_responses(kbase)
    groups = rebuild_groups(kbase)
    kbase.store.set_flag(LINKS_STALE, None)
    return {"vectors": counts, "recurrence_groups": len(groups), "response_links": links}


# --- doctor -------------------------------------------------------------------------------


def doctor(kbase: KnowledgeBase, repair: bool = True) -> dict:
    """Compare SQLite with Chroma collection by collection and check SQLite itself.

    Returns ``{"healthy", "sqlite": {"integrity", "fts"}, "pending", "collections": {name: {"sqlite",
    "chroma", "missing", "orphans", "unreadable", "mismatched", "compared", "damaged_documents",
    "repaired"}}}``. ``missing`` (rows without a vector) and
    ``orphans`` (vectors without a row), ``unreadable`` (listed but not readable) and ``mismatched``
    (not the cached embedding of the row's text, of ``compared`` vectors) are what was found; with ``repair`` the missing
    vectors are upserted, the orphans deleted, the full-text index rebuilt if it is
    inconsistent, and everything checked again: ``after`` holds that second look and
    ``healthy`` describes the state the knowledge base is left in. ``pending`` counts the
    work a killed ``kb ingest`` noted and did not finish; a repair settles it first.
    """
    sqlite_report = _check_sqlite(kbase.store.conn, repair)
    pending = _pending(kbase)
    if repair and any(pending.values()):
        settle(kbase)  # the notes a killed ingest left; the id-by-id check below confirms them
        pending = dict(_pending(kbase), settled=True)
    collections: dict[str, dict] = {}
    for name in TABLE_FOR:
        collections[name] = _check_collection(kbase, name, repair)
    owed = pending["documents"] or pending["stale_vectors"] or pending["links_stale"]
    healthy = sqlite_report["healthy"] and not owed and all(c["healthy"] for c in collections.values())
    for c in collections.values():
        del c["healthy"]
    del sqlite_report["healthy"]
    return {"healthy": healthy, "sqlite": sqlite_report, "collections": collections, "pending": pending}


def _pending(kbase: KnowledgeBase) -> dict:
    """Work a killed ``kb ingest`` left noted (see ``kb.index.ingest``)."""
    store = kbase.store
    return {"documents": len(store.pending_documents()),
            "stale_vectors": sum(map(len, store.stale_vectors().values())),
            "links_stale": bool(store.flag(LINKS_STALE))}


def _sqlite_ids(kbase: KnowledgeBase, name: str) -> list[str]:
    """The first column of the collection's query (rows are streamed; only the ids are kept)."""
    return [r[0] for r in kbase.store.conn.execute(TABLE_FOR[name])]


def _chroma_ids(kbase: KnowledgeBase, name: str, create: bool) -> set[str]:
    """The collection's ids; a check (``create=False``) never creates a missing collection."""
    if not create:
        existing = {getattr(c, "name", c) for c in kbase.vectors.client.list_collections()}
        if name not in existing:
            return set()
    return kbase.vectors.all_ids(name)


def _check_collection(kbase: KnowledgeBase, name: str, repair: bool) -> dict:
    """Ids first (missing, orphans), then content: every vector read back and compared with
    the embedding cache (``unreadable``: Chroma lists the id but cannot return its vector, as
    after two processes wrote one embedded store; ``mismatched``: a vector that is not the
    embedding of its row's text). Ids in any of the three damaged sets are rewritten."""
    wanted = _sqlite_ids(kbase, name)
    wanted_set = set(wanted)
    present = _chroma_ids(kbase, name, create=repair)
    missing = wanted_set - present
    orphans = present - wanted_set
    content = _check_content(kbase, name, present & wanted_set)
    damaged = missing | content["unreadable"] | content["mismatched"]
    entry = {"sqlite": len(wanted), "chroma": len(present), "missing": len(missing),
             "orphans": len(orphans), "unreadable": len(content["unreadable"]),
             "mismatched": len(content["mismatched"]), "compared": content["compared"],
             "damaged_documents": _documents_of(kbase, name, damaged), "repaired": False}
    if (damaged or orphans) and repair:
        if damaged:
            rows = [r for r in kbase.store.conn.execute(TABLE_FOR[name]) if r[0] in damaged]
            log.info("%s: rewriting %d missing or damaged vectors", name, len(rows))
            if content["unreadable"]:  # an unreadable id may not be overwritten in place: drop it first
                kbase.vectors.delete(name, sorted(content["unreadable"]))
            write_rows(kbase, name, rows)
        if orphans:
            log.info("%s: deleting %d orphan vectors", name, len(orphans))
            kbase.vectors.delete(name, sorted(orphans))
        after_ids = kbase.vectors.all_ids(name)
        after_content = _check_content(kbase, name, after_ids & wanted_set)
        after = {"chroma": len(after_ids), "missing": len(wanted_set - after_ids),
                 "orphans": len(after_ids - wanted_set), "unreadable": len(after_content["unreadable"]),
                 "mismatched": len(after_content["mismatched"])}
        entry["after"] = after
        entry["repaired"] = not any(after[k] for k in ("missing", "orphans", "unreadable", "mismatched"))
        entry["healthy"] = entry["repaired"]
    else:
        entry["healthy"] = not damaged and not orphans
    return entry


def _check_content(kbase: KnowledgeBase, name: str, ids: set[str], batch: int = 500,
                   tolerance: float = 1e-3) -> dict:
    """Read every vector back from Chroma and compare it with the SQLite embedding cache of its
    row's text (only cached texts are compared: a check never embeds). A batch Chroma fails to
    read is split until the unreadable ids are found one by one."""
    texts = {r[0]: (r[1], r[2]) for r in kbase.store.conn.execute(TABLE_FOR[name]) if r[0] in ids}
    unreadable: set[str] = set()
    mismatched: set[str] = set()
    compared = 0
    ordered = sorted(ids)
    for start in range(0, len(ordered), batch):
        got = _read_vectors(kbase, name, ordered[start:start + batch], unreadable)
        keys = {i: kbase.key(texts[i][0]) for i in got}
        cached = kbase.store.cached_vectors(sorted(set(keys.values())))
        for i, vector in got.items():
            reference = cached.get(keys[i])
            if reference is None:
                continue
            compared += 1
            if vector.shape != reference.shape or float(np.max(np.abs(vector - reference))) > tolerance:
                mismatched.add(i)
    return {"unreadable": unreadable, "mismatched": mismatched, "compared": compared}


def _documents_of(kbase: KnowledgeBase, name: str, ids: set[str]) -> list[str]:
    """The documents these vector ids belong to: what a user re-checks after a repair."""
    if not ids:
        return []
    return sorted({r[2] for r in kbase.store.conn.execute(TABLE_FOR[name]) if r[0] in ids})


def _read_vectors(kbase: KnowledgeBase, name: str, ids: list[str], unreadable: set[str]) -> dict:
    col = kbase.vectors.collection(name)
    try:
        res = col.get(ids=ids, include=["embeddings"])
    except Exception as exc:  # Chroma's "Error finding id" and kin: find which ids, one half at a time
        if len(ids) == 1:
            log.warning("%s: vector %s unreadable: %s", name, ids[0], exc)
            unreadable.add(ids[0])
            return {}
        half = len(ids) // 2
        return {**_read_vectors(kbase, name, ids[:half], unreadable),
                **_read_vectors(kbase, name, ids[half:], unreadable)}
    got = {}
    embeddings = res.get("embeddings")
    for i, vector in zip(res["ids"], embeddings if embeddings is not None else []):
        if vector is None:
            unreadable.add(i)
        else:
            got[i] = np.asarray(vector, dtype=np.float32)
    unreadable.update(set(ids) - set(res["ids"]))
    return got


def _check_sqlite(conn: sqlite3.Connection, repair: bool) -> dict:
    """``PRAGMA integrity_check`` plus each FTS index against its content table."""
    problems = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    integrity = "ok" if problems == ["ok"] else problems
    fts: dict[str, str] = {}
    for table, content in FTS_TABLES:
        if _fts_consistent(conn, table):
            fts[table] = "ok"
        elif not repair:
            fts[table] = "inconsistent"
        else:
            log.warning("%s does not match %s: rebuilding it", table, content)
            conn.execute(f"INSERT INTO {table}({table}) VALUES('rebuild')")
            fts[table] = "rebuilt" if _fts_consistent(conn, table) else "inconsistent"
    healthy = integrity == "ok" and all(v in ("ok", "rebuilt") for v in fts.values())
    return {"healthy": healthy, "integrity": integrity, "fts": fts}


def _fts_consistent(conn: sqlite3.Connection, table: str) -> bool:
    """FTS5's own integrity check; rank 1 also compares the index with the external content
    table (a row inserted or deleted behind the triggers' back), not only its inner structure."""
    for sql in (f"INSERT INTO {table}({table}, rank) VALUES('integrity-check', 1)",
                f"INSERT INTO {table}({table}) VALUES('integrity-check')"):
        try:
            conn.execute(sql)
            return True
        except sqlite3.OperationalError as exc:
            if "rank" in str(exc).lower() or "syntax" in str(exc).lower():
                continue  # an SQLite without the rank argument: fall back to the plain check
            log.warning("%s integrity check failed: %s", table, exc)
            return False
        except sqlite3.DatabaseError as exc:  # SQLITE_CORRUPT_VTAB: "database disk image is malformed"
            log.warning("%s integrity check failed: %s", table, exc)
            return False
    return True

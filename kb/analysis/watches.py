"""Follow a search without an account: saved searches (watches) live in the knowledge base and
``kb alerts`` lists, for each, the passages of documents ingested since it last looked.

Written only by the CLI (the web app opens the knowledge base read-only); the same searches
are available to feed readers as ``/feeds/search.atom``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from kb.search.engine import Filters, search

ALERT_DEPTH = 100  # hits searched per watch; alerts are the new documents among them


@dataclass
class Watch:
    id: int
    query: str
    theme: str | None
    source: str | None
    created_at: str
    checked_at: str

    def to_json(self) -> dict:
        return asdict(self)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def add_watch(store, query: str, theme: str | None = None, source: str | None = None) -> Watch:
    now = _now()
    with store.transaction() as conn:
        cur = conn.execute("INSERT INTO watches(query, theme, source, created_at, checked_at) VALUES (?,?,?,?,?)",
                           (query, theme, source, now, now))
    return Watch(cur.lastrowid, query, theme, source, now, now)


def list_watches(store) -> list[Watch]:
    return [Watch(**dict(r)) for r in store.conn.execute("SELECT * FROM watches ORDER BY id")]


def remove_watch(store, watch_id: int) -> bool:
    with store.transaction() as conn:
        return conn.execute("DELETE FROM watches WHERE id = ?", (watch_id,)).rowcount > 0


def alerts(kbase, since: str | None = None, mark: bool = True) -> list[dict]:
    """For each watch, the hits from documents ingested after ``since`` (default: when the watch
    was last checked). Without ``since``, each watch is then marked checked (``mark``), so the
    next run lists only what is newer still."""
    store = kbase.store
    out = []
    now = _now()
    for w in list_watches(store):
        floor = since or w.checked_at
        hits = search(kbase, w.query, k=ALERT_DEPTH, filters=Filters(theme=w.theme, source=w.source))
        ingested = _ingested_at(store, {h.doc_id for h in hits})
        new = [dict(h.to_json(), ingested_at=ingested[h.doc_id]) for h in hits
               if ingested.get(h.doc_id, "") > floor]
        out.append({"watch": w.to_json(), "since": floor, "new": new})
    if mark and since is None and out:
        with store.transaction() as conn:
            conn.execute("UPDATE watches SET checked_at = ?", (now,))
    return out


def _ingested_at(store, doc_ids: set[str]) -> dict[str, str]:
    if not doc_ids:
        return {}
    ids = sorted(doc_ids)
    marks = ",".join("?" * len(ids))
    return dict(store.conn.execute(f"SELECT id, ingested_at FROM documents WHERE id IN ({marks})", ids).fetchall())

"""SQLite: the knowledge base's record of truth (documents, passages, extractions, groups).

Chroma holds only derived vectors; everything needed to rebuild it (passage text and the
cached embeddings) lives here, so ``kb reindex`` never needs the original files.
"""
from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

log = logging.getLogger(__name__)


# Migration 1 creates a ``crawl_runs`` table that nothing ever wrote: crawls are recorded in
# ``<home>/crawl/*.jsonl`` (see ``kb.analysis.documents.last_crawl_log``). It stays, as shipped.
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        source TEXT NOT NULL,
        title TEXT,
        published TEXT,
        year INTEGER,
        doc_type TEXT,
        publisher TEXT,
        format TEXT,
        pages INTEGER,
        identifiers TEXT NOT NULL DEFAULT '{}',
        referrer TEXT,
        content_type TEXT,
        raw_path TEXT,
        ingested_at TEXT NOT NULL
    );
    CREATE INDEX documents_url ON documents(url);
    CREATE INDEX documents_source_year ON documents(source, year);

    CREATE TABLE pages (
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        page INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (doc_id, page)
    );

    CREATE TABLE passages (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        page INTEGER,
        text TEXT NOT NULL,
        themes TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX passages_doc ON passages(doc_id);
    CREATE VIRTUAL TABLE passages_fts USING fts5(
        text, content='passages', content_rowid='rowid', tokenize='porter unicode61'
    );
    CREATE TRIGGER passages_ai AFTER INSERT ON passages BEGIN
        INSERT INTO passages_fts(rowid, text) VALUES (new.rowid, new.text);
    END;
    CREATE TRIGGER passages_ad AFTER DELETE ON passages BEGIN
        INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    END;

    CREATE TABLE barriers (
        id INTEGER PRIMARY KEY,
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        theme TEXT NOT NULL,
        themes TEXT NOT NULL DEFAULT '[]',
        sentence TEXT NOT NULL,
        page INTEGER,
        score REAL NOT NULL
    );
    CREATE INDEX barriers_theme ON barriers(theme);

    CREATE TABLE recommendations (
        id TEXT PRIMARY KEY,
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        label TEXT,
        text TEXT NOT NULL,
        actor TEXT,
        deadline TEXT,
        page INTEGER,
        group_id TEXT
    );
    CREATE INDEX recommendations_doc ON recommendations(doc_id);
    CREATE INDEX recommendations_group ON recommendations(group_id);

    CREATE TABLE responses (
        id INTEGER PRIMARY KEY,
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        responds_to TEXT,
        stance TEXT NOT NULL,
        text TEXT NOT NULL,
        target_date TEXT,
        page INTEGER
    );

    CREATE TABLE funding (
        id INTEGER PRIMARY KEY,
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        amount_gbp REAL NOT NULL,
        mention TEXT NOT NULL,
        subject TEXT,
        period TEXT,
        kind TEXT NOT NULL,
        sentence TEXT NOT NULL,
        page INTEGER,
        per_unit INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE recurrence_groups (
        id TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        years TEXT NOT NULL,
        first_year INTEGER,
        last_year INTEGER,
        size INTEGER NOT NULL
    );

    CREATE TABLE embeddings (
        key TEXT PRIMARY KEY,
        vector BLOB NOT NULL
    );

    CREATE TABLE failures (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        reason TEXT NOT NULL,
        at TEXT NOT NULL
    );

    CREATE TABLE crawl_runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        sources TEXT NOT NULL,
        stored INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0
    );
    """,
    2: """
    ALTER TABLE recurrence_groups ADD COLUMN kind TEXT NOT NULL DEFAULT 'recommendation';
    ALTER TABLE barriers ADD COLUMN group_id TEXT;
    CREATE INDEX barriers_group ON barriers(group_id);
    ALTER TABLE recommendations ADD COLUMN restates TEXT;
    ALTER TABLE responses ADD COLUMN recommendation_id TEXT;
    ALTER TABLE responses ADD COLUMN link_method TEXT;
    ALTER TABLE responses ADD COLUMN link_score REAL;
    CREATE INDEX responses_recommendation ON responses(recommendation_id);
    """,
    3: """
    ALTER TABLE barriers ADD COLUMN vector_id TEXT;
    CREATE INDEX barriers_vector ON barriers(vector_id);
    """,
    # Work owed to Chroma and to the whole-KB links, written in the same transaction as the
    # document that causes it and cleared only once done: a process killed in between leaves
    # a note that the next ``kb ingest`` (or ``kb doctor``) settles, so a re-run converges.
    4: """
    CREATE TABLE vectors_pending (
        doc_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE
    );
    CREATE TABLE vectors_stale (
        collection TEXT NOT NULL,
        vector_id TEXT NOT NULL,
        PRIMARY KEY (collection, vector_id)
    );
    """,
    # The search theme filter scans this small index instead of every passage's text.
    5: """
    CREATE INDEX IF NOT EXISTS passages_themes ON passages(themes);
    """,
    # Renditions (kb.store.renditions), explicit back-references (kb.analysis.backrefs) and the words a
    # recurrence group shows for itself (kb.analysis.recurrence).
    6: """
    ALTER TABLE documents ADD COLUMN publication_id TEXT;
    CREATE INDEX documents_publication ON documents(publication_id);
    CREATE TABLE doc_signatures (
        doc_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
        signature BLOB NOT NULL,
        shingles INTEGER NOT NULL
    );
    CREATE TABLE back_references (
        id INTEGER PRIMARY KEY,
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        page INTEGER,
        sentence TEXT NOT NULL,
        body TEXT,
        year INTEGER NOT NULL,
        month INTEGER,
        target_doc_id TEXT
    );
    CREATE INDEX back_references_doc ON back_references(doc_id);
    CREATE INDEX back_references_target ON back_references(target_doc_id);
    ALTER TABLE recurrence_groups ADD COLUMN key_phrases TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE recurrence_groups ADD COLUMN why TEXT NOT NULL DEFAULT '';
    """,
    # A response may answer several recommendations ('8.12, 8.13'); responses.recommendation_id
    # keeps the first for older readers, response_links holds them all.
    7: """
    ALTER TABLE responses ADD COLUMN responder TEXT;
    ALTER TABLE responses ADD COLUMN stance_evidence TEXT;
    ALTER TABLE responses ADD COLUMN implementation TEXT;
    ALTER TABLE responses ADD COLUMN quoted TEXT;
    CREATE TABLE response_links (
        response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
        recommendation_id TEXT NOT NULL,
        link_method TEXT,
        link_score REAL,
        PRIMARY KEY (response_id, recommendation_id)
    );
    CREATE INDEX response_links_recommendation ON response_links(recommendation_id);
    """,
    # A document's items, one part at a time (kb.analysis.documents): counted and ordered from
    # these indexes, never by scanning every sentence (a hostile document has 357,142 figures).
    8: """
    CREATE INDEX IF NOT EXISTS funding_doc_page ON funding(doc_id, page, id);
    CREATE INDEX IF NOT EXISTS barriers_doc_page ON barriers(doc_id, page, id);
    CREATE INDEX IF NOT EXISTS responses_doc_page ON responses(doc_id, page, id);
    """,
    # Saved searches followed without accounts (``kb watch``); written by the CLI only, the
    # web app stays read-only. ``checked_at``: what ``kb alerts`` last reported up to.
    9: """
    CREATE TABLE watches (
        id INTEGER PRIMARY KEY,
        query TEXT NOT NULL,
        theme TEXT,
        source TEXT,
        created_at TEXT NOT NULL,
        checked_at TEXT NOT NULL
    );
    """,
    # The number printed on each page ('49', 'ix'; nlp.page_labels), cited beside the PDF index.
    10: """
    ALTER TABLE pages ADD COLUMN label TEXT;
    """,
}
SCHEMA_VERSION = max(MIGRATIONS)  # the newest migration: an archive from a newer Refrain is refused


@dataclass
class DocumentRow:
    id: str
    sha256: str
    url: str
    source: str
    title: str | None
    published: str | None
    year: int | None
    doc_type: str | None
    publisher: str | None
    format: str | None
    pages: int | None
    identifiers: dict
    referrer: str | None
    content_type: str | None
    raw_path: str | None
    ingested_at: str
    publication_id: str | None = None  # shared by renditions of one publication (kb.store.renditions)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "DocumentRow":
        data = dict(row)
        data["identifiers"] = json.loads(data.get("identifiers") or "{}")
        return cls(**data)

    def citation(self) -> dict:
        return {"doc_id": self.id, "title": self.title, "source": self.source, "url": self.url,
                "published": self.published}


class Store:
    """One SQLite database under ``$KB_HOME``; opened per process (or per web request)."""

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        if readonly:
            uri = f"file:{self.path}?mode=ro"
            self.conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are explicit (``transaction()``), never implicit.
            self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.migrate()

    def close(self) -> None:
        self.conn.close()

    # --- schema ---------------------------------------------------------------------------

    def schema_version(self) -> int:
        self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def migrate(self) -> None:
        current = self.schema_version()
        for version in sorted(v for v in MIGRATIONS if v > current):
            with self.transaction():
                if self.schema_version() >= version:  # another process migrated meanwhile
                    continue
                log.info("migrating %s to schema %d", self.path, version)
                for statement in _split_sql(MIGRATIONS[version]):
                    self.conn.execute(statement)
                self.conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(version),)
                )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing: a crash mid-document leaves no half-ingested rows behind."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    # --- documents ------------------------------------------------------------------------

    def document(self, doc_id: str) -> DocumentRow | None:
        row = self.conn.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return DocumentRow.from_row(row) if row else None

    def document_by_sha(self, sha256: str) -> DocumentRow | None:
        row = self.conn.execute("SELECT * FROM documents WHERE sha256 = ?", (sha256,)).fetchone()
        return DocumentRow.from_row(row) if row else None

    def documents_by_url(self, url: str) -> list[DocumentRow]:
        rows = self.conn.execute("SELECT * FROM documents WHERE url = ?", (url,)).fetchall()
        return [DocumentRow.from_row(r) for r in rows]

    def documents(self, source: str | None = None) -> list[DocumentRow]:
        sql = "SELECT * FROM documents"
        args: tuple = ()
        if source:
            sql += " WHERE source = ?"
            args = (source,)
        sql += " ORDER BY published, title"
        return [DocumentRow.from_row(r) for r in self.conn.execute(sql, args)]

    def delete_document(self, doc_id: str) -> list[str]:
        """Remove a document and everything derived from it; returns its passage ids."""
        passage_ids = [r[0] for r in self.conn.execute("SELECT id FROM passages WHERE doc_id = ?", (doc_id,))]
        self.conn.execute("DELETE FROM passages WHERE doc_id = ?", (doc_id,))
        self.conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        return passage_ids

    # --- work owed to Chroma (see migration 4) -------------------------------------------

    def set_flag(self, key: str, value: str | None) -> None:
        """A small persistent flag in ``meta`` (``None`` clears it)."""
        if value is None:
            self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def flag(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def pending_documents(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT doc_id FROM vectors_pending ORDER BY doc_id")]

    def stale_vectors(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, vid in self.conn.execute("SELECT collection, vector_id FROM vectors_stale ORDER BY 1, 2"):
            out.setdefault(name, []).append(vid)
        return out

    # --- embeddings cache -----------------------------------------------------------------

    def cached_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self.conn.execute(f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", chunk):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def cache_vectors(self, items: dict[str, np.ndarray]) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO embeddings(key, vector) VALUES (?, ?)",
            [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
        )

    # --- failures -------------------------------------------------------------------------

    def record_failure(self, path: str, reason: str, at: str) -> None:
        self.conn.execute("INSERT INTO failures(path, reason, at) VALUES (?, ?, ?)", (path, reason, at))

    def failures(self, limit: int = 100) -> list[dict]:
        rows = self.conn.execute("SELECT path, reason, at FROM failures ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    # --- counts ---------------------------------------------------------------------------

    def stats(self) -> dict:
        count = lambda table: self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: E731
        sources = {s: n for s, n in self.conn.execute(
            "SELECT source, COUNT(*) FROM documents GROUP BY source ORDER BY source")}
        kinds = dict(self.conn.execute("SELECT kind, COUNT(*) FROM recurrence_groups GROUP BY kind").fetchall())
        return {
            "documents": count("documents"),
            "sources": sources,
            "recommendations": count("recommendations"),
            "barriers": count("barriers"),
            "funding": count("funding"),
            "responses": count("responses"),
            "passages": count("passages"),
            "recurrence_groups": count("recurrence_groups"),
            "recurring_findings": kinds.get("finding", 0),
            "recurring_recommendations": kinds.get("recommendation", 0),
            "publications": self.conn.execute(
                "SELECT COUNT(DISTINCT COALESCE(publication_id, id)) FROM documents").fetchone()[0],
        }


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (which contain ';') whole."""
    statements, buf, depth = [], [], 0
    for line in script.splitlines():
        stripped = line.strip().upper()
        if not stripped:
            continue
        buf.append(line)
        if stripped.startswith("CREATE TRIGGER"):
            depth = 1
        if depth and stripped.startswith("END;"):
            depth = 0
            statements.append("\n".join(buf))
            buf = []
            continue
        if not depth and stripped.endswith(";"):
            statements.append("\n".join(buf))
            buf = []
    if buf and "".join(buf).strip():
        statements.append("\n".join(buf))
    return statements

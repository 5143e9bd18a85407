"""What earlier crawls fetched, per URL: the content hash and the server's validators.

A re-crawl asks the server "has this changed?" (``If-None-Match`` / ``If-Modified-Since``)
with the validators stored here, and classifies every document it ends up with as new,
changed or unchanged against the hash stored here. SQLite, because a crawl killed half-way
must leave the state readable, and one small file under ``<home>/crawl/`` is easy to delete.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from crawler.scope import is_loopback

SCHEMA = """
CREATE TABLE IF NOT EXISTS fetched (
    url TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    content_type TEXT,
    etag TEXT,
    last_modified TEXT,
    fetched_at TEXT
)
"""

NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"


def state_key(url: str) -> str:
    """The URL a document is remembered under. A mirror on this machine (the demo site) is
    served on a fresh port each run, so its origin is left out: the same path is the same
    document on whichever port it is served."""
    parts = urlsplit(url)
    if is_loopback(url):
        return urlunsplit(("http", "loopback", parts.path, parts.query, ""))
    return url


@dataclass(frozen=True)
class Fetched:
    """One URL as last stored."""

    url: str  # as stored: see state_key
    sha256: str
    path: str
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str | None = None


def state_path(home: Path) -> Path:
    return Path(home) / "crawl" / "state.sqlite"


class CrawlState:
    """URL → last stored hash and validators, in ``<home>/crawl/state.sqlite``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(SCHEMA)
        return self._db

    def get(self, url: str) -> Fetched | None:
        row = self._conn().execute(
            "SELECT url, sha256, path, content_type, etag, last_modified, fetched_at FROM fetched WHERE url = ?",
            (state_key(url),),
        ).fetchone()
        return Fetched(*row) if row else None

    def change(self, url: str, sha256: str) -> str:
        """How the bytes just fetched from ``url`` compare with the last ones stored."""
        before = self.get(url)
        if before is None:
            return NEW
        return UNCHANGED if before.sha256 == sha256 else CHANGED

    def record(self, fetched: Fetched) -> None:
        with self._conn() as db:
            db.execute(
                "INSERT OR REPLACE INTO fetched VALUES (?, ?, ?, ?, ?, ?, ?)",
                (state_key(fetched.url), fetched.sha256, fetched.path, fetched.content_type, fetched.etag,
                 fetched.last_modified, fetched.fetched_at),
            )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

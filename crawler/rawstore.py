"""The raw store: where fetched and ingested bytes are kept, by content hash.

``<home>/raw/<sha[:2]>/<sha><ext>`` holds the bytes exactly as fetched (or as a local file
read) and, for crawled documents, ``<sha>.meta.json`` beside it says where they came from
(a ``crawler.records.CrawledDocument``). Writes are atomic (temporary file, then
``os.replace``) and skipped when the file exists, so a crawl or an ingest can be re-run or
killed half-way without leaving torn or duplicated files.

One implementation for both writers: the crawler's pipeline and kb's ingest, which keeps a
copy of every local file it ingests. Like ``crawler.records`` it imports nothing but the
standard library, so kb may import it (see ``.importlinter``).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

RAW_DIR = "raw"  # under the knowledge base's home
SIDECAR_SUFFIX = ".meta.json"


def write_atomically(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless it exists; True when this call wrote it."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


class RawStore:
    """Content-addressed files under ``root`` (``<home>/raw``)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @classmethod
    def under(cls, home: Path) -> "RawStore":
        """The raw store of the knowledge base at ``home``."""
        return cls(Path(home).resolve() / RAW_DIR)

    def path_for(self, sha256: str, ext: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{ext}"

    def sidecar_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{SIDECAR_SUFFIX}"

    def keep(self, body: bytes, ext: str, sha256: str | None = None) -> Path:
        """Store ``body`` (unless a copy is there already) and return where it lies."""
        path = self.path_for(sha256 or hashlib.sha256(body).hexdigest(), ext)
        write_atomically(path, body)
        return path

    def put(self, body: bytes, sidecar: dict, ext: str) -> dict:
        """Store ``body`` and its sidecar; returns the sidecar with ``sha256`` and ``path``.

        The first sidecar written for a hash stays: the bytes are the same document however
        many pages linked to it.
        """
        sha = hashlib.sha256(body).hexdigest()
        path = self.keep(body, ext, sha)
        sidecar = {**sidecar, "sha256": sha, "path": str(path)}
        encoded = json.dumps(sidecar, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
        write_atomically(self.sidecar_for(sha), encoded.encode("utf-8"))
        return sidecar

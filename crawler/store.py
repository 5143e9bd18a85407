"""The raw store and the items log: where crawled bytes land, keyed by content hash.

``<home>/raw/<sha[:2]>/<sha><ext>`` holds the bytes exactly as fetched and
``<sha>.meta.json`` beside it says where they came from. Writes are atomic (temporary file,
then ``os.replace``) and skipped when the file exists, so a crawl can be re-run or killed
half-way without leaving torn or duplicated files.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from crawler.checks import media_type

_EXTENSIONS = {
    "application/pdf": ".pdf",
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/json": ".json",
    "text/plain": ".txt",
}
_URL_EXTENSIONS = {".pdf": ".pdf", ".html": ".html", ".htm": ".html", ".json": ".json", ".txt": ".txt"}


def extension_for(content_type: str | None, url: str = "") -> str:
    """The stored file's extension, from the content type, else the URL, else ``.bin``."""
    ext = _EXTENSIONS.get(media_type(content_type))
    if ext:
        return ext
    suffix = os.path.splitext(urlsplit(url).path)[1].lower()
    return _URL_EXTENSIONS.get(suffix, ".bin")


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
    """Content-addressed files under ``<home>/raw``."""

    def __init__(self, home: Path):
        self.home = Path(home).resolve()
        self.root = self.home / "raw"

    def path_for(self, sha256: str, ext: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{ext}"

    def sidecar_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.meta.json"

    def put(self, body: bytes, sidecar: dict, ext: str) -> dict:
        """Store ``body`` and its sidecar; returns the sidecar with ``sha256`` and ``path``.

        The first sidecar written for a hash stays: the bytes are the same document however
        many pages linked to it.
        """
        sha = hashlib.sha256(body).hexdigest()
        path = self.path_for(sha, ext)
        sidecar = {**sidecar, "sha256": sha, "path": str(path)}
        write_atomically(path, body)
        encoded = json.dumps(sidecar, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
        write_atomically(self.sidecar_for(sha), encoded.encode("utf-8"))
        return sidecar


class ItemsLog:
    """Appends one JSON object per line: what a crawl stored and what failed, and why."""

    def __init__(self, path: Path | None):
        self.path = Path(path) if path else None
        self._handle = None

    def open(self) -> None:
        if self.path and self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")

    def write(self, record: dict) -> None:
        if self._handle is None:
            self.open()
        if self._handle is not None:
            self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def read_log(path: Path) -> list[dict]:
    """Every record of an items log (none when it was never written)."""
    if not Path(path).exists():
        return []
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]

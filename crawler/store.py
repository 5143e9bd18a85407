"""What a crawl writes besides the raw store (``crawler.rawstore``): the stored file's
extension, chosen from its content type or URL, and the items log of what was stored and
what failed.
"""
from __future__ import annotations

import json
import os
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

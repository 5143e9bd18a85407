"""What the crawler hands to the knowledge base: the names of its sources and, beside every
raw file it stores, a ``CrawledDocument`` sidecar (``<sha>.meta.json``). With the raw store
itself (``crawler.rawstore``), the only crawler module other stages may import (see
``.importlinter``): kb reads sidecars through this record, never as loose dicts, and a local
file may carry a sidecar of the same shape.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Mapping

from crawler.rawstore import SIDECAR_SUFFIX

# One spider each (crawler/spiders/); also the ``source`` of every stored document.
SOURCES = ("nao", "govuk", "nhs-digital", "parliament")


@dataclass(frozen=True)
class CrawledDocument:
    """One stored document's provenance, as its publisher's pages gave it. Every field may be
    missing (``None``): a hand-written sidecar of a local file often says only a title."""

    url: str | None = None
    source: str | None = None  # one of SOURCES
    title: str | None = None
    published: str | None = None  # YYYY-MM-DD, or None when the publisher gives no date
    doc_type: str | None = None
    publisher: str | None = None
    identifiers: dict | None = None  # hc_number, command_paper_number, session, ...
    referrer: str | None = None  # the page that linked it
    content_type: str | None = None
    sha256: str | None = None
    fetched_at: str | None = None  # ISO 8601, UTC
    path: str | None = None  # where the raw copy was stored

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "CrawledDocument":
        """The record of a sidecar's JSON object; keys it does not know are ignored."""
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})

    def to_json(self) -> dict:
        """The sidecar's JSON object, keys in reading order."""
        return asdict(self)

    def replace(self, **changes: Any) -> "CrawledDocument":
        return CrawledDocument(**{**asdict(self), **changes})


SIDECAR_FIELDS = tuple(f.name for f in fields(CrawledDocument))


def sidecar_paths(raw_path: Path) -> tuple[Path, Path]:
    """Where a file's sidecar may be: ``<sha>.meta.json`` (the raw store) or ``<name>.meta.json``."""
    return raw_path.with_suffix(SIDECAR_SUFFIX), raw_path.parent / (raw_path.name + SIDECAR_SUFFIX)


def read_sidecar(raw_path: Path) -> CrawledDocument | None:
    """The sidecar beside ``raw_path``, or None. Raises ``ValueError`` for an unreadable file
    or JSON, ``TypeError`` for JSON that is not an object."""
    for candidate in sidecar_paths(raw_path):
        if candidate.is_file():
            try:
                data = json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ValueError(f"unreadable sidecar {candidate}: {exc}") from exc
            if not isinstance(data, dict):
                raise TypeError(f"sidecar {candidate} is not a JSON object")
            return CrawledDocument.from_json(data)
    return None

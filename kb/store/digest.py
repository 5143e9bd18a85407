"""The sha256 of a file, read in blocks: documents are keyed by it (ingest, search
evaluation) and backups verify with it, so every caller must hash the same way."""
from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

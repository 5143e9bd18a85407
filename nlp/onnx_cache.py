"""Keep the per-machine ONNX model cache (``~/.cache/refrain/onnx``) bounded.

Why: every model file is named by a hash of what it was made from, including the packaged
weights' path and modification time, so reinstalling the package, a second virtual
environment or a retrained barrier artefact each make a new 4-34 MB file, and nothing ever
removed the old ones (a development machine held 50 files, 950 MB, after one day of CI runs).

The rule: a file's modification time is when a process last *used* it (``mark_used``, at
every encoder start). Whenever a new file is made, each kind of model (the name before its
hash) keeps its ``KEEP_PER_KIND`` most recently used files; older ones go once they have not
been used for ``GRACE_S``, and any file unused for ``UNUSED_S`` goes whatever its kind (a
kind the code no longer makes). The grace period keeps a file another process has just
found from vanishing before it opens it; a process that already opened it holds its own copy
in memory. Temporary build folders left by a killed build go after the same grace.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import time
from pathlib import Path

log = logging.getLogger(__name__)

KEEP_PER_KIND = 3
GRACE_S = 3600.0
UNUSED_S = 30 * 86400.0

_NAMED = re.compile(r"^(?P<kind>.+)-(?P<tag>[0-9a-f]{16})\.onnx$")


def mark_used(path: Path) -> None:
    """Record that ``path`` is in use now (its modification time), if the cache is writable."""
    try:
        os.utime(path)
    except OSError:
        pass


def prune(cache: Path, now: float | None = None) -> list[Path]:
    """Remove what the rule above says may go; return the removed paths. Never raises: a
    cache that cannot be tidied is still a cache."""
    now = time.time() if now is None else now
    kinds: dict[str, list[tuple[float, Path]]] = {}
    removed: list[Path] = []
    try:
        entries = list(cache.iterdir())
    except OSError:
        return removed
    for entry in entries:
        try:
            used = entry.stat().st_mtime
        except OSError:
            continue
        named = _NAMED.match(entry.name)
        if named and entry.is_file():
            kinds.setdefault(named["kind"], []).append((used, entry))
        elif entry.is_dir() and entry.name.startswith("tmp") and now - used > GRACE_S:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    for files in kinds.values():
        files.sort(reverse=True)
        for rank, (used, path) in enumerate(files):
            idle = now - used
            if idle > UNUSED_S or (rank >= KEEP_PER_KIND and idle > GRACE_S):
                try:
                    path.unlink()
                except OSError:
                    continue
                removed.append(path)
    if removed:
        log.info("removed %d old ONNX model file(s) from %s", len(removed), cache)
    return removed

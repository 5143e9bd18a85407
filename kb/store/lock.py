"""One writer at a time per knowledge base: an inter-process lock on ``$KB_HOME/.write.lock``.

Two ``kb ingest`` runs into one knowledge base at once lost every vector of a document: embedded
Chroma allows one writing process (its SQLite and HNSW files are not shared safely), and SQLite
alone would interleave two runs' notes of owed work. So every command that writes (ingest, crawl,
reindex, doctor) holds this lock for its whole run; a second one waits, saying on
stderr who it waits for. ``fcntl.flock`` is released by the kernel when the holder dies, even by
SIGKILL, so a killed run never leaves a stale lock behind.
"""
from __future__ import annotations

import fcntl
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

LOCK_NAME = ".write.lock"


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() or "another process"
    except OSError:
        return "another process"


@contextmanager
def write_lock(home: Path, what: str, say: Callable[[str], None] | None = None,
               poll: float = 0.5) -> Iterator[None]:
    """Hold the knowledge base's write lock while the block runs; ``what`` (e.g. ``kb ingest
    docs/``) is written into the lock file so a waiting command can name whom it waits for."""
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for {_holder(path)} to finish writing to {home} …")
            while True:  # polled, not blocking, so Ctrl-C interrupts the wait at once
                time.sleep(poll)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    continue
            say(f"lock acquired: {what}")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} ({what})\n".encode("utf-8", "replace"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def writer_active(home: Path) -> str | None:
    """Who holds the write lock now (``pid … (kb ingest)``), or None: what a long-lived reader
    asks before it reopens its view of the vectors, so it never reads a half-written state."""
    path = home / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)

"""Export a knowledge base to one portable archive (``kb export``) and restore it into an
empty ``$KB_HOME`` (``kb import``).

The archive is a ``.tar.gz`` holding ``manifest.json`` (format, schema version, counts, and the
sha256 and size of every other member), ``kb.sqlite`` (a consistent snapshot taken with
SQLite's online backup API, so exporting while an ingest runs is safe), ``raw/`` (the stored
source files and their sidecars) and ``crawl/`` (crawl logs).

Chroma is *not* in the archive: its on-disk format belongs to one Chroma version and its HNSW
files to one machine's build, while everything it holds is derived from SQLite. Import rebuilds
the vectors from the SQLite embedding cache (``kb reindex``), so no text is embedded again and
the archive opens on any machine with any supported Chroma, embedded or server.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from kb.config import Settings
from kb.store.digest import file_sha256

log = logging.getLogger(__name__)

FORMAT = "refrain-kb-export"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE = "kb.sqlite"
FOLDERS = ("raw", "crawl")


class BackupError(Exception):
    """An export or import that cannot go ahead; the message is the user-facing reason."""


def _snapshot(db: Path, target: Path) -> None:
    """A consistent copy of a live database (WAL included) via the online backup API."""
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _counts(db: Path) -> dict:
    from kb.store.db import Store

    store = Store(db, readonly=True)
    try:
        return store.stats() | {"schema_version": store.schema_version()}
    finally:
        store.close()


def export_kb(settings: Settings, dest: str | os.PathLike) -> dict:
    """Write the archive to ``dest`` (written beside it first, renamed when complete)."""
    dest = Path(dest)
    db = settings.sqlite_path
    if not db.is_file():
        raise BackupError(f"no knowledge base in {settings.home} (no {SQLITE})")
    if dest.exists():
        raise BackupError(f"{dest} already exists; choose a new file name")
    if not dest.parent.is_dir():
        raise BackupError(f"folder {dest.parent} does not exist")
    with tempfile.TemporaryDirectory(prefix="kb-export-", dir=dest.parent) as tmp:
        snapshot = Path(tmp) / SQLITE
        _snapshot(db, snapshot)
        counts = _counts(snapshot)
        members: list[tuple[str, Path]] = [(SQLITE, snapshot)]
        for folder in FOLDERS:
            base = settings.home / folder
            if base.is_dir():
                members += [(f.relative_to(settings.home).as_posix(), f) for f in sorted(base.rglob("*"))
                            if f.is_file() and not f.is_symlink() and not f.name.endswith(".tmp")]
        files = {name: {"sha256": file_sha256(path), "bytes": path.stat().st_size} for name, path in members}
        manifest = {
            "format": FORMAT, "version": VERSION,
            "created_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "schema_version": counts.pop("schema_version"), "home": str(settings.home),
            "counts": counts, "vectors": "not included: rebuilt on import from the SQLite embedding cache",
            "files": files,
        }
        manifest_path = Path(tmp) / MANIFEST
        manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        partial = dest.with_name(dest.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(manifest_path, arcname=MANIFEST)
            for name, path in members:
                tar.add(path, arcname=name, recursive=False)
        os.replace(partial, dest)
    return {"archive": str(dest), "bytes": dest.stat().st_size, "files": len(files),
            "schema_version": manifest["schema_version"], "counts": counts}


def _safe_name(name: str) -> str:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or not p.parts or name != p.as_posix():
        raise BackupError(f"archive member with an unsafe path: {name!r}")
    if p.parts[0] not in (MANIFEST, SQLITE, *FOLDERS):
        raise BackupError(f"archive member outside the knowledge base layout: {name!r}")
    return name


def _home_contents(home: Path) -> list[str]:
    """What is in the home, less the write lock (``kb import`` itself holds it: not content)."""
    from kb.store.lock import LOCK_NAME

    return sorted(p.name for p in home.iterdir() if p.name != LOCK_NAME) if home.is_dir() else []


def import_kb(settings: Settings, src: str | os.PathLike, rebuild: bool = True) -> dict:
    """Restore an archive into an empty ``settings.home``: verify the manifest and every
    checksum in a staging folder first, so a bad archive leaves the home as it was."""
    src = Path(src)
    home = settings.home
    if not src.is_file():
        raise BackupError(f"no such archive: {src}")
    present = _home_contents(home)
    if present:
        raise BackupError(f"{home} is not empty ({', '.join(present[:5])}); import only into an empty $KB_HOME")
    home.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".kb-import-", dir=home))
    try:
        manifest = _unpack(src, staging)
        _verify_database(staging / SQLITE, manifest)
        for name in (SQLITE, *FOLDERS):
            if (staging / name).exists():
                os.replace(staging / name, home / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for name in (SQLITE, *FOLDERS):  # a half-moved restore must not look like a knowledge base
            target = home / name
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            elif target.exists():
                target.unlink()
        raise
    shutil.rmtree(staging, ignore_errors=True)
    _relocate_raw_paths(settings, manifest.get("home"))
    report = {"archive": str(src), "files": len(manifest["files"]), "schema_version": manifest["schema_version"],
              "counts": manifest["counts"]}
    if rebuild:
        from kb.store.knowledge import KnowledgeBase
        from kb.index.maintenance import reindex

        kbase = KnowledgeBase(settings)
        try:
            report["reindex"] = reindex(kbase)
        finally:
            kbase.close()
    return report


def _unpack(src: Path, staging: Path) -> dict:
    try:
        tar = tarfile.open(src, "r:*")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"not a knowledge base archive ({exc})") from None
    with tar:
        try:
            member = tar.getmember(MANIFEST)
            manifest = json.loads(tar.extractfile(member).read().decode("utf-8"))
        except (KeyError, AttributeError, ValueError, tarfile.TarError):
            raise BackupError("not a knowledge base archive (no readable manifest.json)") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError("not a knowledge base archive (manifest of another format)")
        if manifest.get("version") != VERSION:
            raise BackupError(f"archive format version {manifest.get('version')} is not supported (need {VERSION})")
        from kb.store.db import SCHEMA_VERSION

        if not isinstance(manifest.get("schema_version"), int) or manifest["schema_version"] > SCHEMA_VERSION:
            raise BackupError(f"archive schema {manifest.get('schema_version')} is newer than this Refrain "
                              f"({SCHEMA_VERSION}): upgrade Refrain first")
        expected: dict = manifest.get("files") or {}
        seen: set[str] = set()
        try:
            for member in tar:
                if member.name == MANIFEST:
                    continue
                name = _safe_name(member.name)
                if not member.isfile():
                    raise BackupError(f"archive member is not a plain file: {name!r}")
                if name not in expected:
                    raise BackupError(f"archive member not listed in the manifest: {name!r}")
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with tar.extractfile(member) as fh, target.open("wb") as out:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
                if digest.hexdigest() != expected[name].get("sha256"):
                    raise BackupError(f"checksum mismatch for {name}: the archive is damaged")
                seen.add(name)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise BackupError(f"the archive is damaged ({type(exc).__name__}: {exc})") from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"archive lacks {len(missing)} file(s) its manifest lists, e.g. {missing[0]}")
    if SQLITE not in seen:
        raise BackupError(f"archive holds no {SQLITE}")
    return manifest


def _verify_database(db: Path, manifest: dict) -> None:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the archived database cannot be opened: {exc}") from None
    if ok != "ok":
        raise BackupError(f"the archived database fails its integrity check: {ok}")
    counts = _counts(db)
    counts.pop("schema_version")
    if counts != manifest.get("counts"):
        raise BackupError("the archived database does not hold the counts its manifest states")


def _relocate_raw_paths(settings: Settings, old_home: str | None) -> None:
    """Stored copies were recorded by absolute path under the exporting home: point them at
    the same files under this one."""
    from kb.store.db import Store

    store = Store(settings.sqlite_path)  # opening migrates an older schema to ours
    try:
        if not old_home:
            return
        old_raw, new_raw = str(Path(old_home) / "raw"), str(settings.raw_dir)
        with store.transaction() as conn:
            rows = conn.execute("SELECT id, raw_path FROM documents WHERE raw_path LIKE ?",
                                (old_raw.replace("%", "_") + "%",)).fetchall()
            conn.executemany("UPDATE documents SET raw_path = ? WHERE id = ?",
                             [(new_raw + r[1][len(old_raw):], r[0]) for r in rows if r[1].startswith(old_raw)])
    finally:
        store.close()

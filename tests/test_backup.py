"""A team moves its knowledge base to another machine: `kb export PATH` writes one archive,
`kb import PATH` restores it into an empty `$KB_HOME`, and the restored knowledge base answers
exactly as the original did. A damaged, foreign or hostile archive, or a home that already holds
something, is refused with one line, and nothing is left half-restored.
"""
from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from conftest import kb_json, run_kb

pytestmark = pytest.mark.slow

DOCS = {
    "discharge.md": "# Delays in leaving hospital\n\nPatients who are medically fit to leave hospital wait days "
                    "for a package of home care, because agencies cannot recruit home care workers.\n\n"
                    "## Recommendations\n\nWe recommend that the Department of Health and Social Care should "
                    "publish a workforce plan for adult social care by March 2026.\n",
    "records.txt": "Sharing records\n\nInformation governance rules are applied differently in each "
                   "organisation, so staff are unsure whether they may share a person's care record.\n",
    "fund.md": "# The Better Care Fund\n\nThe Better Care Fund pooled £5.3 billion in 2015-16 from the NHS and "
               "local government so that the two could plan community services together.\n",
}
QUERIES = ["home care workforce", "information governance records", "Better Care Fund 2015-16"]


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("backup")
    inbox, home = root / "inbox", root / "original"
    inbox.mkdir()
    for name, text in DOCS.items():
        (inbox / name).write_text(text, encoding="utf-8")
    run_kb(home, "ingest", str(inbox))
    archive = root / "kb-export.tar.gz"
    exported = kb_json(home, "export", str(archive))
    return {"root": root, "home": home, "archive": archive, "exported": exported}


def answers(home: Path) -> dict:
    return {"stats": kb_json(home, "stats"),
            "search": {q: kb_json(home, "search", q, "-k", "5") for q in QUERIES}}


def test_export_writes_one_archive_with_a_manifest(original):
    exported, archive = original["exported"], original["archive"]
    assert exported["archive"] == str(archive) and archive.is_file()
    assert exported["counts"]["documents"] == len(DOCS)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names[0] == "manifest.json" and "kb.sqlite" in names
    assert sum(n.startswith("raw/") for n in names) == len(DOCS), "every stored source travels with it"
    assert not any(n.startswith("chroma") for n in names), "vectors are rebuilt, not copied"
    assert set(manifest["files"]) == set(names) - {"manifest.json"}
    assert manifest["schema_version"] == exported["schema_version"] and manifest["counts"] == exported["counts"]


def test_import_restores_identical_answers(original, tmp_path):
    restored = tmp_path / "restored"
    report = kb_json(restored, "import", str(original["archive"]))
    assert report["reindex"]["vectors"]["passages"] == report["counts"]["passages"]
    assert answers(restored) == answers(original["home"])
    doctor = kb_json(restored, "doctor", "--check")
    assert doctor["healthy"] is True
    conn = sqlite3.connect(restored / "kb.sqlite")
    raw_paths = [r[0] for r in conn.execute("SELECT raw_path FROM documents")]
    conn.close()
    assert all(p.startswith(str(restored / "raw")) and Path(p).is_file() for p in raw_paths), \
        "stored copies point into the new home"


def refused(home: Path, archive: Path, why: str) -> None:
    proc = run_kb(home, "import", str(archive), check=False)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("kb import:")]
    assert len(lines) == 1 and why in lines[0], proc.stderr


def test_import_refuses_a_home_that_is_not_empty(original):
    home = original["home"]
    before = kb_json(home, "stats")
    refused(home, original["archive"], "is not empty")
    assert kb_json(home, "stats") == before


def test_a_damaged_archive_is_refused_and_leaves_the_home_empty(original, tmp_path):
    good = original["archive"]
    with tarfile.open(good) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(damaged, "w:gz") as tar:
        for member, data in members:
            if member.name.startswith("raw/") and not member.name.endswith(".meta.json"):
                data = data[:-1] + bytes([data[-1] ^ 0xFF])  # one flipped byte in a stored source
            tar.addfile(member, io.BytesIO(data))
    home = tmp_path / "home"
    refused(home, damaged, "checksum mismatch")
    assert not home.exists() or not any(home.iterdir())


def test_a_hostile_or_foreign_archive_is_refused(original, tmp_path):
    with tarfile.open(original["archive"]) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    evil = tmp_path / "evil.tar.gz"
    payload = b"owned"
    manifest["files"]["../escaped.txt"] = {"sha256": "0" * 64, "bytes": len(payload)}
    with tarfile.open(evil, "w:gz") as tar:
        for name, data in (("manifest.json", json.dumps(manifest).encode()), ("../escaped.txt", payload)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    refused(tmp_path / "a", evil, "unsafe path")
    assert not (tmp_path / "escaped.txt").exists()

    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b not really gzip")
    refused(tmp_path / "b", junk, "not a knowledge base archive")

    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        data = json.dumps({"format": "something-else"}).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    refused(tmp_path / "c", foreign, "another format")


def test_export_refuses_to_overwrite_or_to_export_nothing(original, tmp_path):
    proc = run_kb(original["home"], "export", str(original["archive"]), check=False)
    assert proc.returncode == 1 and "already exists" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_kb(tmp_path / "nothing-here", "export", str(tmp_path / "x.tar.gz"), check=False)
    assert proc.returncode == 1 and "no knowledge base" in proc.stderr

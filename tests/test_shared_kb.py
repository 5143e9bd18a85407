"""Two people share one knowledge base: one ingests a folder while a colleague ingests another.

Before the write lock, two embedded-Chroma writers lost every vector of a document and ``kb
doctor`` called the result healthy (it compared ids only). Now the second writer waits, says
for whom, and the result equals a sequential build; and ``kb doctor`` reads every vector back
and compares it with the embedding cache, so damaged vectors are reported and mended.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, kb_env, run_kb
from kb.config import Settings
from kb.index.maintenance import doctor
from kb.search.engine import search
from kb.store.knowledge import KnowledgeBase

pytestmark = pytest.mark.slow

SITE = REPO / "samples" / "site"
NEWS = "api/content/government/news/"
FOLDERS = {
    "a": [NEWS + "500-million-adult-social-care-discharge-fund-allocations-confirmed.json",
          "pa/cm201617/cmselect/cmpubacc/959/95903.htm",
          "api/content/government/publications/treasury-minutes-july-2017.json"],
    "b": [NEWS + "spending-review-2015-new-social-care-precept-and-better-care-fund-funding.json",
          NEWS + "spring-budget-2017-2-billion-more-for-adult-social-care.json",
          "pa/cm201617/cmselect/cmpubacc/959/95905.htm"],
}
QUERIES = ["Better Care Fund allocations", "delayed discharge from hospital", "social care precept"]


@pytest.fixture(scope="module")
def inboxes(tmp_path_factory) -> dict[str, Path]:
    made = {}
    for name, files in FOLDERS.items():
        folder = tmp_path_factory.mktemp(f"inbox-{name}")
        for rel in files:
            shutil.copy(SITE / rel, folder / Path(rel).name)
        made[name] = folder
    return made


def open_kb(home: Path) -> KnowledgeBase:
    return KnowledgeBase(dataclasses.replace(Settings.from_env(home), chroma_url=None))


def observe(home: Path) -> dict:
    kbase = open_kb(home)
    try:
        return {"stats": kbase.store.stats(), "doctor": doctor(kbase, repair=False),
                **{f"{mode}:{q}": sorted((h.doc_id, h.page, h.text) for h in search(kbase, q, k=5, mode=mode))
                   for q in QUERIES for mode in ("hybrid", "dense")}}
    finally:
        kbase.close()


def test_two_ingests_at_once_equal_a_sequential_build(tmp_path, inboxes):
    sequential = tmp_path / "sequential"
    run_kb(sequential, "ingest", str(inboxes["a"]))
    run_kb(sequential, "ingest", str(inboxes["b"]))

    shared = tmp_path / "shared"
    procs = [subprocess.Popen([sys.executable, "-m", "kb.cli", "ingest", str(inboxes[n]), "--json"], cwd=REPO,
                              env=kb_env(shared), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in ("a", "b")]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    assert all(json.loads(o[0])["summary"]["new"] == 3 for o in outs)
    waited = [err for _, err in outs if "waiting for pid" in err]
    assert len(waited) == 1, "exactly one of the two waits for the other, and says so"
    assert "(kb ingest) to finish writing to" in waited[0]

    got, want = observe(shared), observe(sequential)
    assert got["doctor"]["healthy"] is True, got["doctor"]
    assert got == want


DAMAGE = """
import sys, numpy as np
from kb.store.knowledge import KnowledgeBase
kbase = KnowledgeBase.open(sys.argv[1])
ids = sys.argv[2:]
col = kbase.vectors.collection("passages")
col.update(ids=ids, embeddings=np.random.default_rng(1).standard_normal((len(ids), 384)).astype(np.float32))
col.delete(ids=ids[:1])
"""


def dense_documents(home: Path, query: str) -> set[str]:
    hits = json.loads(run_kb(home, "search", query, "-k", "3", "--mode", "dense", "--json").stdout)
    return {h["doc_id"] for h in hits}


def test_doctor_finds_and_mends_damaged_vectors_of_one_document(tmp_path, inboxes):
    home = tmp_path / "kb"
    run_kb(home, "ingest", str(inboxes["a"]))
    conn = sqlite3.connect(home / "kb.sqlite")
    doc_id = conn.execute("SELECT id FROM documents WHERE title LIKE '%discharge%'").fetchone()[0]
    ids = [r[0] for r in conn.execute("SELECT id FROM passages WHERE doc_id = ? ORDER BY id", (doc_id,))]
    conn.close()
    assert len(ids) > 2
    query = "adult social care discharge fund allocations"
    assert doc_id in dense_documents(home, query)
    # The damage a second embedded writer left: this document's vectors replaced by noise, and
    # one of them gone altogether (done in its own process, as the other writer was).
    subprocess.run([sys.executable, "-c", DAMAGE, str(home), *ids], cwd=REPO, env=kb_env(home), check=True)
    # A one-shot search answers from the search snapshot, whose vectors come from the embedding
    # cache: Chroma's damage does not reach it. Without a snapshot, search reads Chroma.
    assert doc_id in dense_documents(home, query)
    shutil.rmtree(home / "search-snapshot")
    assert doc_id not in dense_documents(home, query)

    check = json.loads(run_kb(home, "doctor", "--check", "--json", check=False).stdout)
    passages = check["collections"]["passages"]
    assert check["healthy"] is False
    assert (passages["missing"], passages["mismatched"], passages["unreadable"]) == (1, len(ids) - 1, 0)
    assert passages["damaged_documents"] == [doc_id]
    assert passages["compared"] == passages["sqlite"] - 1

    repaired = json.loads(run_kb(home, "doctor", "--json").stdout)
    assert repaired["healthy"] is True
    assert repaired["collections"]["passages"]["after"] == {
        "chroma": passages["sqlite"], "missing": 0, "orphans": 0, "unreadable": 0, "mismatched": 0}
    assert json.loads(run_kb(home, "doctor", "--check", "--json").stdout)["healthy"] is True
    assert doc_id in dense_documents(home, query)


def test_a_document_stored_before_the_disk_filled_is_reported_stored_not_failed(tmp_path, inboxes, monkeypatch):
    """The disk fills between the SQLite commit and the Chroma writes (the instant SIGKILL tests
    also stop at): the document is stored, so it is reported new, with what it still owes, and
    never appears in `kb failures`; the next run writes its vectors."""
    import errno

    import kb.index.ingest as ingest

    kbase = open_kb(tmp_path / "kb")
    real = ingest.write_documents

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ingest, "write_documents", disk_full)
    results = ingest.ingest_paths(kbase, [inboxes["a"]], regroup=False)
    assert [r.status for r in results] == ["new"] * 3
    assert all("stored, but its vectors are still owed" in r.reason for r in results)
    assert kbase.store.failures() == []
    assert doctor(kbase, repair=False)["pending"]["documents"] == 3
    monkeypatch.setattr(ingest, "write_documents", real)
    again = ingest.ingest_paths(kbase, [inboxes["a"]])
    assert [r.status for r in again] == ["unchanged"] * 3
    report = doctor(kbase, repair=False)
    assert report["healthy"] is True, report
    kbase.close()

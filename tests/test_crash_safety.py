"""An operator's `kb ingest` dies (power cut, OOM killer, `kill -9`) and they simply run it again:
nothing is duplicated, no vector is orphaned, no half-written document shows, nothing is lost,
and `kb doctor` agrees.

The first test kills the real command line with SIGKILL at random instants (fixed seed) over a
small folder of demo documents, then compares with a clean ingest of the same folder. The
others stop an in-process ingest at the exact instants a random kill rarely hits (inside the
SQLite transaction, between its commit and the Chroma writes, before the links are redone) by
raising an exception that nothing in ``kb`` catches, as a kill would.
"""
from __future__ import annotations

import dataclasses
import json
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, kb_env, kb_json, run_kb
from kb.config import Settings
from kb.index.ingest import ingest_paths
from kb.store.knowledge import KnowledgeBase
from kb.index.maintenance import doctor

pytestmark = pytest.mark.slow

SITE = REPO / "samples" / "site"
FILES = [
    "api/content/government/news/500-million-adult-social-care-discharge-fund-allocations-confirmed.json",
    "api/content/government/news/spending-review-2015-new-social-care-precept-and-better-care-fund-funding.json",
    "api/content/government/news/spring-budget-2017-2-billion-more-for-adult-social-care.json",
    "api/content/government/publications/treasury-minutes-july-2017.json",
    "pa/cm201617/cmselect/cmpubacc/959/95903.htm",
    "pa/cm201617/cmselect/cmpubacc/959/95905.htm",
]
QUERIES = ["Better Care Fund allocations", "delayed discharge from hospital", "social care precept"]


class Killed(BaseException):
    """Stands for SIGKILL in-process: a BaseException, so no ``except Exception`` in kb sees it."""


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inbox")
    for rel in FILES:
        shutil.copy(SITE / rel, folder / Path(rel).name)
    return folder


@pytest.fixture(scope="module")
def clean(tmp_path_factory, inbox) -> dict:
    """What one uninterrupted ingest of the folder gives."""
    home = tmp_path_factory.mktemp("clean-kb")
    run_kb(home, "ingest", str(inbox))
    return observe(home)


def observe(home: Path) -> dict:
    """Everything a user can see: counts, documents, passages, vectors' health, search hits
    (read in this process, through the same functions the commands call, to save model loads)."""
    from kb.search.engine import search

    kbase = KnowledgeBase(settings_for(home))
    try:
        conn = kbase.store.conn
        return {
            "stats": kbase.store.stats(),
            "doctor": doctor(kbase, repair=False),
            "hits": {q: [(h.doc_id, h.page, h.text) for h in search(kbase, q, k=5)] for q in QUERIES},
            "documents": sorted(tuple(r) for r in conn.execute("SELECT id, sha256, url, title FROM documents")),
            "passages": sorted(tuple(r) for r in conn.execute("SELECT id, doc_id, seq, text FROM passages")),
            "duplicate_passages": conn.execute(
                "SELECT COUNT(*) - COUNT(DISTINCT doc_id || ':' || seq) FROM passages").fetchone()[0],
            "recommendations": sorted(tuple(r) for r in conn.execute(
                "SELECT id, doc_id, group_id IS NOT NULL FROM recommendations")),
        }
    finally:
        release(kbase)


def assert_same_as_clean(state: dict, clean: dict) -> None:
    assert state["doctor"]["healthy"] is True, state["doctor"]
    assert state["doctor"]["pending"] == {"documents": 0, "stale_vectors": 0, "links_stale": False}
    for name, entry in state["doctor"]["collections"].items():
        assert (entry["missing"], entry["orphans"]) == (0, 0), (name, entry)
        assert entry["sqlite"] == clean["doctor"]["collections"][name]["sqlite"]
    assert state["duplicate_passages"] == 0
    assert state["stats"] == clean["stats"]
    for key in ("documents", "passages", "recommendations"):
        assert state[key] == clean[key], key
    assert state["hits"] == clean["hits"]


def test_ingest_killed_at_random_instants_converges_when_run_again(tmp_path, inbox, clean):
    home = tmp_path / "kb"
    rng = random.Random(8)
    outcomes = []
    for _ in range(7):
        proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "ingest", str(inbox)], cwd=REPO,
                                env=kb_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        delay = rng.uniform(1.0, 12.0)
        try:
            proc.wait(timeout=delay)
            outcomes.append("finished")
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            outcomes.append(f"killed at {delay:.1f}s")
        proc.stderr.close()
    assert any(o.startswith("killed") for o in outcomes), outcomes
    final = run_kb(home, "ingest", str(inbox), "--json")
    assert "Traceback" not in final.stderr
    assert json.loads(final.stdout)["summary"]["failed"] == 0
    assert_same_as_clean(observe(home), clean)


# --- in-process kills at the instants that matter -------------------------------------------


def settings_for(home: Path) -> Settings:
    return dataclasses.replace(Settings.from_env(home), chroma_url=None)


def release(kbase: KnowledgeBase) -> None:
    """Close SQLite and forget Chroma's cached client, as a dead process would."""
    from chromadb.api.client import SharedSystemClient

    kbase.close()
    SharedSystemClient.clear_system_cache()


def kill_ingest(home: Path, inbox: Path, monkeypatch, target, attr: str, after: int = 0) -> None:
    """Run an in-process ingest and 'kill' it the (after+1)-th time ``target.attr`` is called."""
    original = getattr(target, attr)
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise Killed()
        return original(*args, **kwargs)

    kbase = KnowledgeBase(settings_for(home))
    with monkeypatch.context() as m:
        m.setattr(target, attr, dying)
        with pytest.raises(Killed):
            ingest_paths(kbase, [inbox])
    release(kbase)


def test_a_kill_inside_the_transaction_leaves_nothing_visible(tmp_path, inbox, clean, monkeypatch):
    from kb.store.db import Store

    home = tmp_path / "kb"
    # The last statement of a document's transaction notes its links as stale: die there, on
    # the second document, with all its rows written but not committed.
    kill_ingest(home, inbox, monkeypatch, Store, "set_flag", after=1)
    stats = kb_json(home, "stats")
    first = clean["documents"]
    assert stats["documents"] == 1, "the first document committed; the second was rolled back whole"
    import sqlite3

    conn = sqlite3.connect(home / "kb.sqlite")
    (doc_id,) = conn.execute("SELECT id FROM documents").fetchone()
    for table in ("passages", "pages", "barriers", "funding", "recommendations", "responses"):
        others = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE doc_id != ?", (doc_id,)).fetchone()[0]
        assert others == 0, f"no {table} row of the uncommitted document is visible"
    fts = conn.execute("SELECT COUNT(*) FROM passages_fts").fetchone()[0]
    assert fts == conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
    conn.close()
    assert doc_id in {d[0] for d in first}
    run_kb(home, "ingest", str(inbox))
    assert_same_as_clean(observe(home), clean)


def test_a_kill_between_commit_and_chroma_is_settled_by_the_next_run(tmp_path, inbox, clean, monkeypatch):
    from kb.store.vectors import VectorIndex

    home = tmp_path / "kb"
    kill_ingest(home, inbox, monkeypatch, VectorIndex, "upsert", after=0)
    report = json.loads(run_kb(home, "doctor", "--check", "--json", check=False).stdout)
    assert report["healthy"] is False
    assert report["pending"]["documents"] == 1 and report["pending"]["links_stale"] is True
    assert report["collections"]["passages"]["missing"] > 0, "the committed document has no vectors yet"
    run_kb(home, "ingest", str(inbox))
    assert_same_as_clean(observe(home), clean)


def test_doctor_settles_what_a_killed_ingest_left(tmp_path, inbox, clean, monkeypatch):
    from kb.store.vectors import VectorIndex

    home = tmp_path / "kb"
    run_kb(home, "ingest", str(inbox / FILES[0].rsplit("/", 1)[1]))
    kill_ingest(home, inbox, monkeypatch, VectorIndex, "upsert", after=2)
    repaired = kb_json(home, "doctor")
    assert repaired["healthy"] is True and repaired["pending"]["settled"] is True
    checked = kb_json(home, "doctor", "--check")
    assert checked["healthy"] is True
    assert checked["pending"] == {"documents": 0, "stale_vectors": 0, "links_stale": False}


def test_a_kill_before_the_links_are_redone_is_redone_by_the_next_run(tmp_path, inbox, clean, monkeypatch):
    from kb.analysis import lifecycle

    home = tmp_path / "kb"
    kill_ingest(home, inbox, monkeypatch, lifecycle, "link_responses")
    assert kb_json(home, "stats")["documents"] == clean["stats"]["documents"]
    assert kb_json(home, "stats")["recurrence_groups"] == 0, "killed before the groups were built"
    proc = run_kb(home, "ingest", str(inbox), "--json")
    assert json.loads(proc.stdout)["summary"]["unchanged"] == len(FILES)
    assert_same_as_clean(observe(home), clean)


def test_a_new_version_killed_before_old_vectors_are_deleted_leaves_no_orphans(tmp_path, monkeypatch):
    from kb.store.vectors import VectorIndex

    home, folder = tmp_path / "kb", tmp_path / "in"
    folder.mkdir()
    doc = folder / "note.md"
    doc.write_text("# Discharge note\n\nDelayed discharge is driven by a shortage of home care workers.\n")
    run_kb(home, "ingest", str(folder))
    doc.write_text("# Discharge note\n\nDelayed discharge is driven by the shortage of community nurses.\n")
    kill_ingest(home, folder, monkeypatch, VectorIndex, "delete")
    report = json.loads(run_kb(home, "doctor", "--check", "--json", check=False).stdout)
    assert report["pending"]["stale_vectors"] >= 1
    assert report["collections"]["passages"]["orphans"] >= 1, "the old version's vectors are still in Chroma"
    run_kb(home, "ingest", str(folder))
    report = kb_json(home, "doctor", "--check")
    assert report["healthy"] is True
    assert kb_json(home, "stats")["documents"] == 1
    hits = kb_json(home, "search", "community nurses", "-k", "3")
    assert hits and "community nurses" in hits[0]["text"]

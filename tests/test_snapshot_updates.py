"""A researcher keeps ingesting reports; the search snapshot on disk follows each ingest by
appending the new passages and marking replaced ones dead — never rebuilt whole — and a
one-shot `kb search` answers from it without loading Chroma or torch. An update killed
half-way leaves the previous snapshot whole, and the next one finishes the job."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO, kb_env
from kb.config import Settings
from kb.index.ingest import ingest_paths
from kb.search.engine import search
from kb.store import snapshot_files
from kb.store.knowledge import KnowledgeBase
from kb.store.snapshot_files import read_manifest, snapshot_dir

FIRST = """# Hospital discharge in the winter of 2023

The discharge fund paid for 4,000 reablement places in care homes across the North East.
Delays in discharging older patients from hospital rose when home care agencies could not recruit.
"""
SECOND = """# Shared care records across integrated care systems

Councils and hospital trusts still cannot read each other's records of the same resident.
A quokka survey of interoperability found that half of the systems used paper referrals.
"""
REVISED = """# Hospital discharge in the winter of 2023 (revised)

The revised figures count 3,600 reablement places; the wombat pilot replaced the earlier scheme.
"""


class Killed(BaseException):
    """Stands for SIGKILL in-process: nothing in kb catches a BaseException."""


def manifest(home):
    return read_manifest(snapshot_dir(Settings(home=home)))


def passage_ids(kbase, word):
    return {h.passage_id for h in search(kbase, word, k=20, mode="keyword")}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("updates-kb")


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    return tmp_path_factory.mktemp("inbox")


def test_a_second_ingest_appends_to_the_snapshot_instead_of_rebuilding_it(home, inbox):
    (inbox / "discharge.md").write_text(FIRST, encoding="utf-8")
    (inbox / "records.md").write_text(SECOND, encoding="utf-8")
    kbase = KnowledgeBase(Settings(home=home))
    ingest_paths(kbase, [inbox / "discharge.md"])
    first = manifest(home)
    assert first["full_builds"] == 1 and len(first["segments"]) == 1

    ingest_paths(kbase, [inbox / "records.md"])
    second = manifest(home)
    assert second["full_builds"] == 1, "the second ingest rebuilt the snapshot"
    assert second["updates"] == 1 and len(second["segments"]) == 2
    snap = kbase.snapshot()
    assert snap is not None and snap.n_rows == kbase.store.conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
    assert passage_ids(kbase, "quokka") and passage_ids(kbase, "reablement")
    assert snap.has_vector.sum() == snap.n_rows  # the new passages' vectors came from the cache
    kbase.close()


def test_a_replaced_document_vanishes_from_results(home, inbox):
    kbase = KnowledgeBase(Settings(home=home))
    old = passage_ids(kbase, "reablement")
    (inbox / "discharge.md").write_text(REVISED, encoding="utf-8")  # the same file, revised
    results = ingest_paths(kbase, [inbox / "discharge.md"])
    assert [r.status for r in results] == ["updated"]
    after = manifest(home)
    assert after["full_builds"] == 1 and after["updates"] == 2
    snap = kbase.snapshot()
    assert snap is not None and snap.dead_count >= len(old)  # the old passages are marked, not rewritten
    assert passage_ids(kbase, "wombat") and not (passage_ids(kbase, "reablement") & old)
    for mode in ("dense", "hybrid"):
        assert not {h.passage_id for h in search(kbase, "reablement places in care homes", k=20, mode=mode)} & old
    kbase.close()


def test_after_updates_the_snapshot_still_ranks_words_as_fts5_does(home):
    """Three segments and dead passages: BM25 counts live passages only, and the pruned
    scoring (rarest words first, the rest only for rows still in reach) cuts nothing it
    should keep, down to a ranking of two."""
    from kb.search.engine import Filters, keyword_ranking, snapshot_keyword_ranking
    from kb.search.query import parse_query

    kbase = KnowledgeBase(Settings(home=home))
    snap = kbase.snapshot()
    assert snap is not None and snap.dead_count and len(snap.segments) == 3
    conn = kbase.store.conn
    for text in ("reablement places in care homes", "hospital discharge -wombat", "records of the same resident",
                 "wombat pilot scheme", "care"):
        for limit in (200, 2):
            expected = keyword_ranking(conn, parse_query(text), Filters(), limit)
            assert snapshot_keyword_ranking(snap, parse_query(text), Filters(), limit, conn) == expected, (text, limit)
    kbase.close()


def test_an_update_killed_before_its_manifest_leaves_the_old_snapshot_usable(home, monkeypatch):
    kbase = KnowledgeBase(Settings(home=home))
    before = manifest(home)
    with kbase.store.transaction() as conn:
        conn.execute("""INSERT INTO documents(id, sha256, url, source, year, ingested_at)
                        VALUES ('late', 'late', 'https://x/late', 'nao', 2024, '2026-01-01')""")
        conn.execute("""INSERT INTO passages(id, doc_id, seq, page, text, themes)
                        VALUES ('late-1', 'late', 0, 1, 'A numbat census of care homes.', '')""")

    def killed(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(snapshot_files, "_commit", killed)
    with pytest.raises(Killed):
        snapshot_files.refresh(kbase)  # dies after writing the new segment, before the manifest
    monkeypatch.undo()
    assert manifest(home) == before  # the previous snapshot, whole
    assert snapshot_files.load(snapshot_dir(kbase.settings)) is not None
    assert kbase.snapshot() is None  # out of date: never answered from...
    assert [h.passage_id for h in search(kbase, "numbat", mode="keyword")] == ["late-1"]  # ...SQLite answers
    snap = kbase.refresh_snapshot()
    after = manifest(home)
    assert after["full_builds"] == 1 and after["updates"] == before["updates"] + 1
    assert "late-1" in snap.pos_of and not snap.has_vector[snap.pos_of["late-1"]]  # no vector cached for it
    leftovers = {p.name for p in snapshot_dir(kbase.settings).iterdir()} - set(after["segments"])
    assert leftovers <= {after["dead"], after["docs"], "manifest.json", ".lock"}
    kbase.close()


def test_a_one_shot_search_of_a_new_query_loads_neither_torch_nor_chroma(home):
    probe = ("import sys; from kb.cli import main; code = main(['search', '--json', 'numbat census of care homes']);"
             "heavy = [m for m in ('torch', 'chromadb', 'sentence_transformers', 'datasketch') if m in sys.modules];"
             "print('HEAVY', heavy, file=sys.stderr); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=kb_env(home), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stderr
    assert "late-1" in [h["passage_id"] for h in json.loads(done.stdout)]

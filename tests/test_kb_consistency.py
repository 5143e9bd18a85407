"""SQLite is the record of truth and Chroma a derived copy: a maintainer checks that they agree
(`kb doctor`), repairs drift, rebuilds (`kb reindex`), and re-ingests without changing anything.

Each test builds its own small knowledge base from files written here, with the real pipeline
(spaCy, MiniLM, SQLite, embedded Chroma).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_kb
from kb.config import Settings
from kb.index.ingest import ingest_paths
from kb.store.knowledge import KnowledgeBase
from kb.index.maintenance import TABLE_FOR, doctor
from kb.search.engine import search
from kb.store.vectors import FINDINGS, PASSAGES, RECOMMENDATIONS

pytestmark = pytest.mark.slow

DOCS = {
    "discharge-review.md": """# Delays in leaving hospital

Patients who are medically fit to leave hospital often wait days for a place in a care home or for
a package of home care. Every day of delayed discharge costs the hospital a bed and costs the
patient strength and independence, especially older people living with frailty.

Local authorities told us that the main barrier is the shortage of home care workers: agencies
cannot recruit or retain staff on current pay, so care packages cannot start when the ward is ready.

Hospital discharge teams and social workers use separate case records, so the same assessment is
repeated two or three times before anyone can arrange care at home.

## Recommendations

We recommend that the Department of Health and Social Care should publish a workforce plan for
adult social care by March 2026, covering recruitment and retention of home care workers.

We recommend that NHS England should require every trust to report discharge delays weekly,
broken down by the reason for the delay.
""",
    "records-and-consent.txt": """Sharing records between the NHS and councils

Information governance rules are applied differently in each organisation. Front-line staff are
unsure whether they may share a person's care record with a social worker, and many play safe by
sharing nothing at all.

Shared care records exist in most areas, but community nurses, GPs and council care teams use
systems that cannot exchange data, so staff re-type the same details into several systems.

Data protection officers asked for clear national guidance on the lawful basis for sharing data
between health and social care. Without it, every new joint service negotiates its own
data sharing agreement, which takes months.
""",
    "pooled-budgets.md": """# Pooled budgets and the Better Care Fund

The Better Care Fund pools money from the NHS and local government so that the two can plan
community services together. In our survey, most areas said the fund improved relationships but
few could show savings in hospital activity.

Annual allocations announced late in the year make it hard to commission services for more than
twelve months at a time, so providers offer short contracts and staff leave.

## Recommendation

We recommend that HM Treasury should confirm pooled budget allocations for three years at a
time, so that councils and integrated care boards can commission community services for longer.
""",
    "neighbourhood-teams.md": """# Neighbourhood teams in practice

Integrated neighbourhood teams bring together district nurses, GPs, pharmacists, social
workers and voluntary groups around a population of thirty to fifty thousand people.

Teams that met weekly to review people at highest risk of admission reported fewer emergency
admissions, but evaluations were short and rarely measured costs.

Leaders said the hardest part was culture: professionals trained separately, report to different
organisations and do not always trust each other's judgement.
""",
}

QUERIES = ["home care workers shortage delays discharge", "sharing records between health and social care",
           "pooled budget allocations", "neighbourhood teams culture and trust"]


def settings_for(home: Path) -> Settings:
    """The user's settings for this home, always with the embedded Chroma store."""
    return dataclasses.replace(Settings.from_env(home), chroma_url=None)


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def release(kbase: KnowledgeBase) -> None:
    """Let another process (the `kb` command line) work on this home: close SQLite and forget
    the cached Chroma client, so the next handle reads what the other process wrote."""
    from chromadb.api.client import SharedSystemClient

    kbase.close()
    SharedSystemClient.clear_system_cache()


@pytest.fixture
def kb_home(tmp_path) -> tuple[Path, Path]:
    home, corpus = tmp_path / "kb", write_corpus(tmp_path / "corpus")
    kbase = KnowledgeBase(settings_for(home))
    results = ingest_paths(kbase, [corpus])
    assert [r.status for r in results] == ["new"] * len(DOCS), [r.to_json() for r in results]
    release(kbase)
    return home, corpus


def open_kb(home: Path) -> KnowledgeBase:
    return KnowledgeBase(settings_for(home))


def snapshot(kbase: KnowledgeBase) -> dict:
    return {
        "stats": kbase.store.stats(),
        "chroma": {name: sorted(kbase.vectors.all_ids(name)) for name in TABLE_FOR},
        "documents": sorted((d.id, d.sha256, d.url) for d in kbase.store.documents()),
    }


def results_of(kbase: KnowledgeBase) -> dict:
    return {(q, mode): [(h.passage_id, h.score) for h in search(kbase, q, k=8, mode=mode)]
            for q in QUERIES for mode in ("hybrid", "keyword", "dense")}


def test_a_fresh_knowledge_base_is_healthy(kb_home):
    home, _ = kb_home
    kbase = open_kb(home)
    report = doctor(kbase, repair=False)
    assert report["healthy"] is True
    assert report["sqlite"] == {"integrity": "ok", "fts": {"passages_fts": "ok"}}
    passages, recs = report["collections"][PASSAGES], report["collections"][RECOMMENDATIONS]
    assert passages["sqlite"] == passages["chroma"] >= len(DOCS)
    assert recs["sqlite"] == recs["chroma"] >= 3, "the three recommendations written above are extracted"
    findings = report["collections"][FINDINGS]
    assert findings["sqlite"] == findings["chroma"] >= 1, "barrier sentences have vectors of their own"
    for entry in report["collections"].values():
        assert (entry["missing"], entry["orphans"], entry["repaired"]) == (0, 0, False)
    assert set(report["collections"]) == set(TABLE_FOR)


def test_doctor_reports_drift_with_check_and_repairs_it_without(kb_home):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    home, _ = kb_home
    # Someone edits the collections by hand: three passage vectors, one recommendation vector
    # and one finding vector vanish, and a vector with no SQLite row appears.
    client = chromadb.PersistentClient(path=str(home / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    passages = client.get_collection(PASSAGES)
    gone = sorted(passages.get(include=[])["ids"])[:3]
    passages.delete(ids=gone)
    recs = client.get_collection(RECOMMENDATIONS)
    recs.delete(ids=sorted(recs.get(include=[])["ids"])[:1])
    findings = client.get_collection(FINDINGS)
    lost_finding = sorted(findings.get(include=[])["ids"])[0]
    findings.delete(ids=[lost_finding])
    passages.add(ids=["orphan-vector"], embeddings=np.full((1, 384), 0.05, dtype=np.float32),
                 metadatas=[{"doc_id": "nowhere", "source": "local", "year": 0, "page": 0}])
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()

    for _ in range(2):  # a check repairs nothing, so it reports the same drift twice
        proc = run_kb(home, "doctor", "--check", "--json", check=False)
        assert proc.returncode == 1, proc.stderr
        report = json.loads(proc.stdout)
        assert report["healthy"] is False
        assert report["collections"][PASSAGES]["missing"] == 3
        assert report["collections"][PASSAGES]["orphans"] == 1
        assert report["collections"][PASSAGES]["chroma"] == report["collections"][PASSAGES]["sqlite"] - 3 + 1
        assert report["collections"][RECOMMENDATIONS]["missing"] == 1
        assert report["collections"][RECOMMENDATIONS]["orphans"] == 0
        assert report["collections"][FINDINGS]["missing"] == 1
        assert not any(c["repaired"] for c in report["collections"].values())

    proc = run_kb(home, "doctor", "--json")
    report = json.loads(proc.stdout)
    assert report["healthy"] is True
    assert report["collections"][PASSAGES]["repaired"] is True
    assert report["collections"][PASSAGES]["after"] == {
        "chroma": report["collections"][PASSAGES]["sqlite"], "missing": 0, "orphans": 0, "unreadable": 0,
        "mismatched": 0}
    assert report["collections"][RECOMMENDATIONS]["repaired"] is True

    proc = run_kb(home, "doctor", "--check", "--json")
    after = json.loads(proc.stdout)
    assert after["healthy"] is True
    assert all(c["missing"] == c["orphans"] == 0 for c in after["collections"].values())

    kbase = open_kb(home)
    ids = kbase.vectors.all_ids(PASSAGES)
    assert set(gone) <= ids and "orphan-vector" not in ids
    # Restored vectors carry the metadata ingest gives them (a finding keeps its theme).
    restored = kbase.vectors.collection(FINDINGS).get(ids=[lost_finding], include=["metadatas"])["metadatas"][0]
    doc_id, theme = kbase.store.conn.execute(
        "SELECT doc_id, theme FROM barriers WHERE vector_id = ?", (lost_finding,)).fetchone()
    assert (restored["doc_id"], restored["theme"]) == (doc_id, theme)
    # The repaired vectors are the cached embeddings, so the restored passages are found again.
    text = kbase.store.conn.execute("SELECT text FROM passages WHERE id = ?", (gone[0],)).fetchone()[0]
    assert gone[0] in [h.passage_id for h in search(kbase, text, k=3, mode="dense")]


def test_doctor_rebuilds_a_full_text_index_that_lost_rows(kb_home):
    home, _ = kb_home
    kbase = open_kb(home)
    conn = kbase.store.conn
    rowid, pid, text = conn.execute(
        "SELECT rowid, id, text FROM passages WHERE text LIKE '%Information governance%'").fetchone()
    # A row removed from the index behind the triggers' back: keyword search no longer sees it.
    conn.execute("INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', ?, ?)", (rowid, text))
    assert pid not in [h.passage_id for h in search(kbase, "information governance", mode="keyword")]

    checked = doctor(kbase, repair=False)
    assert checked["healthy"] is False
    assert checked["sqlite"]["fts"] == {"passages_fts": "inconsistent"}

    repaired = doctor(kbase, repair=True)
    assert repaired["healthy"] is True
    assert repaired["sqlite"]["fts"] == {"passages_fts": "rebuilt"}
    assert search(kbase, "information governance", mode="keyword")[0].passage_id == pid
    assert doctor(kbase, repair=False)["sqlite"]["fts"] == {"passages_fts": "ok"}


def test_reindex_gives_identical_search_results(kb_home):
    home, _ = kb_home
    kbase = open_kb(home)
    before = results_of(kbase)
    assert all(before.values()), "every query finds something"
    release(kbase)

    report = json.loads(run_kb(home, "reindex", "--json").stdout)
    assert report["vectors"][PASSAGES] > 0

    kbase = open_kb(home)
    assert results_of(kbase) == before
    assert doctor(kbase, repair=False)["healthy"] is True


def test_ingesting_the_same_files_again_changes_nothing(kb_home):
    home, corpus = kb_home
    kbase = open_kb(home)
    before = snapshot(kbase)
    raw_before = sorted(p.name for p in (home / "raw").rglob("*") if p.is_file())

    results = ingest_paths(kbase, [corpus])
    assert [r.status for r in results] == ["unchanged"] * len(DOCS)
    assert snapshot(kbase) == before
    assert sorted(p.name for p in (home / "raw").rglob("*") if p.is_file()) == raw_before
    assert doctor(kbase, repair=False)["healthy"] is True


def test_a_new_version_of_a_document_replaces_the_old_one(kb_home, tmp_path):
    home, _ = kb_home
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    report = inbox / "reablement-pilot.md"
    sidecar = inbox / "reablement-pilot.meta.json"
    url = "https://example.org/reports/reablement-pilot"
    sidecar.write_text(json.dumps({"url": url, "source": "local", "title": "Reablement pilot"}))
    report.write_text("# Reablement pilot\n\nThe Northshire reablement pilot sent therapists home with "
                      "patients on the day they left hospital. Within six weeks most needed no further "
                      "care, and the council saved on long-term home care packages.\n", encoding="utf-8")

    kbase = open_kb(home)
    [first] = ingest_paths(kbase, [report])
    assert first.status == "new"
    old_passages = [r[0] for r in kbase.store.conn.execute(
        "SELECT id FROM passages WHERE doc_id = ?", (first.doc_id,))]
    assert old_passages and set(old_passages) <= kbase.vectors.all_ids(PASSAGES)
    assert search(kbase, "Northshire reablement pilot", k=1)[0].doc_id == first.doc_id

    report.write_text("# Reablement pilot (revised)\n\nThe Southmoor reablement pilot paired each patient "
                      "with an occupational therapist for the first fortnight at home. Readmissions fell, "
                      "but the evaluation was too short to show savings.\n", encoding="utf-8")
    [second] = ingest_paths(kbase, [report])
    assert second.status == "updated" and second.doc_id != first.doc_id

    conn = kbase.store.conn
    assert [d.id for d in kbase.store.documents_by_url(url)] == [second.doc_id]
    assert conn.execute("SELECT COUNT(*) FROM passages WHERE doc_id = ?", (first.doc_id,)).fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM passages_fts WHERE passages_fts MATCH 'Northshire'").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM passages_fts WHERE passages_fts MATCH 'Southmoor'").fetchone()[0] == 1
    assert not set(old_passages) & kbase.vectors.all_ids(PASSAGES)

    for mode in ("hybrid", "keyword", "dense"):
        hits = search(kbase, "Northshire reablement pilot", k=10, mode=mode)
        assert all("Northshire" not in h.text for h in hits), mode
        assert {h.doc_id for h in hits if h.url == url} <= {second.doc_id}, mode
    top = search(kbase, "reablement pilot occupational therapist", k=1)[0]
    assert (top.doc_id, top.url) == (second.doc_id, url) and "Southmoor" in top.text
    assert doctor(kbase, repair=False)["healthy"] is True

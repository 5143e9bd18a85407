"""A researcher drops a folder of reports on `kb ingest`: each report's passages are embedded
in the background while its text is extracted, yet the knowledge base ends exactly as if each
file had been ingested on its own, in the folder's order."""
import json
import shutil
import sqlite3

import numpy as np
import pytest

from conftest import run_kb

pytestmark = pytest.mark.slow

REPORT = """# {title}

## Summary

{lead} Local authorities told us that delayed discharges from hospital rose during the
winter because home care providers could not recruit enough staff. Information sharing
between the trust and the council remained difficult, and budgets were held separately, so
neither side could pay for the other's services without a formal agreement.

## Findings

The review found that {finding}. Staff turnover in domiciliary care stood at a third of the
workforce, and vacancies were concentrated in rural districts. Commissioners said that
short-term grants made it hard to plan services beyond a single year.

Partners agreed a shared care record, but it was not in use by the end of the review period.
"""


def write_reports(inbox):
    texts = {
        "a-discharge.md": REPORT.format(title="Discharge from hospital", lead="Discharge is slow.",
                                        finding="the discharge team met weekly but lacked a pooled budget"),
        "b-carers.md": REPORT.format(title="Unpaid carers", lead="Carers are under strain.",
                                     finding="respite places were scarce in every district visited"),
        "d-records.md": REPORT.format(title="Shared records", lead="Records are not shared.",
                                      finding="the councils could not see the trust's discharge notes"),
    }
    for name, text in texts.items():
        (inbox / name).write_text(text)
    shutil.copy(inbox / "a-discharge.md", inbox / "c-discharge-copy.md")  # the same bytes again
    (inbox / "c-broken.pdf").write_bytes(b"%PDF-1.7\n truncated")


def state(home):
    """Documents, passages with their cached vectors, and any notes still owed."""
    conn = sqlite3.connect(home / "kb.sqlite")
    docs = sorted(conn.execute("SELECT sha256, title FROM documents"))
    passages = {row[0]: row[1] for row in conn.execute("SELECT id, text FROM passages")}
    owed = conn.execute("SELECT COUNT(*) FROM vectors_pending").fetchone()[0]
    vectors = dict(conn.execute("SELECT key, vector FROM embeddings"))
    return docs, passages, owed, vectors


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    inbox = tmp_path_factory.mktemp("inbox")
    write_reports(inbox)
    together = tmp_path_factory.mktemp("kb-folder")
    folder = run_kb(together, "ingest", str(inbox), "--json", check=False)
    one_by_one = tmp_path_factory.mktemp("kb-files")
    for path in sorted(inbox.iterdir()):
        run_kb(one_by_one, "ingest", str(path), check=False)
    return folder, together, one_by_one


def test_results_come_in_the_folder_order_with_the_copy_unchanged(both):
    folder, _, _ = both
    report = json.loads(folder.stdout)
    statuses = [(r["path"].rsplit("/", 1)[-1], r["status"]) for r in report["results"]]
    assert statuses == [("a-discharge.md", "new"), ("b-carers.md", "new"), ("c-broken.pdf", "failed"),
                        ("c-discharge-copy.md", "unchanged"), ("d-records.md", "new")]
    first, copy = report["results"][0], report["results"][3]
    assert copy["doc_id"] == first["doc_id"], "the copy points at the report already stored"


def test_the_folder_ends_as_file_by_file_ingests_would_leave_it(both):
    _, together, one_by_one = both
    docs, passages, owed, vectors = state(together)
    docs_alone, passages_alone, owed_alone, vectors_alone = state(one_by_one)
    assert docs == docs_alone and len(docs) == 3
    assert passages == passages_alone
    assert owed == owed_alone == 0, "every document's vectors reached Chroma"
    assert set(vectors) == set(vectors_alone)
    for key, blob in vectors.items():
        assert np.allclose(np.frombuffer(blob, np.float32), np.frombuffer(vectors_alone[key], np.float32),
                           atol=1e-5)

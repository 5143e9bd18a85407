"""A researcher ingests their own files with `kb ingest` and searches them."""
import json
import shutil
from collections import Counter

import pytest

from conftest import kb_json, run_kb

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_kb(tmp_path_factory):
    corpus = __import__("conftest").CORPUS
    if not corpus.is_dir():
        pytest.skip(f"shared corpus not found at {corpus}")
    home = tmp_path_factory.mktemp("local-kb")
    inbox = tmp_path_factory.mktemp("inbox")
    shutil.copy(corpus / "health-foundation" / "technical-appendix-draft-clean.pdf", inbox)
    shutil.copy(corpus / "nhs-england" / "nhs-england-productivity-update.md", inbox)
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.7\n truncated")
    (inbox / "empty.html").write_bytes(b"")
    proc = run_kb(home, "ingest", str(inbox), "--json", check=False)
    return home, inbox, proc


def test_good_files_are_ingested_and_bad_ones_reported(local_kb):
    home, inbox, proc = local_kb
    assert proc.returncode == 1, "some files failed, so the exit status is 1"
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert report["summary"] == {"new": 2, "updated": 0, "unchanged": 0, "failed": 2}
    reasons = {r["path"].rsplit("/", 1)[-1]: r["reason"] for r in report["results"] if r["status"] == "failed"}
    assert "broken PDF" in reasons["broken.pdf"]
    assert "empty" in reasons["empty.html"]
    failures = kb_json(home, "failures")
    assert {f["path"].rsplit("/", 1)[-1] for f in failures} >= {"broken.pdf", "empty.html"}


def test_ingesting_again_changes_nothing(local_kb):
    home, inbox, _ = local_kb
    before = kb_json(home, "stats")
    proc = run_kb(home, "ingest", str(inbox / "technical-appendix-draft-clean.pdf"), "--json")
    assert json.loads(proc.stdout)["summary"]["unchanged"] == 1
    assert kb_json(home, "stats") == before


def test_local_files_are_cited_with_file_urls_and_pages(local_kb):
    home, inbox, _ = local_kb
    hits = kb_json(home, "search", "intermediate care discharge data", "-k", "5")
    assert hits
    pdf_hits = [h for h in hits if h["url"].endswith(".pdf")]
    assert pdf_hits and pdf_hits[0]["url"].startswith("file://") and pdf_hits[0]["page"] >= 1
    assert all(h["source"] == "local" for h in hits)


def test_one_report_cannot_fill_a_terminal_search_with_per_doc(local_kb):
    """A researcher in a terminal asks about productivity: the NHS England update says it on
    page after page, and ``--per-doc 1`` leaves room for the other report."""
    home, _, _ = local_kb
    plain = kb_json(home, "search", "productivity", "-k", "6")
    per_doc = Counter(h["doc_id"] for h in plain)
    assert max(per_doc.values()) > 1, "without the cap one report takes several places"
    capped = kb_json(home, "search", "productivity", "-k", "6", "--per-doc", "1")
    assert Counter(h["doc_id"] for h in capped) == Counter(set(h["doc_id"] for h in capped))
    assert capped[0] == plain[0], "the best passage still leads"
    grouped = kb_json(home, "search", "productivity", "--by-document", "--per-doc", "1")
    assert grouped and all(len(d["passages"]) == 1 for d in grouped)
    bad = run_kb(home, "search", "productivity", "--per-doc", "0", check=False)
    assert bad.returncode == 2 and "--per-doc" in bad.stderr and "Traceback" not in bad.stderr


def test_extract_prints_the_contract_without_storing(shared_corpus, tmp_path):
    proc = run_kb(tmp_path, "extract", str(shared_corpus / "nhs-england" / "nhs-england-productivity-update.md"),
                  "--json")
    data = json.loads(proc.stdout)
    assert set(data) >= {"document", "barriers", "recommendations", "funding"}
    assert set(data["document"]) == {"title", "published", "pages", "publisher", "identifiers", "doc_type"}
    assert data["funding"], "the NHSE productivity update states £ figures"
    f = data["funding"][0]
    assert set(f) >= {"amount_gbp", "mention", "subject", "period", "kind", "sentence", "page"}
    assert f["page"] is None and f["kind"] in {"allocation", "spend", "saving", "cost", "deficit", "other"}
    assert not (tmp_path / "kb.sqlite").exists()


def test_a_missing_path_is_reported_not_raised(tmp_path):
    proc = run_kb(tmp_path, "ingest", str(tmp_path / "nope.pdf"), "--json", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["summary"]["failed"] == 1

"""A user runs `kb crawl` against a mirror of the publishers and gets counts and a searchable KB."""
import json

import pytest

from conftest import kb_json, run_kb
from kb.demosite import build_site, serve_site

pytestmark = pytest.mark.slow


def test_kb_crawl_with_since_stores_and_ingests_only_newer_reports(tmp_path):
    site = build_site(tmp_path / "site")
    home = tmp_path / "kb"
    with serve_site(site) as base_url:
        proc = run_kb(home, "crawl", "--source", "nao", "--base-url", base_url, "--since", "2018-01-01", "--json")
        again = run_kb(home, "crawl", "--source", "nao", "--base-url", base_url, "--since", "2018-01-01", "--json")
    report = json.loads(proc.stdout)
    assert report["failed"] == [] and report["ingest"]["new"] == report["stored"] == 2
    assert json.loads(again.stdout)["ingest"] == {"new": 0, "updated": 0, "unchanged": 2, "failed": 0}
    docs = kb_json(home, "search", "integrated care systems", "-k", "20")
    assert docs and all(h["published"] >= "2018" and h["source"] == "nao" for h in docs)


def test_kb_crawl_rejects_a_bad_date_without_a_traceback(tmp_path):
    proc = run_kb(tmp_path, "crawl", "--since", "last tuesday", check=False)
    assert proc.returncode == 2 and "not a date" in proc.stderr and "Traceback" not in proc.stderr

"""A user runs `kb crawl` against a mirror of the publishers and gets counts and a searchable KB."""
import json

import pytest

from conftest import kb_json, run_kb
from demosite.site import build_site, serve_site

pytestmark = pytest.mark.slow


def test_kb_crawl_with_since_stores_and_ingests_only_newer_reports(tmp_path):
    site = build_site(tmp_path / "site")
    home = tmp_path / "kb"
    with serve_site(site) as base_url:
        proc = run_kb(home, "crawl", "--source", "nao", "--base-url", base_url, "--since", "2018-01-01", "--json")
        again = run_kb(home, "crawl", "--source", "nao", "--base-url", base_url, "--since", "2018-01-01", "--json")
    report = json.loads(proc.stdout)
    assert report["failed"] == [] and report["ingest"]["new"] == report["stored"] == 2
    assert report["counts"] == {"new": 2, "changed": 0, "unchanged": 0, "failed": 0}
    assert "nao new" in proc.stderr, "each document is reported on stderr as it is stored"
    second = json.loads(again.stdout)
    # The server answered 304 to both PDFs: nothing downloaded, nothing extracted again.
    assert second["counts"] == {"new": 0, "changed": 0, "unchanged": 2, "failed": 0}
    assert second["ingest"] == {"new": 0, "updated": 0, "unchanged": 2, "failed": 0}
    assert second["interrupted"] == [] and second["log"].endswith(".jsonl")
    docs = kb_json(home, "search", "integrated care systems", "-k", "20")
    assert docs and all(h["published"] >= "2018" and h["source"] == "nao" for h in docs)


def test_kb_crawl_rejects_a_bad_date_without_a_traceback(tmp_path):
    proc = run_kb(tmp_path, "crawl", "--since", "last tuesday", check=False)
    assert proc.returncode == 2 and "not a date" in proc.stderr and "Traceback" not in proc.stderr


def test_kb_crawl_shows_progress_and_ends_with_counts_and_each_failure(tmp_path):
    site = build_site(tmp_path / "site")
    (site / "reports/planning-for-the-better-care-fund/index.html").unlink()  # a dead link
    home = tmp_path / "kb"
    with serve_site(site) as base_url:
        proc = run_kb(home, "crawl", "--source", "nao", "--base-url", base_url, "--no-ingest", check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert sum(" new " in line and "/wp-content/uploads/" in line for line in lines) == 4
    assert any(line.startswith("failed: ") and line.endswith("/reports/planning-for-the-better-care-fund/: HTTP 404")
               for line in lines)
    assert lines[-1] == "crawl: 4 new, 0 changed, 0 unchanged, 1 failed"
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--max-size", "lots"], "not a size in megabytes"),
    (["--topic", "no-such-topic.json"], "no such topic file"),
    (["--base-url", "ftp://example.org"], "base_url must be an http(s) URL"),
])
def test_kb_crawl_bad_options_are_one_line_errors(tmp_path, args, message):
    proc = run_kb(tmp_path, "crawl", "--source", "nao", *args, check=False)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("kb crawl: ")

"""A crawler ingests whatever publishers serve: a 3,000-page inquiry volume, an index page of
200,000 links, a data annex as one Markdown table, a GOV.UK item whose body is a whole annual
report, a PDF table of £ figures, a statistical release pasted as one line of figures. Each
must finish or be refused with a reason in bounded time, and the run go on.

The shapes are made by ``bench/shapes.py`` at a small size, and the per-document caps and the
time budget are set small through the environment, as a user would set them, so the tests
are quick; ``bench/hostile.py --ingest`` times the full sizes.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, kb_env, run_kb

sys.path.insert(0, str(REPO / "bench"))
from shapes import make  # noqa: E402

pytestmark = pytest.mark.slow

SMALL_CAPS = {"KB_MAX_PASSAGES": "40", "KB_MAX_PARSED_SENTENCES": "15", "KB_MAX_BARRIER_CANDIDATES": "12",
              "KB_MAX_RECOMMENDATIONS": "5", "KB_MAX_SENTENCE_CHARS": "600"}

GOOD = ("# Discharge delays\n\nThe council told us that delayed discharge is driven by the shortage of home "
        "care workers, and that short-term funding makes it hard to plan services beyond one year.\n")


def ingest(home: Path, *paths: Path, **env: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "ingest", "--json", *map(str, paths)], cwd=REPO,
                          env={**kb_env(home), **env}, capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    return {Path(r["path"]).name: r for r in json.loads(proc.stdout)["results"]} | {"_stderr": proc.stderr}


@pytest.fixture(scope="module")
def capped(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("shapes")
    make("long_pdf", folder, 25)
    make("links_html", folder, 3000)
    make("markdown_table", folder, 0.05)
    make("govuk_json", folder, 0.1)
    make("pound_table_pdf", folder, 400)
    home = folder / "kb"
    return {"home": home, "results": ingest(home, folder, **SMALL_CAPS)}


def test_every_shape_is_stored_within_the_caps(capped):
    results = capped["results"]
    for name in ("long_pdf.pdf", "links_html.html", "markdown_table.md", "govuk_json.json", "pound_table_pdf.pdf"):
        assert results[name]["status"] == "new", results[name]
    conn = sqlite3.connect(capped["home"] / "kb.sqlite")
    per_doc = conn.execute("SELECT doc_id, COUNT(*) FROM passages GROUP BY doc_id").fetchall()
    assert per_doc and max(n for _, n in per_doc) <= 40
    assert conn.execute("SELECT COUNT(*) FROM barriers GROUP BY doc_id ORDER BY 1 DESC").fetchone()[0] <= 12


def test_a_cap_that_was_hit_is_reported_with_what_it_left_out(capped):
    results = capped["results"]
    assert results["long_pdf.pdf"]["capped"]["passages"] > 0  # 25 pages x 3 paragraphs > 40 passages
    assert results["govuk_json.json"]["capped"]["passages"] > 0
    assert results["links_html.html"]["capped"]["passages"] > 0
    assert "capped (items left out): passages" in capped["results"]["_stderr"]


def test_a_document_over_its_time_budget_fails_with_the_stage_and_the_run_goes_on(tmp_path):
    home, inbox = tmp_path / "kb", tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "first.md").write_text(GOOD.replace("Discharge delays", "Already stored"))
    run_kb(home, "ingest", str(tmp_path / "first.md"))
    (inbox / "a-good.md").write_text(GOOD)
    make("pound_line", inbox, 3.0).rename(inbox / "z-figures.txt")  # sorted after the good file
    results = ingest(home, inbox, KB_DOC_TIMEOUT_S="1")
    assert results["a-good.md"]["status"] == "new"
    failed = results["z-figures.txt"]
    assert failed["status"] == "failed"
    assert failed["reason"].startswith("stopped after 1 CPU seconds in ") and "KB_DOC_TIMEOUT_S" in failed["reason"]
    conn = sqlite3.connect(home / "kb.sqlite")
    titles = {t for (t,) in conn.execute("SELECT title FROM documents")}
    assert titles == {"Already stored", "Discharge delays"}  # nothing of the slow one, nothing lost
    assert conn.execute("SELECT COUNT(*) FROM funding").fetchone()[0] == 0
    listed = json.loads(run_kb(home, "failures", "--json").stdout)
    assert [r["reason"] for r in listed if r["path"].endswith("z-figures.txt")] == [failed["reason"]]


def test_overlong_sentences_are_neither_parsed_nor_embedded():
    from nlp import budget
    from nlp.budget import Limits
    from nlp.extract import extract
    from nlp.models import SourceDocument

    run_on = "Staff shortages delay discharge because " + "the council and the trust disagree, " * 60
    doc = SourceDocument("annex.md", "markdown", ["# Annex\n\n" + run_on.strip() + "."], False)
    with budget.document(Limits(max_sentence_chars=500)) as bud:
        out = extract(doc)
    assert bud.capped.get("barrier_sentences_too_long", 0) >= 1 and out.barriers == []

"""A journalist asks "who said this before, and when?" of reports that say it in other words.

Three small reports in our own words, laid out like the real thing: an audit office report
(March 2014), its 2017 follow-up published twice, as a PDF and as an HTML page, which names
the 2014 report ("made similar points in a report in March 2014", "we reiterate the
recommendation from our 2014 report"), and a 2020 think-tank briefing. The same barriers
recur in other words; the PDF and the HTML are one publication, never a recurrence.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from conftest import kb_json, run_kb

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "web"))
from demosite.site import render_pdf  # noqa: E402

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "recurrence"


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A knowledge base of the three reports, the 2017 one as a rendered PDF and as HTML."""
    root = tmp_path_factory.mktemp("recurrence")
    docs = root / "docs"
    docs.mkdir()
    for name in ("audit-2014-better-care-fund.txt", "audit-2014-better-care-fund.meta.json",
                 "audit-2017-integration.html", "audit-2017-integration.html.meta.json",
                 "thinktank-2020-joined-up-care.txt", "thinktank-2020-joined-up-care.meta.json"):
        shutil.copy(FIXTURES / name, docs / name)
    source = root / "audit-2017-integration.pdf.txt"
    source.write_text("Title: Health and social care integration\nAuthor: National Audit Office\n---\n"
                      + (FIXTURES / "audit-2017-integration.md").read_text(encoding="utf-8").replace("–", "-"),
                      encoding="utf-8")
    (docs / "audit-2017-integration.pdf").write_bytes(render_pdf(source.read_text(encoding="utf-8")))
    meta = json.loads((FIXTURES / "audit-2017-integration.md.meta.json").read_text(encoding="utf-8"))
    (docs / "audit-2017-integration.pdf.meta.json").write_text(json.dumps({**meta, "url": meta["url"] + "report.pdf"}))
    home = root / "kb"
    run_kb(home, "ingest", str(docs))
    return home


@pytest.fixture(scope="module")
def groups(home) -> list[dict]:
    return kb_json(home, "recurrences", "--kind", "all", "--min-years", "1")


def _group_with(groups: list[dict], words: str) -> dict:
    found = [g for g in groups if any(words in o["text"].lower() for o in g["occurrences"])]
    assert len(found) == 1, f"expected one group with {words!r}, got {[g['label'] for g in found]}"
    return found[0]


def test_a_barrier_said_in_other_words_is_traced_across_three_years(groups):
    workforce = _group_with(groups, "shortage of qualified social care staff")
    assert workforce["kind"] == "finding"
    assert workforce["years"] == [2014, 2017, 2020]
    assert any("recruiting and keeping enough care workers" in o["text"].lower() for o in workforce["occurrences"])
    assert "workforce shortages" in workforce["key_phrases"]
    assert "3 publications" in workforce["why"]
    discharge = _group_with(groups, "delayed discharges from hospital are rising")
    assert discharge["years"] == [2014, 2017, 2020]


def test_the_same_recommendation_made_again_is_a_recommendation_group(groups):
    evidence = _group_with(groups, "robust evidence on whether integrated care saves money")
    assert evidence["kind"] == "recommendation" and evidence["years"] == [2014, 2017]


def test_different_barriers_of_one_report_stay_apart(groups):
    workforce = _group_with(groups, "shortage of qualified social care staff")
    assert not any("pool" in o["text"].lower() for o in workforce["occurrences"])


def test_a_pdf_and_its_html_version_are_one_publication_never_a_recurrence(home, groups):
    stats = kb_json(home, "stats")
    assert stats["documents"] == 4 and stats["publications"] == 3
    for g in groups:  # each group counts the 2017 report once, whichever rendition speaks for it
        years = [o["published"][:4] for o in g["occurrences"]]
        assert len(years) == len(set(years)), g["label"]
    hits = kb_json(home, "search", "councils pool only a small share of their budgets")
    assert len({h["doc_id"] for h in hits if h["title"] == "Health and social care integration"}) == 1
    docs = kb_json(home, "search", "councils pool only a small share of their budgets", "--by-document")
    titles = [d["title"] for d in docs]
    assert titles.count("Health and social care integration") == 1, titles
    doc = next(d for d in docs if d["title"] == "Health and social care integration")
    assert [r["format"] for r in doc["renditions"]] in (["pdf"], ["html"])


def test_a_report_that_says_it_repeats_an_earlier_one_is_linked_to_it_on_both_pages(home):
    from kb.config import Settings
    from webapp import create_app

    app = create_app({"SETTINGS": Settings(home=home), "TESTING": True})
    client = app.test_client()
    docs = {d["title"]: d for d in kb_json(home, "search", "Better Care Fund robust evidence")}
    earlier = docs["Planning for the Better Care Fund"]["doc_id"]
    later = docs["Health and social care integration"]["doc_id"]
    later_page = client.get(f"/documents/{later}").get_data(as_text=True)
    assert "made similar points in a report in March 2014" in later_page
    assert f'href="/documents/{earlier}"' in later_page and "Refers back to" in later_page
    earlier_page = client.get(f"/documents/{earlier}").get_data(as_text=True)
    assert "says it makes a point of this one again" in earlier_page
    assert f'href="/documents/{later}"' in earlier_page


def test_recurrences_page_offers_both_kinds_and_its_counts_agree_with_about(home, groups):
    from kb.config import Settings
    from webapp import create_app

    client = create_app({"SETTINGS": Settings(home=home), "TESTING": True}).test_client()
    page = client.get("/recurrences").get_data(as_text=True)
    assert '<select class="select" id="kind" name="kind">' in page and "Themes over the years" in page
    assert f"{len(groups)} recurring points" in page
    findings = client.get("/recurrences?kind=finding").get_data(as_text=True)
    n_findings = sum(g["kind"] == "finding" for g in groups)
    assert f"{n_findings} recurring findings" in findings and "Why grouped:" in findings
    about = client.get("/about").get_data(as_text=True)
    assert re.search(rf">{len(groups)}</a> \({n_findings} findings, {len(groups) - n_findings} recommendations\)", about)


def test_eval_recurrence_scores_groups_against_judged_ones(home):
    report = kb_json(home, "eval-recurrence", str(FIXTURES / "judged.json"), "--root", str(home.parent / "docs"))
    assert report["judged_groups"] == 2 and report["groups_hit"] == 2
    assert report["pair_recall"] == 1.0 and report["pair_precision"] == 1.0
    text = run_kb(home, "eval-recurrence", str(FIXTURES / "judged.json"), "--root", str(home.parent / "docs")).stdout
    assert "pair precision: 1.000" in text and "pair recall:    1.000" in text

"""A team follows a recommendation from the report that made it to the government's answer."""
import shutil

import pytest

from conftest import kb_json, run_kb
from kb.analysis.lifecycle import normalise_label
from kb.analysis.recurrence import restatement_ref


@pytest.mark.parametrize("raw, label", [
    ("1", "1"), ("Recommendation 2(a)", "2a"), ("2a, 2b, 2c", "2a"), ("4a(i)", "4ai"), (" b ", "b"), (None, None),
])
def test_labels_are_compared_in_one_form(raw, label):
    assert normalise_label(raw) == label


@pytest.mark.parametrize("text, ref", [
    ("We re-iterate the recommendation from our November 2014 report that the Department should act.", (11, 2014)),
    ("The Committee repeats the recommendations of its 2017 report on integration.", (None, 2017)),
    ("We recommend that the Department reports back in 2018.", None),
])
def test_explicit_restatements_name_the_earlier_report(text, ref):
    assert restatement_ref(text) == ref


@pytest.mark.slow
def test_treasury_minutes_answer_the_pac_recommendations_by_number(demo_home):
    entries = kb_json(demo_home, "lifecycle")
    pac_2017 = [e for e in entries if e["recommendation"]["published"] == "2017-04-27"]
    answered = {e["recommendation"]["label"]: e["responses"] for e in pac_2017 if e["responses"]}
    assert len(answered) >= 4
    first = answered["1"][0]
    assert first["stance"] == "accepted" and first["target_date"].startswith("April 2018")
    assert first["published"] == "2017-07-13" and first["responds_to"] == "1"
    assert any(r["stance"] == "rejected" for r in answered["5"])
    # No response is ever linked to a report published after it.
    for e in entries:
        for r in e["responses"]:
            assert r["published"] >= e["recommendation"]["published"]


@pytest.mark.slow
def test_recurrences_show_what_the_government_said_each_time(demo_home):
    groups = kb_json(demo_home, "recurrences", "--kind", "recommendation", "--min-years", "2")
    responded = [o for g in groups for o in g["occurrences"] if o["responses"]]
    assert responded, "occurrences carry the responses linked to them"
    assert all({"stance", "target_date", "title"} <= set(o["responses"][0]) for o in responded)


@pytest.mark.slow
def test_the_nao_restatement_is_grouped_with_the_2014_original(demo_home):
    groups = kb_json(demo_home, "recurrences", "--kind", "recommendation", "--min-years", "1")
    restating = [(g, o) for g in groups for o in g["occurrences"] if o.get("restates")]
    assert restating, "the NAO's 2017 're-iterate the recommendation from our November 2014 report' is linked"
    group, occurrence = restating[0]
    original = [o for o in group["occurrences"] if o["recommendation_id"] == occurrence["restates"]]
    assert original and original[0]["published"].startswith("2014-11")


@pytest.mark.slow
def test_findings_recur_too(demo_home):
    findings = kb_json(demo_home, "recurrences", "--kind", "finding", "--min-years", "2")
    assert findings and all(g["kind"] == "finding" for g in findings)
    assert all(len({o["doc_id"] for o in g["occurrences"]}) >= 2 for g in findings)


@pytest.mark.slow
def test_covid_inquiry_module_1_and_the_government_response_link_one_to_one(shared_corpus, tmp_path):
    inquiry = shared_corpus / "public-inquiries"
    for name in ("uk-covid-19-inquiry-module-1-recomm.pdf", "uk-covid-19-inquiry-module-1-response.pdf"):
        shutil.copy(inquiry / name, tmp_path / name)
    home = tmp_path / "kb"
    run_kb(home, "ingest", str(tmp_path / "uk-covid-19-inquiry-module-1-recomm.pdf"),
           str(tmp_path / "uk-covid-19-inquiry-module-1-response.pdf"))
    entries = kb_json(home, "lifecycle")
    linked = {}
    for e in entries:
        for r in e["responses"]:
            assert r["responds_to"] and normalise_label(r["responds_to"]) == normalise_label(e["recommendation"]["label"])
            linked.setdefault(normalise_label(r["responds_to"]), []).append(e["recommendation"])
    assert set(linked) == {str(n) for n in range(1, 11)}, "each of the ten recommendations gets its answer"
    assert all(len(recs) == 1 for recs in linked.values())
    assert all(r["stance"] == "accepted" for e in entries for r in e["responses"])


@pytest.mark.slow
def test_a_lords_report_and_its_government_response_link_paragraph_by_paragraph(tmp_path):
    """Ingested from disk, both covers name their publisher; one answer to '6.1' and '6.2' links
    to 6.2 only (6.1 is a conclusion), the refusal carries the sentence that decided it, and
    6.8, answered ask by ask, has both answers."""
    from publications import as_pdf

    files = [as_pdf(name, tmp_path) for name in ("lords_committee_report", "lords_government_response")]
    home = tmp_path / "kb"
    run_kb(home, "ingest", *map(str, files))
    entries = kb_json(home, "lifecycle")
    by_label = {e["recommendation"]["label"]: e for e in entries}
    assert set(by_label) == {"6.2", "6.4", "6.5", "6.7", "6.8"}
    assert [r["stance"] for r in by_label["6.4"]["responses"]] == ["rejected"]
    assert "does not intend" in by_label["6.4"]["responses"][0]["stance_evidence"]
    # a recommendation of two asks answered ask by ask has an answer for each
    assert sorted(r["stance"] for r in by_label["6.8"]["responses"]) == ["noted", "rejected"]
    assert all(e["responses"] for e in entries)
    assert by_label["6.2"]["recommendation"]["title"] == "Bus Services in Market Towns"
    doc = kb_json(home, "extract", str(files[0]))["document"]
    assert doc["publisher"] == "House of Lords Rural Affairs Select Committee"

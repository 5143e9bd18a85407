"""A team reads real publications: each shape Parliament, the NAO, inquiries and government print.

Every fixture is written in our own words but laid out as the real publications are (covers,
running headers, hyphenation across lines, tags split over lines), rendered to PDF with
fpdf2 and read through the same text extraction as a downloaded file.
"""
from __future__ import annotations

import pytest

from nlp.cover import read_cover
from nlp.labels import canonical, expand_labels, link
from nlp.models import SourceDocument
from nlp.recommendations import find_recommendations
from nlp.responses import find_responses
from nlp.stance import answer_stance
from publications import layout_of, loaded


def recommendations(name, tmp_path):
    return find_recommendations(*layout_of(loaded(name, tmp_path)))


def responses(name, tmp_path):
    return find_responses(*layout_of(loaded(name, tmp_path)))


def test_commons_closing_list_keeps_tagged_recommendations_and_drops_conclusions(tmp_path):
    found = recommendations("commons_committee_report", tmp_path)
    # '(Recommendation,\nParagraph 4)' is split over lines; the body paragraphs 4 and 6 say the
    # same words and are mentions of the same two recommendations, not two more.
    assert [r.label for r in found] == ["2", "4"]
    assert found[0].deadline == "by March 2026"
    assert not any("nobody collects the figure" in r.text for r in found)


def test_older_commons_list_mixes_untagged_conclusions_with_we_recommend_under_theme_headings(tmp_path):
    found = recommendations("commons_older_list", tmp_path)
    assert [r.label for r in found] == ["2", "4", "5"]
    assert found[2].text.startswith("The Department should ask councils")  # the conclusion before it is not
    assert found[0].text.startswith("We recommend that the Department collect figures")


def test_commons_cover_gives_publisher_paper_number_and_date(tmp_path):
    cover = read_cover(loaded("commons_committee_report", tmp_path))
    assert cover["publisher"] == "House of Commons Community Services Committee"
    assert cover["identifiers"] == {"hc_number": "412", "session": "2024-25"}
    assert cover["published"] == "2025-04-09" and cover["title"] == "Waiting for home adaptations"


def test_pac_recommendation_keeps_its_write_to_the_committee_deadline(tmp_path):
    found = recommendations("pac_report", tmp_path)
    assert [r.label for r in found] == ["1", "2"]
    assert "write to the Committee within six months" in found[0].text
    assert found[0].deadline == "within six months"
    assert read_cover(loaded("pac_report", tmp_path))["publisher"] == "House of Commons Committee of Public Accounts"


def test_nao_summary_recommendations_are_lettered_and_the_value_for_money_conclusion_is_not_one(tmp_path):
    found = recommendations("nao_report", tmp_path)
    assert [r.label for r in found] == ["a", "b", "c", "d"]
    assert found[0].text.startswith("agree, by December 2025")
    assert "NHS England should" in found[2].raw  # the lead names who is asked to act
    assert not any("value for money" in r.text for r in found)
    assert read_cover(loaded("nao_report", tmp_path))["publisher"] == "National Audit Office"


def test_nao_cover_gives_departments_title_paper_number_session_and_date(tmp_path):
    # 'Report by the Comptroller and Auditor General / <departments> / <title> / HC 230 SESSION 2024-25 5 MARCH 2025'
    cover = read_cover(loaded("nao_report", tmp_path))
    assert cover["identifiers"] == {"hc_number": "230", "session": "2024-25",
                                    "departments": "Department of Health and Social Care, NHS England"}
    assert cover["title"] == "Managing hospital equipment" and cover["published"] == "2025-03-05"


def test_nao_cover_with_its_date_on_a_line_of_its_own_and_one_department():
    cover = read_cover(SourceDocument(
        path="equipment-plan.pdf", format="pdf", paged=True,
        pages=["Report by the Comptroller and Auditor General\nCabinet Office\nThe Equipment Plan\n"
               "HC 42 SESSION 2019–20\n15 January 2020\n"]))
    assert cover["identifiers"] == {"hc_number": "42", "session": "2019-20", "departments": "Cabinet Office"}
    assert cover["title"] == "The Equipment Plan" and cover["published"] == "2020-01-15"
    annual = read_cover(SourceDocument(path="a.pdf", format="pdf", paged=True,
                                       pages=["National Audit Office\nAnnual report and accounts 2019-20\n"]))
    assert "title" not in annual and "departments" not in annual.get("identifiers", {})


def test_lords_closing_chapter_mixes_conclusions_and_recommendations(tmp_path):
    found = recommendations("lords_committee_report", tmp_path)
    assert [r.label for r in found] == ["6.2", "6.4", "6.5", "6.7", "6.8"]
    assert found[1].text.startswith("Given how often funding arrives late, we urge")
    assert "review it with passengers" in found[2].text  # its bullets belong to it
    cover = read_cover(loaded("lords_committee_report", tmp_path))
    assert cover["identifiers"]["hl_paper"] == "88" and cover["published"] == "2024-06-12"


def test_inquiry_boxes_keep_lead_ins_and_bullets_and_the_appendix_list_is_not_a_second_copy(tmp_path):
    found = recommendations("inquiry_report", tmp_path)
    assert [r.label for r in found] == ["1", "2"]
    assert "how shelters will be opened at night" in found[0].text
    assert found[1].deadline == "by the end of 2026"


def test_treasury_minutes_answer_each_pac_recommendation_with_a_target_date(tmp_path):
    found = responses("treasury_minutes", tmp_path)
    assert [(r.responds_to, r.stance, r.target_date) for r in found] == [
        ("1", "accepted", "Spring 2026"), ("2", "rejected", None)]
    cover = read_cover(loaded("treasury_minutes", tmp_path))
    assert cover["publisher"] == "HM Treasury" and cover["identifiers"]["command_paper_number"] == "CP 1248"


def test_treasury_minutes_progress_report_gives_the_state_of_delivery(tmp_path):
    found = responses("treasury_minutes_progress", tmp_path)
    assert [(r.responds_to, r.implementation) for r in found] == [
        ("1", "implemented"), ("3", "in_progress"), ("4", "superseded")]
    assert found[1].target_date == "Autumn 2025"


def test_lords_government_response_answers_quoted_paragraphs_in_prose(tmp_path):
    found = responses("lords_government_response", tmp_path)
    assert [(r.responds_to, r.stance) for r in found] == [
        ("6.1", "accepted"), ("6.2", "accepted"), ("6.4", "rejected"), ("6.5", "noted"), ("6.7", "accepted"),
        ("6.8", "rejected"), ("6.8", "noted")]
    refusal = found[2]
    assert "does not intend to move to three-year settlements" in refusal.stance_evidence
    # 6.8 asks two things and is answered ask by ask: the pass (no plans), then the fares
    assert found[5].text.startswith("The Government has no plans to amend the concessionary")
    assert found[6].text.startswith("Several councils already list")
    assert read_cover(loaded("lords_government_response", tmp_path))["publisher"] == "Department for Transport"


def test_select_committee_response_under_theme_headings_links_by_the_quoted_text(tmp_path):
    found = responses("select_committee_response", tmp_path)
    assert [r.stance for r in found] == ["accepted_in_principle", "partially_accepted"]
    # '1. Information on waiting times' is a theme, not recommendation 1: the quotation decides
    report = recommendations("commons_committee_report", tmp_path)
    recs = [(str(i), r.label, r.text) for i, r in enumerate(report)]
    assert [link(r.responds_to, r.quoted, recs)[0] for r in found] == [["0"], ["1"]]


def test_inquiry_response_records_other_bodies_and_what_is_not_for_government(tmp_path):
    found = responses("inquiry_response", tmp_path)
    assert [(r.responds_to, r.stance) for r in found] == [("1", "rejected"), ("2", "accepted"), ("3", "other")]
    assert found[1].responder == "Environment Agency" and found[1].implementation == "in_progress"
    assert all("should place a single duty" not in r.text for r in found)  # the quotation is not an answer


@pytest.mark.parametrize("answer, stance", [
    (["The government agrees with the importance of early help but does not intend to legislate."], "rejected"),
    (["We will explore options with local partners."], "noted"),
    (["The Department will keep this under review."], "noted"),
    (["The government has already implemented this recommendation."], "accepted"),
    (["The government agrees to publish the data.", "However, it does not agree to a statutory target."],
     "partially_accepted"),
    (["This recommendation is not for the UK government to respond to."], "other"),
    (["The government agrees that it is important for councils to tailor services.",
      "Councils should take these decisions without the need for central government intervention."], "rejected"),
    (["Timetables are a matter for local authorities.", "We will consider updating our guidance."], "noted"),
])
def test_stance_comes_from_the_substance_of_the_answer(answer, stance):
    assert answer_stance(answer)[0] == stance


@pytest.mark.parametrize("printed, labels", [
    ("2(a)", ["2a"]), ("2.a", ["2a"]), ("4(a)(iii)", ["4aiii"]), ("8.3", ["8.3"]),
    ("8.14–8.16", ["8.14", "8.15", "8.16"]), ("12(a)–(c)", ["12a", "12b", "12c"]),
    ("2a, 2b and 2c", ["2a", "2b", "2c"]), ("Recommendations 4a(i)-(iii)", ["4ai", "4aii", "4aiii"]),
])
def test_printed_labels_and_ranges_become_one_form(printed, labels):
    assert expand_labels(printed) == labels
    assert canonical(printed.split(",")[0]) == labels[0] or len(labels) > 1


def test_a_range_answers_every_recommendation_in_it_and_a_misnumbered_quotation_is_resolved_by_text():
    recs = [("a", "8.14", "Ministers should publish the evidence on regulation."),
            ("b", "8.15", "The Department should fund trials of new services."),
            ("c", "8.16", "Councils should share what they learn from evaluations."),
            ("d", "8.33", "The Government should set targets for cutting car emissions.")]
    assert link("8.14–8.16", None, recs) == (["a", "b", "c"], "label")
    assert link("8.32", "We recommend that the Government should set targets for cutting car emissions.",
                recs) == (["d"], "text")


def test_a_govuk_html_response_announces_each_recommendation_and_its_response():
    from nlp.layout import build_layout
    from nlp.models import SourceDocument
    from nlp.segment import sentence_spans

    text = ("Government response to the Health and Care Committee report on dental services\n\n"
            "Recommendation 1\n\nNHS England should publish a plan to recruit more dentists by 2026. (Paragraph 31)\n\n"
            "Government response\n\nThe government accepts this recommendation. NHS England will publish the plan.\n\n"
            "Recommendation 2\n\nThe Department should abolish the dental contract within a year. (Paragraph 45)\n\n"
            "Government response\n\nThe government agrees that the contract needs reform but does not agree to "
            "abolish it within a year.\n\n"
            "Recommendation 3\n\nThe Department should review fees for children.\n\n"
            "Government response\n\nWe will keep fees under review.\n")
    layout = build_layout(SourceDocument("r.html", "html", [text], False))
    found = find_responses(layout, sentence_spans(layout))
    assert [(r.responds_to, r.stance) for r in found] == [
        ("1", "accepted"), ("2", "partially_accepted"), ("3", "noted")]

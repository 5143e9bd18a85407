"""End to end: real shared-corpus documents through the real pipeline and models."""
from __future__ import annotations

from pathlib import Path

import pytest

from nlp.extract import extract, sentences
from nlp.meta import recover_metadata
from nlp.models import SourceDocument
from nlp.text import load_document

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
needs_shared = pytest.mark.skipif(not (SHARED / "corpus").is_dir(),
                                  reason=f"shared corpus not found at {SHARED} (checkout without ../shared)")


@needs_shared
def test_covid_inquiry_government_response_links_every_recommendation() -> None:
    doc = load_document(SHARED / "corpus/public-inquiries/uk-covid-19-inquiry-module-1-response.pdf")
    result = extract(doc)
    assert [r.responds_to for r in result.responses] == [str(n) for n in range(1, 11)]
    assert all(r.stance == "accepted" and r.page is not None and r.page > 10 for r in result.responses)
    assert result.recommendations == []  # the inquiry's recommendations are restated, not made here
    assert result.published == "2025-01-16"


@needs_shared
def test_covid_inquiry_report_recommendations_have_labels_actors_and_pages() -> None:
    doc = load_document(SHARED / "corpus/public-inquiries/uk-covid-19-inquiry-module-1-recomm.pdf")
    result = extract(doc)  # its speed is bench/run.py's extract_words_per_s, not a timed test
    labelled = [r for r in result.recommendations if r.label]
    assert {r.label for r in labelled} == {str(n) for n in range(1, 11)}
    first = next(r for r in labelled if r.label == "1")
    assert first.page == 67
    assert first.actor and "governments of the UK" in first.actor
    assert first.deadline == "within 12 months of the publication of this Report"
    assert "Appendix" not in first.text


@needs_shared
def test_board_paper_funding_figures() -> None:
    doc = load_document(SHARED / "corpus/nhs-england/nhs-england-productivity-update.md")
    result = extract(doc)
    by_amount = {f.amount_gbp: f for f in result.funding}
    assert by_amount[3.5e9].period == "2022/23" and by_amount[3.5e9].kind == "spend"
    assert by_amount[171e6].kind == "saving" and by_amount[171e6].mention == "£171 mil ion"
    assert all(f.page is None for f in result.funding)
    assert result.recommendations == []


@needs_shared
def test_to_json_is_the_kb_extract_contract() -> None:
    doc = load_document(SHARED / "seeds/000_4c2651ccfd1ee66d.txt")
    data = extract(doc).to_json()
    assert set(data) == {"document", "barriers", "recommendations", "funding", "responses", "notes"}
    assert data["document"]["pages"] == 1
    assert {f["amount_gbp"] for f in data["funding"]} == {5.3e9, 2.1e9}
    assert set(data["barriers"][0]) == {"theme", "sentence", "page", "score", "themes"}


@needs_shared
def test_sentences_are_reusable_with_pages_and_offsets() -> None:
    doc = load_document(SHARED / "corpus/health-foundation/technical-appendix-draft-clean.pdf")
    sents = sentences(doc)
    assert sents and all(s.page in (1, 2) for s in sents)
    assert all(0 <= s.start < s.end <= len(doc.text) for s in sents)


@pytest.mark.parametrize(
    "pages, published",
    [
        (["Report by the Comptroller and Auditor General\nHealth and social care integration\n"
          "HC 1011 SESSION 2016–17 8 FEBRUARY 2017"], "2017-02-08"),
        (["Integration update\nPublished: 8 February 2017\nBody text."], "2017-02-08"),
        (["Getting into shape\nSeptember 2017\n"], "2017-09"),
    ],
)
def test_published_date_is_recovered_from_the_text(pages: list[str], published: str) -> None:
    title, date = recover_metadata(SourceDocument("x.pdf", "pdf", pages, True))
    assert date == published and title


def test_document_metadata_wins_over_recovered_values() -> None:
    doc = SourceDocument("x.pdf", "pdf", ["Other title\nPublished: 1 May 2020"], True,
                         title="Real title", published="2019-01-01")
    assert recover_metadata(doc) == ("Real title", "2019-01-01")


def test_year_in_the_title_is_the_last_resort() -> None:
    doc = SourceDocument("x.md", "markdown", ["no dates here"], False, title="Reform (2017) Getting into shape")
    assert recover_metadata(doc)[1] == "2017"


def test_components_run_on_a_plain_blank_english_doc() -> None:
    from nlp.pipeline import build_pipeline

    nlp = build_pipeline(use_parser=False, barriers=False)
    assert nlp.pipe_names == ["refrain_sentences", "refrain_funding", "refrain_responses", "refrain_recommendations"]
    doc = nlp("Conclusion\n\nThe Department should publish a plan by 2020. The fund cost £5.3bn in 2016-17.")
    [money] = doc.spans["refrain_funding"]
    assert money.text == "£5.3bn" and money._.refrain_funding.period == "2016/17"
    [rec] = doc.spans["refrain_recommendations"]
    assert rec._.refrain_recommendation.actor == "The Department"
    assert [s.text for s in doc.sents][1] == "The Department should publish a plan by 2020."


@pytest.mark.parametrize(
    "doc, title, published",
    [
        (SourceDocument("x.md", "markdown", ["**FIT FOR **\n\n**THE FUTURE**\n\n10 Year Health Plan\n\nJuly 2025\n\n"
                                             "# Document Outline\n" + "Body text. " * 400], False,
                        title="Document Outline"), "FIT FOR THE FUTURE", "2025-07"),
        (SourceDocument("x.md", "markdown", ["Research Briefing\n\n23 July 2025\n\nNHS productivity\n\n"
                                             "By Dr A Author\n\nSummary\n" + "Text. " * 50
                                             + "First published: 12 September 2024. " + "More. " * 2000], False),
         "NHS productivity", "2025-07-23"),
        (SourceDocument("x.pdf", "pdf", ["UK Government\nResponse to the Covid-19\nInquiry Module 1 Report\nCP1240",
                                         "Presented to Parliament by Command\nJanuary 2025\n16 January 2025"], True,
                        title="20241216- Government Response- FINAL (Standard Print)"),
         "UK Government Response to the Covid-19 Inquiry Module 1 Report", "2025-01-16"),
        (SourceDocument("x.md", "markdown", ["**Getting into shape:**\n**Delivering a workforce **\n"
                                             "**for integrated care**\nKate Laycock\nBen Dobson\n\nSeptember 2017\n"],
                        False, title="Introduction"),
         "Getting into shape: Delivering a workforce for integrated care", "2017-09"),
        # A journal's margin text woven into the cover's lines by PDF conversion; the title runs
        # on past 'in the' even though its last line looks like a label ('NHS: …').
        (SourceDocument("x.md", "markdown", ["**Open access **\n\n**Original research**\n\n"
                                             "**Barriers to sharing records between **\n\n**councils and general "
                                             "practices BMJ Open: first published as** **across integrated care "
                                             "systems in the **\n\n**NHS: a qualitative study**\n\n**Protected by "
                                             "copyright. **\n\nA Author, B Author\n\n**To cite: **Author A\n"], False),
         "Barriers to sharing records between councils and general practices across integrated care systems in "
         "the NHS: a qualitative study", None),
        # R Markdown read as text: section headings, then the document's first sentence about
        # itself — no title to recover, so none is made up (the file's name stands).
        (SourceDocument("x.md", "markdown", ["Introduction\n\nOverview\n\nThis document gives an overview of "
                                             "the Integrated Care System\nMetrics, a collection of measures.\n"], False),
         None, None),
    ],
)
def test_titles_that_are_not_titles_are_recovered_from_the_cover(doc: SourceDocument, title: str,
                                                                 published: str) -> None:
    assert recover_metadata(doc) == (title, published)


def _quoted_barrier(page: str, opening: str):
    """The barrier a one-page committee report's reader would quote, found by its opening words."""
    barriers = extract(SourceDocument("report.pdf", "pdf", [page], True)).barriers
    quoted = [b for b in barriers if b.sentence.startswith(opening)]
    assert quoted, [b.sentence for b in barriers]
    return quoted[0]


def test_a_barrier_is_quoted_without_the_footnote_number_glued_to_its_full_stop() -> None:
    """Committee reports glue footnote numbers to full stops ('… was unclear.12 Councils …'),
    and spaCy keeps 'unclear.12' as one token: a journalist quoting the barrier must get the
    sentence, not the reference mark, and the sentence must still point at its page."""
    quoted = _quoted_barrier(
        "Local partners told us about the obstacles they faced.\n"
        "Councils and hospitals were unable to share care records because the legal basis for "
        "sharing was unclear to their staff.12 Several areas gave up on joint teams as a result.\n"
        "12 Written evidence from the Local Government Association (ABC0012).", "Councils and hospitals")
    assert quoted.sentence.endswith("unclear to their staff.") and quoted.page == 1


def test_a_barrier_is_quoted_without_footnote_numbers_glued_inside_it() -> None:
    """Inquiry and committee reports put footnote numbers mid-sentence too, after a comma or a
    semicolon ('… the legal basis;14 and …'): the quote must read as the sentence does."""
    quoted = _quoted_barrier(
        "Local partners told us about the obstacles they faced.\n"
        "Councils and hospitals were unable to share care records, because the legal basis was unclear;14 "
        "staff were also afraid of breaching confidentiality,15 and no national body took the lead.\n"
        "In 2019,12 councils reported the same problem.\n", "Councils and hospitals")
    assert quoted.sentence == ("Councils and hospitals were unable to share care records, because the legal "
                               "basis was unclear; staff were also afraid of breaching confidentiality, and no "
                               "national body took the lead.")
    assert quoted.page == 1

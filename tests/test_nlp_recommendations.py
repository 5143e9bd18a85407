"""Formal recommendations: shapes that count, 'should's that do not, labels and deadlines."""
from __future__ import annotations

import pytest

from nlp.layout import build_layout
from nlp.models import SourceDocument
from nlp.recommendations import deadline_for, find_recommendations, is_directive, load_recommendation_patterns
from nlp.segment import sentence_spans

PATTERNS = load_recommendation_patterns()


def recs(*pages: str, paged: bool = True):
    doc = SourceDocument("r.pdf" if paged else "r.md", "pdf" if paged else "markdown", list(pages), paged)
    layout = build_layout(doc)
    return find_recommendations(layout, sentence_spans(layout), PATTERNS)


def test_labelled_recommendations_with_titles_and_bullets() -> None:
    found = recs(
        "Recommendation 1: A simpler structure for emergency\npreparedness\n"
        "The governments of the UK and Wales should each simplify the\nstructures they run.\n"
        "This should be put in place within 12 months of the publication of this Report.\n"
        "Recommendation 2: Leadership\nThe UK government should:\n"
        "• abolish the lead department model; and\n• require the Cabinet Office to lead.\n"
        "2.99. When the pandemic began, the Prime Minister took the lead.",
    )
    assert [r.label for r in found] == ["1", "2"]
    assert "simplify the structures" in found[0].text
    assert found[0].deadline == "within 12 months of the publication of this Report"
    assert "require the Cabinet Office to lead" in found[1].text
    assert "Prime Minister" not in found[1].text


def test_nao_style_lettered_items_in_a_recommendations_section_across_pages() -> None:
    found = recs(
        "Recommendations\n24 The Departments should set out how integration will be\nmeasured:\n"
        "a The Department of Health should publish an evaluation of the Better Care\n",
        "Fund by July 2017; and\nb NHS England and the Department should agree a plan for\n"
        "sharing records.\nPart One\nThe Better Care Fund was set up in 2013.",
    )
    labels = [r.label for r in found]
    assert "a" in labels and "b" in labels
    a = next(r for r in found if r.label == "a")
    assert "Better Care Fund by July 2017" in a.text
    assert a.deadline == "by July 2017"


def test_pac_recommendation_paragraphs() -> None:
    found = recs(
        "Conclusions and recommendations\n"
        "1. The Department has no compelling evidence that integration saves money.\n"
        "Recommendation: The Department should, by March 2018, publish how it will evaluate\n"
        "integration.\n"
        "2. Local bodies find the rules on sharing information confusing.\n"
        "Recommendation: The Department should write to local bodies to explain the rules.\n",
    )
    assert [r.label for r in found] == ["1", "2"]
    assert found[0].deadline == "by March 2018"


def test_lead_in_list_with_subjunctive_items() -> None:
    found = recs(
        "Accordingly, I recommend:\n2. Recognising what happened\n"
        "(a) A permanent memorial be established in the UK.\n"
        "(b) There should be at least three events, six months apart.\n"
        "(c) The Inquiry website is maintained online.\n"
        "3. Learning from the Inquiry\nThe previous chapter draws attention to lessons.",
    )
    assert [r.label for r in found] == ["2a", "2b", "2c"]


def test_first_person_prose_counts_and_reported_prose_does_not_in_long_documents() -> None:
    body = " ".join(["The service has grown steadily over the decade."] * 400)
    found = recs(body + " We recommend that the Department sets up a single fund for prevention.", paged=False)
    assert [r.source for r in found] == ["first_person"]


@pytest.mark.parametrize(
    "sentence, directive",
    [
        ("The Department should publish its evaluation.", True),
        ("NHS England must set out a workforce plan.", True),
        ("A memorial be established at public expense.", True),
        ("Patients should expect to be seen within two weeks.", False),
        ("The Department should have acted sooner.", False),
        ("It should be noted that the figures are provisional.", False),
        ("What should the NHS do next?", False),
    ],
)
def test_is_directive(sentence: str, directive: bool) -> None:
    assert is_directive(sentence, PATTERNS) is directive


def test_descriptive_should_in_a_document_without_recommendations_is_not_one() -> None:
    found = recs("Patients should expect joined-up care. Staff should feel supported by their employers.",
                 paged=False)
    assert found == []


def test_department_should_sentences_are_recommendations_when_nothing_formal_exists() -> None:
    found = recs("Conclusion\nThe integration programme has not delivered.\n"
                 "The Department should set out a realistic plan for integration by 2020.\n")
    assert len(found) == 1 and found[0].source == "directive"
    assert found[0].deadline == "by 2020"


def test_reported_recommendations_only_in_short_news_texts() -> None:
    text = "The NAO reiterates its call that there is a need for robust evidence on integration."
    assert [r.source for r in recs(text, paged=False)] == ["reported"]


@pytest.mark.parametrize(
    "text, deadline",
    [
        ("The Department should report by July 2017.", "by July 2017"),
        ("It should be set up within six months of the publication of this Report.",
         "within six months of the publication of this Report"),
        ("Before the end of 2027 there should be an audit.", "Before the end of 2027"),
        ("The Department should report regularly.", None),
    ],
)
def test_deadline_for(text: str, deadline: str | None) -> None:
    assert deadline_for(text, PATTERNS) == deadline

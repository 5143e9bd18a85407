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
        # an urging without a date is the deadline when there is no date
        ("The Government should publish the guidance at the earliest opportunity.", "at the earliest opportunity"),
        ("Pilots should be set up as soon as possible in three regions.", "as soon as possible"),
        ("The review should start without delay and report by March 2027.", "by March 2027"),
    ],
)
def test_deadline_for(text: str, deadline: str | None) -> None:
    assert deadline_for(text, PATTERNS) == deadline


def test_nao_lettered_recommendations_after_a_recommendations_heading() -> None:
    found = recs(
        "Conclusion on value for money\n12 ICSs face a high risk of being unable to meet the hopes placed on them.\n"
        "Recommendations\n"
        "a DHSC and NHS England should clarify accountability arrangements for integrated care systems\n"
        "and reduce duplicative oversight by national bodies and regulators.\n"
        "b DHSC and NHS England should publish a long-term workforce strategy for health and social\n"
        "care together, setting out how integrated care systems will tackle staff shortages and vacancies.\n"
        "c DHSC and HM Treasury should provide a sustainable, multi-year funding settlement for adult\n"
        "social care, so that local systems are not reliant on short-term, one-off grants.\n",
    )
    assert [r.label for r in found] == ["a", "b", "c"]
    assert found[0].text.startswith("DHSC and NHS England should clarify")


def test_a_chapter_title_page_ends_the_recommendation_before_it() -> None:
    found = recs(
        "Recommendation 3: A better approach to risk assessment\n"
        "The UK government and devolved administrations should work together on a new approach that\n"
        "reflects the circumstances and characteristics particular to England, Wales, Scotland and the UK as a whole.\n",
        "Chapter 4:\nAn effective strategy\n4.1. The strategy was written in 2011 and never revised by anyone.\n",
    )
    [rec] = found
    assert rec.text.endswith("the UK as a whole.") and "Chapter" not in rec.text


def test_the_list_of_recommendations_in_an_appendix_is_not_a_second_copy() -> None:
    body = ("Recommendation 1: Simpler structures\nThe governments of the UK should each simplify the number of\n"
            "structures with responsibility for preparing for whole-system civil emergencies.\n"
            "2.99. When the pandemic began, the Prime Minister took the lead in practice.\n")
    appendix = ("Appendix 4: List of recommendations made in this Report\n"
                "Recommendation 1: Simpler structures\nThe governments of the UK should each simplify the number of\n"
                "structures with responsibility for preparing for whole-system civil emergencies.\n"
                "978-1-5286-4936-0 E03069239\n")
    found = recs(body, "Part Two\nOther matters were also considered at length by the Inquiry.\n", appendix)
    assert [(r.label, r.text.count("simplify")) for r in found] == [("1", 1)]
    assert "978" not in found[0].text


def test_recommendation_paragraphs_after_numbered_conclusions_take_their_number() -> None:
    found = recs(
        "Conclusions and recommendations\n"
        "1. The Department cannot yet say what benefits ICSs will bring for patients.\n"
        "We recommend that the Department and NHS England develop robust evidence on what works.\n"
        "2. Accountability within the new system is confused.\n"
        "The Department and NHS England should set out clear accountability arrangements by the end of 2023.\n"
        "1 Setting up integrated care systems\n"
        "1. On the basis of a report by the Comptroller, we took evidence from the Department.\n"
        "4. ICSs must make £5.7 billion of savings in 2022-23, equivalent to around 5% of their budgets.\n",
    )
    assert [r.label for r in found] == ["1", "2"]
    assert found[1].deadline == "by the end of 2023"


@pytest.mark.parametrize(
    "sentence, actor",
    [
        ("We recommend that HM Treasury and the Department agree a long-term funding settlement.",
         "HM Treasury and the Department"),
        ("We recommend that the Department publish, within six months, a fully funded strategy.", "the Department"),
        ("The Inquiry recommends that the Secretary of State be made a standing member.", None),
        # a list of what the body should do follows a colon
        ("To this end, we recommend that the Government: • publish guidance for councils;", "the Government"),
    ],
)
def test_named_actor_of_recommend_that(sentence: str, actor: str | None) -> None:
    from nlp.recommendations import named_actor

    assert named_actor(sentence) == actor


def test_a_recommendation_is_cited_on_the_page_where_it_recommends(tmp_path) -> None:
    """A committee's closing list: paragraph 7.4 opens at the foot of one page with a reason
    and an urging, and the recommendation itself ('we recommend that the Department should
    publish …') is printed on the next page, where a reader cites it. Paragraph 7.5, which
    recommends in its first words, is cited where it opens even though it runs over a page."""
    from demosite.site import PAGE_BREAK, render_pdf
    from nlp.extract import extract
    from nlp.pipeline import build_pipeline
    from nlp.text import load_document

    page1 = ("Conclusions and recommendations\n\n"
             "7.3. We recommend that the Department should set out its plans for community "
             "diagnostic centres within six months.\n\n"
             "7.4. Given that the framework has not been applied evenly across the regional pilots, "
             "we urge the Department, above all, to make sure that it is followed when agreeing")
    page2 = ("future pilots. For the pilots now running, we recommend that the Department should publish "
             "what each pilot is expected to achieve and by when (paragraph 4.12).\n\n"
             "7.5. We recommend that NHS England should publish the evaluation of the virtual ward")
    page3 = ("programme in full, with its costs (paragraph 4.20).\n\n"
             "7.6. We recommend that the Government should review the scheme by 2027.")
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf("title: Community diagnostics\n---\n" + f"\n{PAGE_BREAK}\n".join(
        [page1, page2, page3])))
    from nlp.extract import _stated_at
    text = "8.3. The Department should publish its plan. We recommend that it also reports each year."
    assert _stated_at(text, 0, len(text)) == 0  # its label's full stop is not the end of its first sentence
    recs = {r.label: r.page for r in extract(load_document(path),
                                             nlp=build_pipeline(barriers=False, use_parser=False)).recommendations}
    assert recs == {"7.3": 1, "7.4": 2, "7.5": 2, "7.6": 3}


@pytest.mark.parametrize(
    "sentence, actor",
    [
        # a Lords closing list urges more often than it recommends: who is urged acts
        ("Given that the framework has not been applied evenly, we urge the Department for Education, "
         "in particular, to make sure that it is followed in future pilots.", "the Department for Education"),
        ("We therefore urge ministers to ask their chief scientific advisers before they decide.", "ministers"),
        ("If the Government mean to keep relying on voluntary deals with retailers, we urge them to set "
         "targets that can be measured.", "the Government"),
        ("We encourage integrated care boards to publish their plans.", "integrated care boards"),
        ("We recommend that the Government should review the scheme.", "the Government"),
        # the body, without the list or the aside that follows it
        ("We recommend that the Government (a) set targets for fewer car journeys and (b) publish them.",
         "the Government"),
        ("Regional directors of public health, whether or not they trained in the behavioural sciences, should "
         "take advice from specialists.", "Regional directors of public health"),
        # a passive names no one, but a later ask in the sentence may
        ("There should be two regional events a year, the timing of which should be decided by a panel of "
         "patients.", "a panel of patients"),
        ("Training places should be uncapped.", None),
    ],
)
def test_the_actor_of_a_recommendation_that_urges(sentence: str, actor: str | None) -> None:
    from nlp.parse import actor_from_doc, parse

    assert actor_from_doc(next(iter(parse([sentence])))) == actor

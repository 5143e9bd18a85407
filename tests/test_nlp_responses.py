"""Government responses: stance, the recommendation answered, and target dates."""
from __future__ import annotations

import pytest

from nlp.layout import build_layout
from nlp.models import SourceDocument
from nlp.responses import find_responses, load_response_patterns, stance_of
from nlp.segment import sentence_spans

PATTERNS = load_response_patterns()


def responses(*pages: str):
    doc = SourceDocument("r.pdf", "pdf", list(pages), True)
    layout = build_layout(doc)
    return find_responses(layout, sentence_spans(layout), PATTERNS)


@pytest.mark.parametrize(
    "sentence, stance",
    [
        ("1.1 The government agrees with the Committee’s recommendation.", "accepted"),
        ("The government accepts this recommendation in full.", "accepted"),
        ("This recommendation is accepted in principle by the UK Government.", "accepted_in_principle"),
        ("The government partially agrees with the Committee’s recommendation.", "partially_accepted"),
        ("The government disagrees with the Committee’s recommendation.", "rejected"),
        ("The government does not accept this recommendation.", "rejected"),
        ("These recommendations are not accepted.", "rejected"),
        ("The Department notes the Committee’s recommendation.", "noted"),
        ("The Scottish Government accepts this recommendation in full, and the Welsh Government accepts "
         "it in principle.", "accepted"),
        ("The government welcomes the Chair's findings.", None),
        ("In 2019 the Department published its plan.", None),
    ],
)
def test_stance_of(sentence: str, stance: str | None) -> None:
    assert stance_of(sentence, PATTERNS) == stance


def test_treasury_minutes_responses_link_to_the_recommendation_number() -> None:
    found = responses(
        "Treasury Minutes\nGovernment response to the Committee of Public Accounts\n"
        "1: PAC conclusion: The Department does not know whether integration saves money.\n"
        "1: PAC recommendation: The Department should publish an evaluation plan.\n"
        "1.1 The government agrees with the Committee’s recommendation.\n"
        "1.2 The Department will publish its plan in the spring.\n"
        "Target implementation date: Spring 2018\n",
        "2: PAC conclusion: Local bodies find the rules confusing.\n"
        "2: PAC recommendation: The Department should write to local bodies.\n"
        "2.1 The government disagrees with the Committee’s recommendation.\n"
        "2.2 The rules are already clear.\n",
    )
    assert [(r.responds_to, r.stance) for r in found] == [("1", "accepted"), ("2", "rejected")]
    assert found[0].target_date == "Spring 2018"


def test_inquiry_response_with_restated_sub_recommendations() -> None:
    found = responses(
        "Government response to the Inquiry\n"
        "Recommendation 1: Simpler structures\n"
        "The governments of the UK should each simplify their structures.\n"
        "The government agrees that clear governance is needed.\n"
        "We will review the structures.\n"
        "2) Recognising what happened\n"
        "2a. A permanent memorial be established in the UK.\n"
        "2b. There should be at least three events.\n"
        "This recommendation is accepted in full by the UK Government.\n"
        "The UK Government accepts this recommendation in full.\n",
    )
    assert [(r.responds_to, r.stance) for r in found] == [("1", "accepted"), ("2a, 2b", "accepted")]


def test_a_report_that_is_not_a_response_has_no_responses() -> None:
    assert responses("Recommendation 1: The Department should agree a plan.\nWe agree this is hard.") == []


def test_one_answer_per_recommendation_and_implemented_counts_as_accepted() -> None:
    found = responses(
        "Treasury Minutes\nGovernment response to the Committee of Public Accounts\n"
        "2: PAC recommendation: The Department should clarify the rules on sharing data.\n"
        "2.1 The government has already implemented this recommendation.\n"
        "2.2 The rules were published in 2015.\n"
        "2.3 Target implementation date: implemented.\n"
        "3: PAC recommendation: The Department should align the financial incentives.\n"
        "3.1 The government partially agrees with the Committee’s recommendation.\n"
        "3.2 The Department will review incentives. However, the government does not agree that the tariff\n"
        "should be reformed.\n"
        "3.3 Target implementation date: April 2018.\n",
    )
    assert [(r.responds_to, r.stance, r.target_date) for r in found] == [
        ("2", "accepted", None), ("3", "partially_accepted", "April 2018")]


def test_does_not_however_accept_is_a_rejection() -> None:
    assert stance_of("The government does not, however, accept that partnerships need new duties.", PATTERNS) \
        == "rejected"


def test_subjunctive_inquiry_recommendations_are_restatements() -> None:
    found = responses(
        "Government response to the Inquiry\n"
        "4b. That a culture of defensiveness be addressed by making leaders accountable.\n"
        "These recommendations are accepted in principle by the UK Government and the Welsh Government.\n"
        "4c) i. That external regulation of safety in healthcare be simplified.\n"
        "4c) ii. Steps be taken to support safety management systems.\n"
        "These recommendations are accepted in full by the UK Government.\n"
        "The UK Government agrees that regulation matters and will act.\n"
        "This recommendation is accepted in principle by the Northern Ireland Executive.\n",
    )
    assert [(r.responds_to, r.stance) for r in found] == [
        ("4b", "accepted_in_principle"), ("4c(i), 4c(ii)", "accepted"), ("4c(i), 4c(ii)", "accepted_in_principle")]


def test_a_body_other_than_the_government_answers_and_is_recorded_as_the_responder() -> None:
    found = responses(
        "Government response to the Inquiry\n"
        "Recommendation 5: Training for officers\n"
        "Every police force should train its officers to recognise coercive control.\n"
        "The College of Policing accepts this recommendation on behalf of all forces.\n"
        "Recommendation 6: Insurance\n"
        "Insurers should offer cover to small firms at fair prices.\n"
        "This recommendation is not for the UK government to respond to.\n"
        "Recommendation 7: Data\n"
        "The Home Office should publish data on arrests each year.\n"
        "The government accepts this recommendation.\n",
    )
    assert [(r.responds_to, r.stance, r.responder) for r in found] == [
        ("5", "accepted", "College of Policing"), ("6", "other", None), ("7", "accepted", None)]


def test_an_answer_is_split_by_ask_only_when_it_answers_the_asks_in_turn() -> None:
    """A quoted paragraph asking two things, answered one paragraph per ask, gives one part per
    ask; an answer that comes back to the first ask after the second (each nation answering
    the whole recommendation) stays one answer."""
    from nlp.quoted_responses import Exchange, Sent, _answered_in_turn

    quote = ("4. We recommend that the Department publish an audit of shared care records in every region "
             "by 2027. We further recommend that councils train reablement staff to use the records.")

    def answer(*paragraphs: str) -> Exchange:
        return Exchange(["4"], [quote], [[Sent(0, len(p), p)] for p in paragraphs])

    in_turn = _answered_in_turn(answer(
        "The Department will publish an audit of shared care records for each region in 2027.",
        "It will be carried out by the regional teams.",
        "Councils are responsible for training reablement staff, and several already do so."))
    assert [[p[0].text[:20] for p in part] for part in in_turn] == [
        ["The Department will ", "It will be carried o"], ["Councils are respons"]]
    assert _answered_in_turn(answer(
        "Councils are responsible for training reablement staff.",
        "The Scottish Government will publish an audit of shared care records for each region by 2027.")) is None
    assert _answered_in_turn(answer("The Government accepts this recommendation.", "Work is under way.")) is None

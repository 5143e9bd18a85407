"""What happened to a recommendation, told from the evidence: a response's stance, a target date
that passed, the same point made again, a progress report saying it is done."""
from datetime import date

import pytest

from kb.analysis.actors import Actors
from kb.analysis.status import derive, implementation_of, target_deadline

PAC = {"id": "r1", "doc_id": "pac-2017", "published": "2017-04-27"}


def response(published, stance, target=None, text="The government agrees with the Committee's recommendation.",
             rid=1, implementation=None):
    return {"id": rid, "doc_id": f"tm-{published}", "title": f"Treasury Minutes {published}", "published": published,
            "stance": stance, "target_date": target, "text": text, "page": 3, "implementation": implementation}


def repeat(published, rid="r2"):
    return {"id": rid, "doc_id": f"report-{published}", "title": "A later report", "published": published, "page": 5,
            "text": "The Department should develop a joint workforce strategy for health and social care."}


def statuses(history):
    return [e.status for e in history]


@pytest.mark.parametrize("text, end", [
    ("April 2018", date(2018, 4, 30)), ("December 2017", date(2017, 12, 31)),
    ("summer 2023", date(2023, 8, 31)), ("spring 2024", date(2024, 5, 31)), ("Winter 2019", date(2020, 2, 28)),
    ("March 2024 for interim findings", date(2024, 3, 31)), ("2020/21", date(2021, 3, 31)),
    ("the end of 2023", date(2023, 12, 31)), ("implemented", None), ("not applicable", None), (None, None),
])
def test_a_target_date_allows_until_the_end_of_the_period_it_names(text, end):
    assert target_deadline(text) == end


def test_a_recommendation_nobody_answered_is_open_and_cites_nothing():
    history = derive(PAC, [], [], date(2024, 1, 1))
    assert statuses(history) == ["open"] and history[-1].evidence is None


def test_accepted_with_a_target_date_not_yet_reached_stays_accepted():
    history = derive(PAC, [response("2017-07-13", "accepted", "April 2018")], [], date(2018, 1, 1))
    assert statuses(history) == ["open", "accepted"]
    ev = history[-1].evidence
    assert (ev.doc_id, ev.page, ev.date) == ("tm-2017-07-13", 3, "2017-07-13") and "agrees" in ev.sentence


def test_the_target_date_passes_with_no_evidence_of_implementation():
    history = derive(PAC, [response("2017-07-13", "accepted", "April 2018")], [], date(2019, 1, 1))
    assert statuses(history) == ["open", "accepted", "overdue"]
    assert history[-1].date == "2018-04-30" and history[-1].evidence.date == "2017-07-13"


def test_accepted_then_recommended_again_is_the_signal():
    history = derive(PAC, [response("2017-07-13", "accepted", "December 2017")], [repeat("2018-10-19")],
                     date(2024, 1, 1))
    assert statuses(history) == ["open", "accepted", "overdue", "repeated_after_acceptance"]
    assert history[-1].evidence.doc_id == "report-2018-10-19" and history[-1].evidence.anchor == "rec-r2"


def test_a_rejected_recommendation_made_again_is_not_a_repeat_after_acceptance():
    history = derive(PAC, [response("2017-07-13", "rejected", text="The government disagrees.")],
                     [repeat("2018-10-19")], date(2024, 1, 1))
    assert statuses(history) == ["open", "rejected"]


def test_a_progress_report_closes_it_and_nothing_after_reopens_it():
    responses = [response("2017-07-13", "accepted", "April 2018"),
                 response("2019-07-11", "accepted", text="The government has implemented this recommendation.", rid=2)]
    history = derive(PAC, responses, [repeat("2022-10-12")], date(2024, 1, 1))
    assert statuses(history) == ["open", "accepted", "overdue", "accepted", "implemented"]
    assert history[-1].evidence.anchor == "response-2"


def test_superseded_and_noted_come_from_the_words_of_the_progress_report():
    superseded = response("2019-07-11", "accepted", rid=2,
                          text="The government agrees with the Committee's recommendation, which has been superseded "
                               "by the NHS Long Term Plan.")
    assert statuses(derive(PAC, [response("2017-07-13", "accepted"), superseded], [], date(2024, 1, 1)))[-1] == "superseded"
    noted = response("2019-07-11", "noted", text="The government notes the Committee's recommendation.")
    assert statuses(derive(PAC, [noted], [], date(2024, 1, 1))) == ["open", "noted"]


@pytest.mark.parametrize("resp, value", [
    ({"text": "The government has already implemented this recommendation."}, "implemented"),
    ({"text": "Recommendation implemented."}, "implemented"),
    ({"text": "The government agrees.", "target_date": "implemented"}, "implemented"),
    ({"text": "This recommendation has been superseded by the Long Term Plan."}, "superseded"),
    ({"text": "The government agrees.", "implementation": "in_progress"}, "in_progress"),
    ({"text": "The government agrees with the Committee's recommendation."}, None),
])
def test_implementation_is_the_extractors_field_or_the_responses_words(resp, value):
    assert implementation_of(resp) == value


@pytest.mark.parametrize("subject, ids", [
    ("The Department of Health & Social Care and NHS England", ["dhsc", "nhs-england"]),
    ("The Department, DCLG and NHS England", ["dhsc", "mhclg", "nhs-england"]),
    ("DHSC and HM Treasury", ["dhsc", "hm-treasury"]),
    ("NHSE and local authorities", ["nhs-england", "local-authorities"]),
    ("Integrated care boards", ["icbs"]),
    ("The College of Policing", ["college-of-policing"]),
])
def test_one_body_under_its_many_names_is_one_actor(subject, ids):
    assert Actors().find(subject, "") == ids


def test_the_department_keeps_its_name_of_the_day():
    dhsc = Actors().get("dhsc")
    assert dhsc.name_at("2017-04-27") == "Department of Health"
    assert dhsc.name_at("2023-02-01") == "Department of Health and Social Care"


def test_the_actor_is_read_from_the_text_when_the_subject_names_none():
    assert Actors().find("The government", "HM Treasury should agree a funding settlement.") == ["government"]
    assert Actors().find(None, "We recommend that NHS England publish its plan.") == ["nhs-england"]


def test_users_extend_the_aliases_with_a_file_in_their_knowledge_base(tmp_path):
    extra = tmp_path / "actors.json"
    extra.write_text('{"actors": [{"id": "dhsc", "aliases": ["the health department"]},'
                     ' {"id": "nice", "name": "NICE", "aliases": ["National Institute for Health and Care Excellence"]}]}')
    actors = Actors(extra)
    assert actors.find("The health department and the National Institute for Health and Care Excellence", "") == [
        "dhsc", "nice"]
    assert actors.find("DHSC", "") == ["dhsc"], "the shipped aliases still apply"


def test_one_answer_to_several_recommendations_counts_for_each(tmp_path):
    """The knowledge base records every recommendation a response answers (``response_links``:
    'The government agrees with recommendations 8.12 and 8.13'): each gets it."""
    from kb.analysis.status import recommendation_statuses
    from kb.store.db import Store

    store = Store(tmp_path / "kb.sqlite")
    with store.transaction() as c:
        for doc, published in (("report", "2020-03-01"), ("reply", "2020-06-01")):
            c.execute("INSERT INTO documents(id, sha256, url, source, title, published, ingested_at) "
                      "VALUES (?, ?, ?, 'local', ?, ?, '2024-01-01')", (doc, doc, f"file:///{doc}", doc, published))
        for n in (12, 13):
            c.execute("INSERT INTO recommendations(id, doc_id, seq, label, text) VALUES (?, 'report', ?, ?, ?)",
                      (f"r{n}", n, f"8.{n}", f"NHS England should do thing {n}."))
        c.execute("INSERT INTO responses(id, doc_id, responds_to, stance, text, recommendation_id) VALUES "
                  "(1, 'reply', '8.12, 8.13', 'accepted', 'The government agrees with both.', 'r12')")
        c.executemany("INSERT INTO response_links(response_id, recommendation_id, link_method) VALUES (1, ?, 'label')",
                      [("r12",), ("r13",)])
    found = {s.recommendation_id: s for s in recommendation_statuses(store, Actors(), date(2021, 1, 1))}
    assert found["r12"].status == found["r13"].status == "accepted"
    assert found["r13"].evidence.anchor == "response-1" and found["r13"].actor == "nhs-england"

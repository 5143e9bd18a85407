"""On the demo corpus, a team sees what became of the PAC's 2017 recommendations on integrating
health and social care: accepted in the July 2017 Treasury Minutes with target dates, dates that
passed, points made again in later reports, and the July 2019 progress report that marks one
implemented, one superseded and notes another; and the 2023 recommendations' answers.

Judged as of 1 December 2023 (``--today``), so every status occurs at least once.
"""
import pytest

from conftest import kb_json
from kb.analysis.status import STATUSES

pytestmark = pytest.mark.slow
TODAY = "2023-12-01"


@pytest.fixture(scope="module")
def statuses(demo_home):
    return kb_json(demo_home, "status", "--today", TODAY)


def pac(statuses, published, label):
    return next(s for s in statuses if s["published"] == published and s["label"] == label)


def trail(s):
    return [(h["status"], h["date"]) for h in s["history"]]


def test_every_status_occurs_and_every_status_but_open_cites_its_evidence(statuses):
    assert {s["status"] for s in statuses} == set(STATUSES)
    for s in statuses:
        assert (s["evidence"] is None) == (s["status"] == "open"), s
        if s["evidence"]:
            assert s["evidence"]["doc_id"] and s["evidence"]["sentence"] and s["evidence"]["date"]


def test_the_workforce_strategy_was_accepted_then_recommended_again(statuses):
    workforce = pac(statuses, "2017-04-27", "4")
    assert trail(workforce) == [("open", "2017-04-27"), ("accepted", "2017-07-13"), ("overdue", "2017-12-31"),
                                ("repeated_after_acceptance", "2018-07-04")]
    assert workforce["status"] == "repeated_after_acceptance" and workforce["actor"] == "dhsc"
    assert "workforce" in workforce["evidence"]["sentence"]


def test_the_progress_report_says_what_was_implemented_superseded_and_noted(statuses):
    data = pac(statuses, "2017-04-27", "2")
    assert data["status"] == "implemented" and data["evidence"]["date"] == "2017-07-13"
    incentives = pac(statuses, "2017-04-27", "3")
    assert incentives["status"] == "implemented" and incentives["evidence"]["date"] == "2019-07-11"
    assert "partially_accepted" in [h["status"] for h in incentives["history"]]
    stp = pac(statuses, "2017-04-27", "6")
    assert stp["status"] == "superseded" and "superseded" in stp["evidence"]["sentence"]
    funding = pac(statuses, "2017-04-27", "5")
    assert [h["status"] for h in funding["history"]] == ["open", "rejected", "noted"]
    evaluation = pac(statuses, "2017-04-27", "1")
    assert evaluation["status"] == "overdue" and evaluation["history"][-1]["date"] == "2020-03-31"


def test_the_2023_answers_stand_until_their_target_dates(statuses):
    assert pac(statuses, "2023-02-01", "1")["status"] == "accepted"
    assert pac(statuses, "2023-02-01", "2")["status"] == "partially_accepted"
    assert pac(statuses, "2023-02-01", "3")["status"] == "overdue"
    assert pac(statuses, "2023-02-01", "4")["status"] == "implemented"
    assert pac(statuses, "2023-02-01", "5")["status"] == "rejected"
    assert pac(statuses, "2023-02-01", "6")["status"] == "accepted_in_principle"


def test_the_department_is_one_actor_across_its_renaming(demo_home):
    rows = kb_json(demo_home, "status", "--actor", "dhsc", "--today", TODAY)
    years = {r["published"][:4] for r in rows}
    assert {"2014", "2017", "2018", "2022", "2023"} <= years
    assert all("dhsc" in r["actors"] for r in rows)

"""Evaluation: the matching rules on a tiny gold file, and floors on the dev gold."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.evaluate import evaluate, format_report, format_table
from nlp.models import Barrier, ExtractedDocument, Funding, Recommendation

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def test_matching_rules_on_a_small_gold(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.txt").write_text("Some text.\n")
    gold = {"documents": [{
        "doc": "seeds/a.txt", "exhaustive": ["funding", "recommendations", "barriers"],
        "funding": [
            {"anchor": "critical of the £5.3 billion Better Care Fund", "amount_gbp": 5.3e9, "kind": "allocation",
             "period": None, "subject": "Better Care Fund", "page": None},
            {"anchor": "spent £2 billion in 2016-17", "amount_gbp": 2e9, "kind": "spend", "period": "2016-17",
             "page": None},
        ],
        "recommendations": [{"anchor": "The Department should publish a plan", "page": None,
                             "other_mentions": [{"anchor": "we recommend a published plan", "page": None}]}],
        "barriers": [{"anchor": "poor information sharing is a barrier", "theme": "information_sharing",
                      "themes": ["information_sharing"], "page": None}],
        "borderline": {"barriers": [{"anchor": "the toolkit was called a tick box", "page": None}]},
    }]}
    path = tmp_path / "gold.json"
    path.write_text(json.dumps(gold))

    def fake_extract(_doc) -> ExtractedDocument:
        return ExtractedDocument("t", None, 1, barriers=[
            Barrier("information_sharing", "We found poor information sharing is a barrier here.", None, 0.9),
            Barrier("workforce", "Critics said the toolkit was called a tick box exercise.", None, 0.8),  # borderline
            Barrier("workforce", "Nurses are scarce.", None, 0.8),  # false positive
        ], recommendations=[
            Recommendation("The Department should publish a plan by 2020.", "The Department", "by 2020", None, None),
            Recommendation("So we recommend a published plan soon.", None, None, None, None),  # same item: neutral
        ], funding=[
            Funding(5.3e9, "£5.3 billion", "Better Care Fund", None, "allocation",
                    "The NAO was critical of the £5.3 billion Better Care Fund.", None),
            Funding(2e9, "£2 billion", None, "2016/17", "cost", "It spent £2 billion in 2016-17 on care.", None),
            Funding(3e9, "£3 billion", None, None, "spend", "It spent £2 billion in 2016-17 and £3 billion.", None),
        ])

    result = evaluate(path, tmp_path, extractor=fake_extract)
    totals = result["totals"]
    assert (totals["funding"]["tp"], totals["funding"]["fp"], totals["funding"]["fn"]) == (2, 1, 0)
    assert (totals["recommendations"]["tp"], totals["recommendations"]["fp"]) == (1, 0)
    assert totals["recommendations"]["neutral"] == 1
    assert (totals["barriers"]["tp"], totals["barriers"]["fp"], totals["barriers"]["neutral"]) == (1, 1, 1)
    assert result["attributes"]["funding_kind_accuracy"] == 0.5
    assert result["attributes"]["funding_period_accuracy"] == 1.0  # '2016/17' equals '2016-17'
    assert result["attributes"]["barrier_theme_accuracy"] == 1.0
    assert "funding" in format_table(result) and format_report is format_table


@pytest.mark.skipif(not (SHARED / "gold" / "dev.json").is_file(), reason=f"dev gold not found under {SHARED}")
def test_dev_gold_scores_stay_above_floors() -> None:
    result = evaluate(SHARED / "gold" / "dev.json", SHARED)
    totals = result["totals"]
    assert totals["funding"]["f1"] >= 0.93
    assert totals["recommendations"]["f1"] >= 0.9
    # the Lords report's government response: found, right stance, linked to the right recommendation
    assert result["responses_with_stance"]["f1"] >= 0.85
    assert result["lifecycle"]["rate"] >= 0.85
    assert "lifecycle:" in format_table(result) and "stance confusion" in format_table(result)
    # Barriers (trained classifier): the dev target is recall with an acceptable theme >= 0.75 at
    # precision >= 0.8 on the exhaustively labelled documents; best-effort documents lack labels
    # for many true barriers, so precision over all documents is not measured.
    assert result["barriers_themed"]["recall"] >= 0.6
    assert result["barriers_themed_exhaustive"]["recall"] >= 0.75
    assert result["barriers_themed_exhaustive"]["precision"] >= 0.8
    assert result["attributes"]["funding_kind_accuracy"] >= 0.9
    # issue 16: the subject says whose money and what for (0.396 → 0.611 measured; target 0.6)
    assert result["attributes"]["funding_subject_token_overlap"] >= 0.6
    # The Lords report (new in the dev gold) states periods its figures rarely carry in the
    # sentence; 0.763 measured, was 1.0 before that document was added.
    assert result["attributes"]["funding_period_accuracy"] >= 0.75
    assert result["attributes"]["barrier_theme_accuracy"] >= 0.8
    assert not result["skipped"]


def test_a_funding_subject_is_compared_loosely_by_word_stem_and_strictly_by_word() -> None:
    """The gold's subjects are free text: 'spent', 'spending' and 'spend' are one word to a
    reader, and so are 'doctor' and 'doctors'; the exact-word figure is kept beside it."""
    from nlp.evaluate import token_overlap

    assert token_overlap("NHS spending on agency doctors", "agency doctor spend", loose=True) == 1.0
    assert token_overlap("NHS spending on agency doctors", "agency doctor spend") == 1 / 3
    assert token_overlap("savings of the programme", "programme saved", loose=True) == 1.0
    assert token_overlap("Better Care Fund", "services", loose=True) == 0.0


def test_a_long_subject_pays_for_its_extra_words_in_the_two_sided_figure() -> None:
    """The headline overlap asks how much of the gold's description the subject holds; a
    subject that pads itself with the whole sentence would score well there, so the F1
    figure beside it counts the extra words against it."""
    from nlp.evaluate import token_f1, token_overlap

    gold = "council spending on placements"
    padded = "in 2018-19 councils spent money from social care budgets on placements in many schools"
    assert token_overlap(padded, gold, loose=True) == 1.0
    assert token_f1(padded, gold) < 0.5
    assert token_f1("councils spending on placements", gold) == 1.0
    assert token_f1(None, gold) == 0.0 and token_f1(None, None) == 1.0

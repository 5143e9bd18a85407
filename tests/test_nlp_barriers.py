"""Barrier detection: cue rules (no model) and theme classification with the real embedder."""
from __future__ import annotations

import json

import pytest

from nlp.barriers import Taxonomy, is_candidate, load_taxonomy
from nlp.extract import extract
from nlp.models import SourceDocument

TAXONOMY = load_taxonomy()


@pytest.mark.parametrize(
    "sentence, candidate",
    [
        ("Poor information sharing is one of the greatest barriers to integration.", True),
        ("Local bodies were unsure about the legal requirements around sharing information.", True),
        ("There is a shortage of nurses in community services.", True),
        ("The Board met on 5 December 2024 to discuss the paper.", False),  # no cue
        ("The Department should remove barriers to information sharing.", False),  # a recommendation
        ("The new model would help staff overcome these barriers.", False),  # solution talk
        ("Figure 3: Barriers to integration reported by areas", False),  # caption
        ("Barriers?", False),  # too short
    ],
)
def test_is_candidate(sentence: str, candidate: bool) -> None:
    assert is_candidate(sentence, TAXONOMY) is candidate


def test_themes_file_lists_the_knowledge_base_theme_ids() -> None:
    from kb.vocabulary import THEMES

    assert set(TAXONOMY.ids) == set(THEMES)


def test_users_can_extend_the_taxonomy_with_a_new_theme(tmp_path) -> None:
    from nlp.barriers import DATA_DIR

    data = json.loads((DATA_DIR / "themes.json").read_text())
    data["themes"].append({"id": "housing", "description": "Lack of suitable housing for people leaving hospital.",
                           "seeds": ["there is no suitable housing to discharge people to"],
                           "keywords": ["\\bhousing\\b"]})
    path = tmp_path / "themes.json"
    path.write_text(json.dumps(data))
    taxonomy = load_taxonomy(str(path))
    assert isinstance(taxonomy, Taxonomy) and "housing" in taxonomy.ids


ARTICLE = """Councils warn on integration

Poor information sharing between hospitals and councils remains the biggest barrier to joined-up care.
Many areas still run incompatible IT systems that cannot exchange records.
Misaligned financial incentives mean hospitals are paid for activity rather than prevention.
Trusts have struggled with deficits, and money meant for transformation was spent plugging gaps.
A shortage of nurses and care workers has left vacancies unfilled for months.
There is no compelling evidence that the programme has reduced emergency admissions.
Local bodies found the regulatory framework confusing and accountability unclear.
Emergency admissions and delayed discharges have risen sharply as demand grows.
The council opened a new library in the town centre last year.
"""

EXPECTED = {
    "Poor information sharing": "information_sharing",
    "incompatible IT systems": "digital_interoperability",
    "Misaligned financial incentives": "financial_incentives",
    "struggled with deficits": "funding_pressure",
    "shortage of nurses": "workforce",
    "no compelling evidence": "evidence_and_evaluation",
    "regulatory framework confusing": "governance_and_accountability",
    "delayed discharges have risen": "demand_and_capacity",
}


@pytest.fixture(scope="module")
def article_barriers():
    doc = SourceDocument("article.txt", "text", [ARTICLE], False)
    return extract(doc).barriers


@pytest.mark.parametrize("phrase, theme", sorted(EXPECTED.items()))
def test_barrier_sentences_get_their_theme(article_barriers, phrase: str, theme: str) -> None:
    [barrier] = [b for b in article_barriers if phrase in b.sentence]
    assert theme in barrier.themes
    assert 0.0 <= barrier.score <= 1.0 and barrier.page is None


def test_sentences_without_an_obstacle_are_not_barriers(article_barriers) -> None:
    assert not any("library" in b.sentence for b in article_barriers)


@pytest.mark.parametrize(
    "sentence",
    [
        "What factors contributed to reduced productivity? + Lower investment + Staff pay + Capital spending",
        "Patients or the public were not involved in the design of this research.",
        "Most employers now report no problems in recruitment.",
        "This paper focuses on the structural barriers to delivering integrated care.",
        "We will tackle the barriers that hold back joined-up care.",
        "24 The Kings Fund, NHS Productivity Challenge, May 2014 25 Black N, Declining productivity, Lancet 2012 "
        "26 Grice J, The myth of declining productivity, 2013",
    ],
)
def test_sentences_that_only_look_like_barriers(sentence: str) -> None:
    assert is_candidate(sentence, TAXONOMY) is False


@pytest.mark.parametrize(
    "sentence",
    [
        "“They found it difficult to track patients through different care settings.”",
        "There continues to be pressure from Covid (see https://www.england.nhs.uk/x), including higher costs.",
        "Population ageing means the service will need to deliver more care to patients with complex needs.",
    ],
)
def test_quotes_links_and_predictions_can_still_be_barriers(sentence: str) -> None:
    assert is_candidate(sentence, TAXONOMY) is True


def _skips(*lines: str) -> list[bool]:
    from nlp.barriers import skipped_blocks
    from nlp.layout import build_layout

    layout = build_layout(SourceDocument("x.md", "markdown", ["\n\n".join(lines)], False))
    return [flag for flag, b in zip(skipped_blocks(layout, TAXONOMY), layout.blocks)]


def test_a_back_matter_heading_skips_only_its_own_section() -> None:
    prose = ("Staff shortages remain the most common barrier to joined-up care, and most areas report that "
             "recruitment has become harder every year since the programme began in earnest.")
    flags = _skips("Acknowledgements", "We thank everyone who helped.", "Chapter one", prose)
    assert flags == [True, True, False, False]
    assert not any(_skips("Sources and subscriptions for MPs and staff", "We publish briefings.", "Summary", prose))


def test_action_bullets_of_a_plan_are_not_barriers() -> None:
    doc = SourceDocument("plan.md", "markdown", [
        "Our priorities\n\n• Address urgent recruitment and retention pressures in social care.\n\n"
        "• Reduce waiting times for mental health services for children.\n\n"
        "Support from the centre has been insufficient and staff shortages hamper recruitment.\n"], False)
    sentences = [b.sentence for b in extract(doc).barriers]
    assert not any(s.lstrip("• ").startswith(("Address", "Reduce")) for s in sentences)
    assert any(s.startswith("Support from the centre") for s in sentences)

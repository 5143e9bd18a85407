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
    from kb.config import THEMES

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

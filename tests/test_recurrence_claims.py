"""The same point in other words: a known claim said outright, notes and caveats that are not
points, and sentences that only make sense after the one before. Hand-made vectors; the
sentences are ours, written the way reports word these things."""
import numpy as np
import pytest

import kb.analysis.recurrence as recurrence
from kb.analysis.claims import is_clean
from kb.analysis.recurrence import Item, candidate_pairs, group_items


def unit(*xs):
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


# The workforce-shortage claim's plain meaning, as a direction both wordings lean towards.
MEANING = (["workforce_shortage"], np.stack([unit(1, 1, 0)]))


def test_a_shortage_said_in_two_unlike_wordings_is_one_point_when_both_say_it_outright():
    """A 2017 report and a 2023 briefing make one point with no word in common; MiniLM puts
    them far apart (cosine 0.35). Both match the claim's patterns and sit close to what the
    claim means, so they are one group; without the claim's meaning they are not."""
    items = [Item("a", "report2017", 2017, "Trusts told us they cannot recruit enough nurses, so wards run with vacancies."),
             Item("b", "briefing2023", 2023, "There are simply too few GPs for the patients who need them in many towns.")]
    vectors = np.stack([unit(1, 0, 0), unit(0.35, 0.937, 0)])
    [group] = group_items(items, vectors, threshold=0.68, meanings=MEANING)
    assert group.years == [2017, 2023]
    assert "workforce shortages" in group.key_phrases
    assert group_items(items, vectors, threshold=0.68) == []


def test_a_passing_mention_of_the_claims_words_is_not_the_claim():
    """"We recruited 400 extra staff" matches the words of the shortage claim but says
    something else: far from the claim's meaning, it does not join the shortage group."""
    items = [Item("a", "report2017", 2017, "Trusts told us they cannot recruit enough nurses, so wards run with vacancies."),
             Item("b", "briefing2023", 2023, "There are simply too few GPs for the patients who need them in many towns."),
             Item("c", "plan2024", 2024, "Last year the trust recruited 400 extra staff to open a new ward at the hospital.")]
    vectors = np.stack([unit(1, 0, 0), unit(0.35, 0.937, 0), unit(0.4, 0, 0.917)])
    [group] = group_items(items, vectors, threshold=0.68, meanings=MEANING)
    assert {m.id for m in group.members} == {"a", "b"}


@pytest.mark.parametrize("note", [
    "Components may not sum to totals due to rounding and the statistical discrepancy.",
    "Figures are rounded to the nearest £10 million unless otherwise stated in the table.",
    "Source: Office for National Statistics, labour force survey and our own calculations.",
    "This is not intended to convey a degree of unwarranted accuracy in the forecast.",
])
def test_table_notes_and_forecast_caveats_repeated_every_year_are_not_a_point_made_again(note):
    """Every edition of a budget or a statistical series prints the same notes; two editions
    sharing one are not a finding made again, however exactly they match."""
    assert not is_clean(note)
    items = [Item("a", "budget2015", 2015, note), Item("b", "budget2017", 2017, note)]
    vectors = np.stack([unit(1, 0), unit(1, 0)])
    assert group_items(items, vectors, threshold=0.68) == []


def test_columns_read_across_are_not_grouped():
    """Two columns of a PDF page read as one line leave a sentence opener in mid-sentence."""
    assert not is_clean("Rising costs and unequal outcomes across the city is Having fair access to care matters most.")
    assert is_clean("Rising costs and unequal outcomes across the city make fair access to care harder.")


def test_short_sentences_that_lean_on_the_one_before_do_not_group_on_their_topic_words():
    """"However, this was only ever tried on a small scale" is a point only with the sentence
    before it; two such sentences from two inquiries share words, not a point."""
    items = [Item("a", "inquiry2022", 2022, "However, this was only ever tried on a small scale."),
             Item("b", "inquiry2024", 2024, "Such pilots stayed small in scale in every region.")]
    vectors = np.stack([unit(1, 0), unit(0.78, np.sqrt(1 - 0.78 ** 2))])
    assert group_items(items, vectors, threshold=0.68) == []
    items = [Item("a", "inquiry2022", 2022, "Joint commissioning of community nursing was only ever tried on a small scale."),
             Item("b", "inquiry2024", 2024, "Joint commissioning of community nursing stayed small in scale in every region.")]
    assert len(group_items(items, vectors, threshold=0.68)) == 1


def test_pairs_proposed_cell_by_cell_are_the_pairs_found_by_comparing_everything(monkeypatch):
    """Above a size, pairs are proposed within k-means cells instead of comparing every pair
    (100k items: 5·10⁹ pairs). On clustered vectors like real sentences' the two agree."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(40, 48))
    vectors = centres[rng.integers(0, 40, size=1500)] + rng.normal(0, 0.12, size=(1500, 48))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    docs = np.array([f"d{k % 300}" for k in range(1500)])
    exact = candidate_pairs(vectors, docs, 0.5)
    monkeypatch.setattr(recurrence, "EXACT_UP_TO", 100)
    cells = candidate_pairs(vectors, docs, 0.5)
    want = set(zip(exact[0].tolist(), exact[1].tolist()))
    got = set(zip(cells[0].tolist(), cells[1].tolist()))
    assert len(want) > 1000
    assert len(want & got) >= 0.98 * len(want)
    assert all(docs[i] != docs[j] and i < j for i, j in got)


SHORTAGE_AND_DISCHARGE = [
    Item("w17", "review2017", 2017, "Social care has more than 100,000 vacancies and providers cannot recruit enough care workers."),
    Item("w20", "briefing2020", 2020, "This is leaving general practice with a GP shortage and a growing workforce crisis."),
    Item("w23", "report2023", 2023, "The health service does not have an adequate supply of nurses to call upon in many areas."),
    Item("d17", "review2017", 2017, "Too many older patients who are medically fit to leave hospital remain there for weeks."),
    Item("d23", "report2023", 2023, "Delayed discharges from hospital rose again, with patients waiting for care at home."),
    Item("p24", "plan2024", 2024, "Last year the trust recruited 400 extra staff and opened a new surgical ward."),
]


def _real_groups() -> set[frozenset[str]]:
    from kb.analysis.claims import claim_meanings
    from nlp.embed import shared_embedder

    embedder = shared_embedder()
    vectors = embedder.encode([it.text for it in SHORTAGE_AND_DISCHARGE])
    meanings = ([cid for cid, _ in claim_meanings()], embedder.encode([text for _, text in claim_meanings()]))
    return {frozenset(m.id for m in g.members)
            for g in group_items(SHORTAGE_AND_DISCHARGE, vectors, 0.68, meanings=meanings)}


@pytest.mark.slow
def test_a_shortage_and_delayed_discharge_said_again_in_other_words_with_the_real_embedder():
    """With MiniLM itself: reports raise staff shortages and delayed discharge in unlike
    wordings (cosine 0.33 between "vacancies … cannot recruit" and "a GP shortage"); a plan's
    hiring boast uses the shortage claim's words. Each point is a group, the boast in none."""
    groups = _real_groups()
    assert any({"w17", "w20"} <= g for g in groups)
    assert frozenset({"d17", "d23"}) in groups
    assert not any("p24" in g for g in groups)


@pytest.mark.slow
@pytest.mark.xfail(reason="'does not have an adequate supply of nurses' sits at cosine 0.49997 from the shortage "
                          "claim's meaning, just under the 0.5 bar; lowering the bar to 0.48 let loose groups in on the "
                          "shared corpus", strict=False)
def test_the_third_wording_of_the_shortage_joins_too():
    assert any({"w17", "w20", "w23"} <= g for g in _real_groups())

"""A reporter reads a recurrence group and asks: is this really one point made again?

Groups on real reports went wrong in recognisable ways: a heading grouped with a sentence
("Concerns about the counting of hospital output"), two sentences sharing only their subject
("care staff numbers rose" / "more care staff are new to the job"), a claim's words found forty
words apart, a claim named only as one side of a relation ("a link between weak productivity
and low morale"), and a plan whose two columns were read across. Each test tells one such
story in our own words, and the wording that *is* the same point again next to it.

The sentences sit among unrelated filler sentences, as in a real knowledge base, so that the
rare-word weights are realistic; the vectors are made by hand with a given cosine.
"""
import numpy as np
import pytest

from kb.analysis.claims import claims_in, directions, is_clean
from kb.analysis.recurrence import Item, group_items
from kb.analysis.sentence_shape import is_heading, read_across_documents, runs_together

DIM = 64
FILLER = [
    "The library service opened two new branches in the north of the county last spring.",
    "Bus journeys in rural areas fell after the subsidy for evening routes was withdrawn.",
    "The council sold its former depot to a housing association for redevelopment.",
    "School meals now follow the national standards for salt and sugar in every primary school.",
    "A new cycle lane links the railway station with the business park on the ring road.",
    "Household recycling rates improved once food waste was collected every week.",
    "The museum's collection was moved to a purpose-built store outside the city.",
    "Planning appeals were decided faster after the inspectorate hired more staff.",
    "Street lighting was converted to low-energy lamps across the whole district.",
    "The harbour authority dredged the main channel to allow larger ferries to dock.",
    "Allotment waiting lists in the city have grown to more than three years.",
    "The fire service merged two control rooms into one regional centre.",
    # A knowledge base about care says "care", "staff" and "council" often.
    "Care staff in the county are now paid at least the real living wage.",
    "The council publishes its accounts for the year every July.",
    "Agency care staff cover most night shifts in the council's own homes.",
    "The council's adult care budget was set for the year in February.",
    "Staff turnover in home care fell after the council raised its fee rates.",
]


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def pair_vectors(cosine: float) -> np.ndarray:
    """Two unit vectors at the given cosine, in the first two of ``DIM`` dimensions."""
    a = np.zeros(DIM, np.float32)
    b = np.zeros(DIM, np.float32)
    a[0] = 1.0
    b[0], b[1] = cosine, np.sqrt(1 - cosine ** 2)
    return np.stack([a, b])


def grouped(first: tuple[str, str, int, str], second: tuple[str, str, int, str], cosine: float,
            meanings=None) -> bool:
    """Whether two items (id, document, year, text) form a group among the filler sentences."""
    rng = np.random.default_rng(3)
    filler = [Item(f"f{k}", f"other{k}", 2010 + k, text) for k, text in enumerate(FILLER)]
    filler_vectors = np.stack([unit(np.concatenate([[0, 0], rng.normal(size=DIM - 2)])) for _ in FILLER])
    items = [Item(*first), Item(*second)] + filler
    vectors = np.vstack([pair_vectors(cosine), filler_vectors])
    groups = group_items(items, vectors, threshold=0.68, meanings=meanings)
    return any({first[0], second[0]} <= {m.id for m in g.members} for g in groups)


def test_two_wordings_of_one_point_are_one_group():
    """A 2018 survey and a 2022 review both say older residents feel lonely and isolated: the
    same point, in other words, at a cosine where paraphrases by two authors sit."""
    assert grouped(("s18", "survey2018", 2018, "Many older residents told the survey that they felt lonely and isolated "
                                               "from their neighbours."),
                   ("r22", "review2022", 2022, "Older people in the borough feel lonely and isolated from the community "
                                               "around them."), cosine=0.7)


def test_a_heading_is_not_a_finding_even_when_its_words_match():
    """A briefing's heading "Concerns about the counting of hospital output" names a topic; a
    board paper's sentence makes a point about it. Close vectors, shared words: no group."""
    heading = "Concerns about the counting of hospital output"
    assert is_heading(heading) and not is_clean(heading)
    assert not is_heading("Hospital output is hard to count because the activity data are poor.")
    # A recommendation's list item starts with its verb: an instruction, not a heading.
    assert is_clean("clarify the rules on sharing patient records between councils and hospitals")
    # A list fragment without a verb of its own names a thing, not a point.
    assert not is_clean("• the early lack of caseworkers to clear the backlog of claims")
    assert not grouped(("h25", "briefing2025", 2025, heading),
                       ("b24", "board2024", 2024, "The board heard concerns that the counting of hospital output "
                                                  "misses much of the care given in the community."), cosine=0.78)


def test_sentences_sharing_only_their_subject_are_not_one_point():
    """A 2021 census says care staff numbers rose; a 2023 review says more care staff are new to
    the job. Same subject, different things said about it (growth, inexperience): no group,
    though the words and vectors are close."""
    assert not grouped(("c21", "census2021", 2021, "At the same time, the number of council care staff has risen by 5% "
                                                   "in the first half of this year, against the same months of last "
                                                   "year."),
                       ("r23", "review2023", 2023, "There are more council care staff who are new to the job than in "
                                                   "previous years, many of them recruited from overseas on short "
                                                   "visas."), cosine=0.73)


def test_a_claim_named_as_one_side_of_a_link_is_not_made():
    """"There is a link between weak productivity and low morale" is about the link; it does not
    say that productivity is weak, as a budget does."""
    assert "weak_productivity" in claims_in("Productivity remains weak since the financial crisis, the budget says.")
    assert "weak_productivity" not in claims_in("A think tank argues that there is a link between weak productivity "
                                                "and poor staff morale.")
    # What is said before the link still counts: the shortage is claimed, its effect related.
    assert "workforce_shortage" in claims_in("Areas with staff shortages use more agency nurses, and this is linked "
                                             "to poorer care.")


def test_a_claim_set_as_the_context_of_another_point_is_not_made():
    """"Recognising the pressures of an ageing population, the county opened two day centres"
    reports a measure; the ageing population is its context, not its point."""
    assert "ageing_population" in claims_in("The county's population is ageing, and more residents live with "
                                            "several conditions.")
    assert "ageing_population" not in claims_in("Recognising the pressures of an ageing population, last year the "
                                                "county opened two new day centres.")
    assert "rising_demand" not in claims_in("Given rising demand and high vacancy rates, the new policy does not go "
                                            "far enough.")


def test_a_claims_words_far_apart_in_a_long_sentence_are_not_the_claim():
    """A board paper cites "the paper on productivity" and, many words later, "infection control
    measures": nothing about productivity being hard to measure."""
    assert "productivity_hard_to_measure" in claims_in("Productivity in community services is hard to measure "
                                                       "because the data are poor.")
    assert "productivity_hard_to_measure" not in claims_in(
        "There continues to be an impact from the pandemic (see the board paper on productivity of last May), "
        "including permanent costs in the baseline budget of every trust, such as extra cleaning, isolation rooms "
        "and infection prevention and control measures.")


def test_close_vectors_sharing_one_topic_word_are_not_one_point():
    """A 2025 briefing says productivity fell in the pandemic; a 2024 board paper, in one long
    sentence, lists the pandemic's lasting costs and cites its paper on productivity. MiniLM
    rates them very close (both are about the pandemic and productivity), but they share two
    topic words and no claim: not the same point."""
    assert not grouped(("b25", "briefing2025", 2025, "NHS productivity fell a long way during the pandemic and in the "
                                                     "months straight after it."),
                       ("p24", "board2024", 2024, "There continues to be an impact from the pandemic (see the board "
                                                  "paper on productivity of last May), including permanent costs in the "
                                                  "baseline budget of every trust, such as extra cleaning, isolation "
                                                  "rooms, higher sickness absence among staff and sicker patients "
                                                  "staying longer in hospital beds."), cosine=0.82)


def test_a_drop_and_a_rise_are_opposite():
    assert directions("Productivity dropped sharply in the pandemic winter.")["product"] == -1
    assert directions("Productivity rose sharply in the pandemic winter.")["product"] == 1
    assert not grouped(("a", "paper2021", 2021, "Hospital productivity dropped sharply in the pandemic winter of 2020."),
                       ("b", "paper2022", 2022, "Hospital productivity rose sharply in the pandemic winter of 2020."),
                       cosine=0.9)


PLAN = [  # a two-column plan read line by line across both columns
    "Six months ago, despite a £3 billion settlement The first response from local leaders has been welcome.",
    "The leadership community has stepped up In short, the confidence to deliver has grown.",
    "Since rising demand, protect frontline budgets, and 2021/22, the council workforce has grown much "
    "balance the books.",
    "Our libraries and parks remain open every day of the week.",
]


def test_a_plan_read_across_two_columns_does_not_group_on_a_half_sentence():
    """In a plan whose two columns were read across, a line that looks whole may be two halves
    ("Since rising demand, protect frontline budgets, … the council workforce has grown …").
    Against a review saying demand is rising, that line does not make a group; the same words
    in a plan laid out in one column would."""
    assert runs_together(PLAN[0]) and runs_together(PLAN[1]) and not runs_together(PLAN[2])
    assert read_across_documents(["plan"] * 4 + ["review"], PLAN + ["Demand keeps rising."]) == frozenset({"plan"})
    review = ("r", "review2024", 2024, "Rising demand for council services has outstripped the growth of the council "
                                       "workforce since 2021/22.")
    half = PLAN[2]
    rng = np.random.default_rng(5)

    def groups_with(plan_doc: str, plan_lines: list[str]) -> bool:
        items = [Item("half", plan_doc, 2025, half), Item(*review)]
        items += [Item(f"p{k}", plan_doc, 2025, text) for k, text in enumerate(plan_lines)]
        items += [Item(f"f{k}", f"other{k}", 2010 + k, text) for k, text in enumerate(FILLER)]
        noise = np.stack([unit(np.concatenate([[0, 0], rng.normal(size=DIM - 2)])) for _ in items[2:]])
        vectors = np.vstack([pair_vectors(0.52), noise])
        return any({"half", "r"} <= {m.id for m in g.members} for g in group_items(items, vectors, threshold=0.68))

    assert not groups_with("plan", [line for line in PLAN if line != half])
    assert groups_with("one-column-plan", [])


@pytest.mark.parametrize("text", [
    "Since we published our last strategy much has changed in the city.",
    "The report, published in March, found that waiting lists in the city had grown.",
])
def test_ordinary_sentences_do_not_look_run_together(text):
    assert not runs_together(text)

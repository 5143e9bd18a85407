"""Grouping logic of recurrences, on hand-made vectors (the real embedder is used end to end)."""
import numpy as np

from kb.analysis.recurrence import Item, group_items, make_label


def unit(*xs):
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_close_items_from_different_documents_form_one_group_across_years():
    items = [
        Item("a", "d2014", 2014, "Develop robust evidence on whether integration saves money."),
        Item("b", "d2017", 2017, "Build a robust evidence base on the savings from integration."),
        Item("c", "d2018", 2018, "Evaluate whether integration saves money, with robust evidence."),
        Item("d", "d2017", 2017, "Publish a workforce strategy for social care."),
    ]
    vectors = np.stack([unit(1, 0.05, 0), unit(1, 0.1, 0), unit(1, 0, 0.1), unit(0, 0, 1)])
    groups = group_items(items, vectors, threshold=0.8)
    assert len(groups) == 1
    assert {m.id for m in groups[0].members} == {"a", "b", "c"}
    assert groups[0].years == [2014, 2017, 2018]


def test_items_of_one_document_alone_never_recur():
    items = [Item("a", "d1", 2017, "x"), Item("b", "d1", 2017, "x")]
    vectors = np.stack([unit(1, 0), unit(1, 0)])
    assert group_items(items, vectors, threshold=0.5) == []


def test_word_overlap_rescues_a_pair_just_below_the_threshold():
    items = [Item("a", "d1", 2017, "clarify information governance rules for sharing data"),
             Item("b", "d2", 2018, "clarify the information governance rules on sharing data")]
    cos = 0.75
    vectors = np.stack([unit(1, 0), unit(cos, np.sqrt(1 - cos ** 2))])
    assert len(group_items(items, vectors, threshold=0.8)) == 1
    items[1].text = "publish a workforce plan"
    assert group_items(items, vectors, threshold=0.8) == []


def test_group_ids_are_stable():
    text = "Local areas were not using the NHS number to identify patients."
    items = [Item("a", "d1", 2014, text), Item("b", "d2", 2017, text)]
    vectors = np.stack([unit(1, 0), unit(1, 0)])
    assert group_items(items, vectors, 0.9)[0].id == group_items(list(reversed(items)), vectors[::-1], 0.9)[0].id


def test_labels_are_short_and_drop_numbering():
    assert make_label("Recommendation 3: The Department should set out a plan.") == "The Department should set out a plan."
    assert make_label(" ".join(["word"] * 40)).endswith("…")


def test_shortage_is_not_surplus_even_when_the_vectors_are_close():
    items = [Item("a", "d2017", 2017, "A shortage of community nurses is holding back integrated care at home."),
             Item("b", "d2020", 2020, "A surplus of community nurses is holding back integrated care at home.")]
    vectors = np.stack([unit(1, 0), unit(0.9, np.sqrt(1 - 0.81))])
    assert group_items(items, vectors, threshold=0.8) == []
    items[1].text = "Too few community nurses are available, which holds back integrated care at home."
    assert len(group_items(items, vectors, threshold=0.8)) == 1


def test_renditions_of_one_publication_never_recur():
    text = "Information governance rules are confusing and local bodies are unsure what they may share."
    items = [Item("a", "pdf", 2024, text, publication="pub"), Item("b", "md", 2024, text, publication="pub")]
    vectors = np.stack([unit(1, 0), unit(1, 0)])
    assert group_items(items, vectors, threshold=0.6) == []


def test_a_chain_of_loose_neighbours_does_not_become_one_group():
    """a~b and b~c are close, a and c are not: average linkage keeps a and c apart."""
    items = [Item("a", "d1", 2015, "Pooled budgets between councils and the NHS remain rare and small."),
             Item("b", "d2", 2018, "Pooled budgets and shared records between councils and the NHS remain rare."),
             Item("c", "d3", 2021, "Shared records between councils and the NHS remain rare and patchy.")]
    vectors = np.stack([unit(1, 0, 0), unit(0.8, 0.6, 0), unit(0.3, 0.954, 0)])
    groups = group_items(items, vectors, threshold=0.6)
    assert all({"a", "c"} - {m.id for m in g.members} for g in groups)


def test_each_group_says_why_its_members_were_grouped():
    items = [Item("a", "d2017", 2017, "Nearly a third of areas were not using the NHS number as the patient identifier."),
             Item("b", "d2019", 2019, "Many areas still do not use the NHS number as the main identifier for patients.")]
    vectors = np.stack([unit(1, 0), unit(0.7, np.sqrt(1 - 0.49))])
    [group] = group_items(items, vectors, threshold=0.6)
    assert "NHS number" in group.key_phrases
    assert "2 publications" in group.why and "NHS number" in group.why

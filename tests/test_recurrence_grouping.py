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
    items = [Item("a", "d1", 2014, "x y z"), Item("b", "d2", 2017, "x y z")]
    vectors = np.stack([unit(1, 0), unit(1, 0)])
    assert group_items(items, vectors, 0.9)[0].id == group_items(list(reversed(items)), vectors[::-1], 0.9)[0].id


def test_labels_are_short_and_drop_numbering():
    assert make_label("Recommendation 3: The Department should set out a plan.") == "The Department should set out a plan."
    assert make_label(" ".join(["word"] * 40)).endswith("…")

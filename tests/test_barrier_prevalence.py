"""The labelled pool over-samples sentences the cue rules flag, so its cross-validated
precision is measured where barriers are commoner than on a page. ``bench/barrier_prevalence.py``
weights each labelled sentence back to the share of its document it stands for; a researcher
reading the weighted figures needs the weights to be those counts, and the curve to use them."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from bench.barrier_prevalence import cell_counts, cell_for, curve, weights
from nlp.barrier_training import DATA_DIR, Example, load_examples
from nlp.barriers import load_taxonomy
from nlp.sentence_quality import is_prose

from conftest import CORPUS


def _example(i: str, doc: str, barrier: bool, text: str = "Funding was cut.") -> Example:
    return Example(id=i, text=text, doc=doc, barrier=barrier, themes=[], quality="ok")


def test_each_labelled_sentence_stands_for_the_unlabelled_sentences_of_its_cell() -> None:
    counts = Counter({("flagged", "a"): 10, ("prose", "a"): 90})
    cell_of = {"1": ("flagged", "a"), "2": ("flagged", "a"), "3": ("prose", "a")}
    ex = [_example("1", "a", True), _example("2", "a", False), _example("3", "a", False)]
    w, info = weights(ex, counts, cell_of, load_taxonomy())
    assert w.tolist() == [5.0, 5.0, 90.0]
    assert info["weighted_total"] == 100 and info["found_in_corpus"] == 3


def test_a_false_alarm_in_common_prose_costs_more_precision_than_one_in_rare_flagged_text() -> None:
    y = np.array([1, 0, 0])
    p = np.array([0.9, 0.1, 0.9])  # the prose sentence is a false alarm
    plain = {c["threshold"]: c for c in curve(y, p, np.ones(3))}[0.5]
    weighted = {c["threshold"]: c for c in curve(y, p, np.array([5.0, 5.0, 90.0]))}[0.5]
    assert plain["precision"] == 0.5 and plain["recall"] == 1.0
    assert weighted["precision"] == round(5 / 95, 3) and weighted["recall"] == 1.0


@pytest.mark.skipif(not (CORPUS / "committees").is_dir(), reason="shared corpus not present")
def test_the_labelled_lords_sentences_are_found_again_in_their_document_with_its_counts() -> None:
    taxonomy = load_taxonomy()
    counts, cell_of = cell_counts([CORPUS / "committees"], taxonomy)
    lords = [e for e in load_examples(DATA_DIR, taxonomy) if "committees/" in e.doc and is_prose(e.text)]
    assert sum(cell_for(e, cell_of) is not None for e in lords) >= 0.95 * len(lords) > 100
    w, _ = weights([e for e in lords if cell_for(e, cell_of)], counts, cell_of, taxonomy)
    assert w.min() >= 1.0 and abs(w.sum() - sum(counts.values())) / sum(counts.values()) < 0.05

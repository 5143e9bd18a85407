"""The labelled pool keeps sentences without their neighbours; the context experiment
(``bench/barrier_context.py``) finds the sentence before each one again from its document.
A researcher reading its figures needs that to be the real neighbour, not a near miss."""
from __future__ import annotations

import pytest

from bench.barrier_context import previous_sentences
from nlp.barrier_training import DATA_DIR, load_examples
from nlp.barriers import load_taxonomy
from nlp.text import load_document

from conftest import CORPUS

LORDS = "corpus/committees/lords-behaviour-change-report.pdf"


@pytest.mark.skipif(not (CORPUS / "committees").is_dir(), reason="shared corpus not present")
def test_the_sentence_before_a_labelled_one_is_found_in_its_document() -> None:
    taxonomy = load_taxonomy()
    labelled = [e for e in load_examples(DATA_DIR, taxonomy) if e.doc == LORDS]
    before = previous_sentences(labelled, taxonomy)
    assert len(before) >= 0.95 * len(labelled) > 50  # nearly every one is found again
    text = " ".join(load_document(CORPUS / "committees" / LORDS.rsplit("/", 1)[1]).text.split())
    near = []
    for e in labelled[:40]:
        if before.get(e.id):  # the neighbour stands just before the sentence in the document
            at = text.find(e.text[:60])
            start = text.rfind(before[e.id][-60:], 0, at)
            near.append(at > 0 and 0 <= start and at - start < len(before[e.id]) + 400)
    assert len(near) >= 30 and sum(near) >= 0.9 * len(near)  # a list line repeated in the text can mislead find

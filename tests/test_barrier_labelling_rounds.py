"""Labelling more sentences in later rounds, as the person growing the training set meets it:
a new draw from the same documents never hands a reader a sentence already read, the learning
curve trains on a fixed share of each fold with the handwritten cases kept, and a later
round's labels can be measured on the earlier round's unchanged test folds.

Documents and sentences are our own.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bench.barrier_finetune import fixed_test_folds, subsample
from bench.barrier_pool import build_pool, drawn_before
from nlp.barrier_training import HANDWRITTEN, folds

OBSTACLES = ["Councils could not recruit enough care workers in {n} of the areas we visited.",
             "Hospital and council records in district {n} still cannot be shared.",
             "The fund for area {n} was cut again, so the service closed early."]
PROSE = ["The board met in district {n} to agree the winter plan.",
         "Area {n} published its annual report in the spring."]


PLACES = ["Ashby", "Bowden", "Carlow", "Dunmore", "Elston", "Farley", "Garth", "Hayle", "Irby", "Jarrow",
          "Kelso", "Lydd", "Marden", "Norley", "Otley", "Penryn", "Quorn", "Ripley"]


def _corpus(root: Path) -> Path:
    """Sentences that differ in their words, not only in their numbers: a sentence that
    differs from one already read only by its figures counts as read (the letters key)."""
    root.mkdir()
    for d in range(3):
        lines = [t.format(n=f"{PLACES[d * 6 + i // 2]} {'north' if i % 2 else 'south'}")
                 for i in range(12) for t in OBSTACLES + PROSE]
        (root / f"report-{d}.md").write_text("# Report\n\n" + "\n\n".join(lines) + "\n", encoding="utf-8")
    return root


def _write(pool: list[dict], folder: Path, first: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(2):
        (folder / f"shard-{n + first}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in pool[n::2]), encoding="utf-8")


def test_a_second_draw_never_repeats_a_sentence_already_read(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus")
    first = build_pool([corpus], total=60, seed=14)
    _write(first, tmp_path / "pool", 1)
    second = build_pool([corpus], total=60, seed=15, exclude=[tmp_path / "pool"])
    ids, letters = drawn_before(tmp_path / "pool")
    assert first and second and len(ids) == len(first)
    assert not {r["id"] for r in second} & ids
    assert not {r["text"] for r in second} & {r["text"] for r in first}
    # Without the exclusion the same seed may well draw them again.
    again = build_pool([corpus], total=60, seed=15)
    assert {r["id"] for r in again} & ids


def test_the_learning_curve_keeps_every_handwritten_case_and_the_share_of_barriers() -> None:
    y = np.array([1] * 40 + [0] * 160 + [1] * 5)
    hand = [False] * 200 + [True] * 5
    tr = np.arange(205)
    half = subsample(tr, y, hand, 0.5, fold=0)
    assert set(range(200, 205)) <= set(half.tolist())
    assert int(y[half[half < 200]].sum()) == 20 and len(half) == 105
    assert np.array_equal(subsample(tr, y, hand, 0.5, fold=0), half)  # a fixed draw
    assert np.array_equal(subsample(tr, y, hand, 1.0, fold=0), tr)


def test_a_later_round_is_measured_on_the_earlier_rounds_test_folds(tmp_path: Path) -> None:
    class Ex:
        def __init__(self, i: str, doc: str):
            self.id, self.doc = i, doc

    docs = [f"corpus/doc-{d}.md" for d in range(6)]
    ex, labelled = [], {1: [], 2: []}
    for d, doc in enumerate(docs):
        for k in range(10):
            shard = 1 if k < 6 else 2  # the first round read six sentences of each document
            ex.append(Ex(f"{d}-{k}", doc))
            labelled[shard].append({"id": f"{d}-{k}", "barrier": k % 3 == 0, "themes": [], "quality": "ok"})
    ex.append(Ex("h-1", HANDWRITTEN + "cases.jsonl"))
    (tmp_path / "labelled").mkdir()
    for n, rows in labelled.items():
        (tmp_path / "labelled" / f"shard-{n}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    y = np.array([int(e.id.endswith(("-0", "-3", "-6", "-9"))) for e in ex])
    d = [e.doc for e in ex]

    split = fixed_test_folds(ex, d, y, {1}, tmp_path)
    old = [i for i, e in enumerate(ex) if e.doc.startswith(HANDWRITTEN) or int(e.id.split("-")[1]) < 6]
    expected = [np.array(old)[te] for _tr, te in folds([d[i] for i in old], y[old], 5, True)]
    for (tr, te), want in zip(split, expected):
        assert np.array_equal(te, want)  # the earlier round's test sentences, unchanged
        held = {d[i] for i in te}
        assert not any(d[i] in held for i in tr)  # nothing of a held-out document trains
        assert any(int(ex[i].id.split("-")[1]) >= 6 for i in tr if not ex[i].doc.startswith(HANDWRITTEN))
        assert len(ex) - 1 in tr  # the handwritten case always trains

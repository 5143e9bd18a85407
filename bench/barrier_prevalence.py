"""Cross-validated barrier precision and recall as the documents themselves would show them.

    python -m bench.barrier_finetune --folds 0,1,2,3,4 --threads 2 --out /tmp/oof.json
    python -m bench.barrier_prevalence ../shared/corpus samples --scores /tmp/oof.json

Why: the labelled pool is stratified so that barriers are not rare (40% sentences the cue
rules flag, 20% theme vocabulary without a cue, 35% other prose, 5% junk; ``bench.barrier_pool``),
so its cross-validated precision is measured where barriers are far commoner than on a page of
a report. The held-out targets are recall at a precision floor on fully labelled *pages*. Here
each scored sentence is weighted by how many sentences of the documents it stands for: the
sentences of its document and stratum in the corpus (``population``, counted with the pool's
own code) over the labelled ones drawn from that cell (inverse-probability weighting). The
weighted figures estimate what the out-of-fold model would score on every readable sentence
of the corpus's documents, dev-gold pages excluded as in the pool.

Scores come from ``bench.barrier_finetune --out`` (out-of-fold probabilities of the tuned and
frozen models on the same grouped folds as ``kb train-barriers``).
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from bench.barrier_pool import population, stratum
from nlp.barrier_training import DATA_DIR, load_examples, prf
from nlp.barriers import load_taxonomy
from nlp.segment import without_footnote_mark
from nlp.sentence_quality import is_prose

GRID = [round(t, 3) for t in np.arange(0.05, 0.951, 0.025)]


def cell_counts(roots: list[Path], taxonomy) -> tuple[Counter, dict]:
    """(readable sentences per (stratum, document), the cell of each sentence: by id and by
    (document, text))."""
    counts: Counter = Counter()
    cell_of: dict = {}
    for st, docs in population(roots, taxonomy).items():
        for doc, rows in docs.items():
            for row in rows:
                if is_prose(row["text"]):
                    counts[st, doc] += 1
                    cell_of[row["id"]] = cell_of[doc, row["text"]] = (st, doc)
    return counts, cell_of


def cell_for(example, cell_of: dict) -> tuple[str, str] | None:
    """The cell of a labelled sentence: by its id, else by its text as the splitter gives it
    today (the pool was drawn when a footnote number glued to a sentence's end was part of it)."""
    return cell_of.get(example.id) or cell_of.get((example.doc, without_footnote_mark(example.text)))


def weights(examples, counts: Counter, cell_of: dict, taxonomy) -> tuple[np.ndarray, dict]:
    """Inverse-probability weight of each example; a sentence the corpus no longer yields (the
    loader or splitter changed since the pool was drawn) takes its text's stratum."""
    cells = [cell_for(e, cell_of) or (stratum(e.text, taxonomy), e.doc) for e in examples]
    drawn = Counter(cells)
    w = np.array([counts.get(c, 0) / drawn[c] for c in cells], dtype=float)
    missing = [c for c in drawn if counts.get(c, 0) == 0]
    w[w == 0] = 1.0  # a cell the corpus no longer has: the sentence stands for itself
    info = {"examples": len(examples), "found_in_corpus": sum(cell_for(e, cell_of) is not None for e in examples),
            "cells": len(drawn), "cells_not_in_corpus": len(missing),
            "corpus_sentences": int(sum(counts.values())), "weighted_total": round(float(w.sum()))}
    return w, info


def curve(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> list[dict]:
    """Precision, recall and F1 at each threshold of ``GRID``, every sentence counted ``w`` times."""
    out = []
    for t in GRID:
        k = p >= t
        out.append({"threshold": t, **prf(float(w[k & (y == 1)].sum()), float(w[k & (y == 0)].sum()),
                                          float(w[~k & (y == 1)].sum()))})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("roots", nargs="+", type=Path)
    ap.add_argument("--scores", type=Path, required=True, help="bench.barrier_finetune --out JSON")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    taxonomy = load_taxonomy()
    scores = json.loads(args.scores.read_text(encoding="utf-8"))
    by_id = {e.id: e for e in load_examples(DATA_DIR, taxonomy)}
    ids = [i for f in scores["folds"].values() for i in f["test_ids"]]
    examples = [by_id[i] for i in ids]
    y = np.array([int(e.barrier) for e in examples])
    counts, cell_of = cell_counts(args.roots, taxonomy)
    w, info = weights(examples, counts, cell_of, taxonomy)
    barriers = float(w[y == 1].sum())
    result = {"sample": info, "barrier_share": {"labelled": round(float(y.mean()), 3),
                                                "weighted": round(barriers / float(w.sum()), 3)},
              "strata": {st: {"corpus": sum(c for (s, _), c in counts.items() if s == st),
                              "labelled": sum(1 for e in examples if (cell_for(e, cell_of) or ("?",))[0] == st)}
                         for st in ("flagged", "topic", "prose", "junk")}}
    for model in ("tuned", "frozen"):
        p = np.array([v for f in scores["folds"].values() for v in f[f"p_{model}"]])
        result[model] = {"labelled": curve(y, p, np.ones_like(w)), "weighted": curve(y, p, w)}
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("sample", "barrier_share", "strata")}, indent=1))
    print(f"{'t':>6} | {'tuned P':>8} {'R':>6} {'F1':>6} | {'weighted P':>10} {'R':>6} {'F1':>6} |"
          f" {'frozen wP':>9} {'R':>6} {'F1':>6}")
    for a, b, c in zip(result["tuned"]["labelled"], result["tuned"]["weighted"], result["frozen"]["weighted"]):
        print(f"{a['threshold']:>6} | {a['precision']:>8} {a['recall']:>6} {a['f1']:>6} | {b['precision']:>10} "
              f"{b['recall']:>6} {b['f1']:>6} | {c['precision']:>9} {c['recall']:>6} {c['f1']:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

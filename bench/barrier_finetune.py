"""Does fine-tuning MiniLM's top layers beat the frozen-vector barrier model? A pilot on grouped folds.

    python -m bench.barrier_finetune [--folds 0] [--layers 2] [--epochs 4] [--lr 5e-5] [--threads 1]
                                     [--train-fraction 1.0] [--test-shards 1-4]

The shipped model is logistic regression over frozen all-MiniLM-L6-v2 vectors plus cue features
(``nlp.barrier_training``). Here the top ``--layers`` transformer layers are trained instead,
with a linear head over their mean-pooled output and the same cue features: BCE on barrier /
not (positives up-weighted by the square root of the class ratio) plus 0.5 x BCE on the themes
of the barriers, AdamW, linear warm-up and decay, seed 14. The layers below are frozen, so their
output is computed once for the whole labelled set and cached beside the data
(``.cache/hidden-*.npz``): each epoch runs only the tuned layers.

Both models are fitted on the same training part of the same grouped fold (``folds``: whole
documents held out, handwritten cases always training) and scored on its real sentences:
average precision, and F1 at the fold's best threshold (optimistic for both alike). The
out-of-fold probabilities (barrier, and the tuned head's themes) are written to ``--out`` so
blends can be scored without retraining. ``--test-shards 1-4`` keeps the test folds of the
first labelling round while training on every later round's sentences from the other
documents. ``--train-fraction`` keeps that share of each fold's
real training sentences (a fixed random draw, stratified by label; handwritten cases stay): the
learning curve, on the same test folds, says how much more labelling would buy.
CPU only and slow on a shared 2-core machine (one fold, four epochs, one thread: about 5 CPU
minutes, two layers or all six), so it is a bench; ``kb train-barriers --tuned`` trains the shipped model with the same
recipe (``nlp/barrier_finetune.py``).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from nlp.barrier_finetune import LAYERS, SEED, Recipe, Trainer, hidden_states  # the recipe lives in nlp/
from nlp.barrier_model import cue_features
from nlp.barrier_training import (DATA_DIR, HANDWRITTEN, _logreg, best_threshold, folds, load_examples, prf,
                                  read_jsonl)
from nlp.barriers import load_taxonomy
from nlp.sentence_quality import is_prose


def best_f1(y: np.ndarray, p: np.ndarray) -> dict:
    t = best_threshold(y, p)
    k = p >= t
    m = prf(np.sum(k & (y == 1)), np.sum(k & (y == 0)), np.sum(~k & (y == 1)))
    return {**{n: float(v) for n, v in m.items() if n != "support"}, "support": m["support"], "threshold": t}


def subsample(tr: np.ndarray, y: np.ndarray, hand: list[bool], fraction: float, fold: int) -> np.ndarray:
    """``fraction`` of a fold's real training sentences, the same share of barriers and of the
    rest (a fixed draw per fold), with every handwritten case kept."""
    if fraction >= 1.0:
        return tr
    rng = np.random.default_rng(SEED + fold)
    keep = [i for i in tr if hand[i]]
    for label in (0, 1):
        part = np.array([i for i in tr if not hand[i] and y[i] == label])
        keep += rng.choice(part, max(1, round(fraction * len(part))), replace=False).tolist()
    return np.sort(np.array(keep))


def shard_numbers(data_dir: Path = DATA_DIR) -> dict[str, int]:
    """Labelled sentence id -> the number of its ``labelled/shard-N.jsonl``."""
    return {r["id"]: int(f.stem.split("-")[1]) for f in (data_dir / "labelled").glob("shard-*.jsonl")
            for r in read_jsonl(f) if "id" in r}


def fixed_test_folds(ex, docs: list[str], y: np.ndarray, test_shards: set[int],
                     data_dir: Path = DATA_DIR) -> list[tuple]:
    """The grouped folds of an earlier, smaller labelled set (the sentences of ``test_shards``
    plus the handwritten cases, in their order), tested on its sentences only, but trained on
    every labelled sentence of the other documents: what later labelling rounds buy, measured
    on an unchanged test set."""
    shard = shard_numbers(data_dir)
    old = np.array([i for i, e in enumerate(ex) if e.doc.startswith(HANDWRITTEN) or shard.get(e.id) in test_shards])
    out = []
    for _tr, te in folds([docs[i] for i in old], y[old], 5, True):
        test = old[te]
        held = {docs[i] for i in test}
        out.append((np.array([i for i in range(len(ex)) if docs[i] not in held]), test))
    return out


def run(fold_ids: list[int], layers: int, epochs: int, lr: float, threads: int, out: Path,
        seed: int = SEED, theme_weight: float = 0.5, theme_balance: bool = False,
        train_fraction: float = 1.0, test_shards: set[int] | None = None) -> dict:
    import torch
    from sklearn.metrics import average_precision_score

    torch.set_num_threads(threads)
    tax = load_taxonomy()
    ex = [e for e in load_examples(DATA_DIR, tax) if is_prose(e.text)]
    texts, docs = [e.text for e in ex], [e.doc for e in ex]
    y = np.array([int(e.barrier) for e in ex])
    ty = np.array([[int(t in e.themes) for t in tax.ids] for e in ex], dtype=np.float32)
    hidden, lens, vectors = hidden_states(texts, [e.id for e in ex], 6 - layers,
                                          DATA_DIR / ".cache" / f"hidden-below{6 - layers}.npz")
    raw = np.stack([cue_features(t, tax) for t in texts])
    cues = ((raw - raw.mean(0)) / (raw.std(0) + 1e-3)).astype(np.float32)
    trainer = Trainer(hidden, lens, cues, y, ty, Recipe(layers=layers, epochs=epochs, lr=lr, seed=seed,
                                                             theme_weight=theme_weight, theme_balance=theme_balance))

    split = folds(docs, y, 5, True) if not test_shards else fixed_test_folds(ex, docs, y, test_shards)
    x = np.hstack([vectors, cues])
    result: dict = {"layers": layers, "epochs": epochs, "lr": lr, "seed": seed, "train_fraction": train_fraction,
                    "folds": {}}
    hand = [d.startswith(HANDWRITTEN) for d in docs]
    for fi in fold_ids:
        tr, te = split[fi]
        tr = subsample(tr, y, hand, train_fraction, fi)
        result.setdefault("train_sentences", {})[fi] = len(tr)
        frozen = _logreg(x[tr], y[tr], 1.0).predict_proba(x[te])[:, 1]
        curve, t0 = [], time.process_time()

        def on_epoch(_epoch, net):
            tuned = trainer.predict(net, te)[0]
            curve.append({"cpu_s": round(time.process_time() - t0), "ap": round(average_precision_score(y[te], tuned), 3),
                          **best_f1(y[te], tuned)})
            print(f"fold {fi} epoch {len(curve)}: {curve[-1]}", flush=True)

        tuned, tuned_themes = trainer.predict(trainer.fit(tr, on_epoch), te)
        blend = (frozen + tuned) / 2
        result["folds"][fi] = {
            "test_sentences": len(te), "test_barriers": int(y[te].sum()),
            "frozen": {"ap": round(average_precision_score(y[te], frozen), 3), **best_f1(y[te], frozen)},
            "tuned": curve[-1], "tuned_by_epoch": curve,
            "mean_of_both": {"ap": round(average_precision_score(y[te], blend), 3), **best_f1(y[te], blend)},
            "test_ids": [ex[i].id for i in te], "p_frozen": frozen.round(4).tolist(), "p_tuned": tuned.round(4).tolist(),
            "pt_tuned": tuned_themes.round(4).tolist()}
    if len(fold_ids) > 1:  # one threshold over all the out-of-fold scores, as ``kb train-barriers`` picks it
        f = result["folds"].values()
        idx = {e.id: i for i, e in enumerate(ex)}
        yy = np.array([y[idx[i]] for r in f for i in r["test_ids"]])
        for name in ("frozen", "tuned"):
            q = np.array([v for r in f for v in r[f"p_{name}"]])
            result[f"pooled_{name}"] = {"ap": round(average_precision_score(yy, q), 3), **best_f1(yy, q)}
    out.write_text(json.dumps(result, indent=1, default=float) + "\n", encoding="utf-8")
    return result


def _shards(spec: str) -> set[int] | None:
    if not spec:
        return None
    lo, _, hi = spec.partition("-")
    return set(range(int(lo), int(hi or lo) + 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", default="0", help="comma-separated grouped folds to run (0-4)")
    ap.add_argument("--layers", type=int, default=LAYERS, help="top transformer layers to tune (1-6)")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-5, help="learning rate of the tuned layers (head: 1e-3)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the cores are shared)")
    ap.add_argument("--seed", type=int, default=SEED, help="torch and batch-order seed (the folds stay fixed)")
    ap.add_argument("--theme-weight", type=float, default=0.5, help="weight of the themes' loss")
    ap.add_argument("--theme-balance", action="store_true", help="weight each theme's positives by its rarity")
    ap.add_argument("--train-fraction", type=float, default=1.0,
                    help="share of each fold's real training sentences to train on (learning curve)")
    ap.add_argument("--test-shards", default="",
                    help="e.g. 1-4: test on the folds of those shards' sentences alone, train on all the rest")
    ap.add_argument("--out", type=Path, default=Path("barrier_finetune.json"))
    a = ap.parse_args()
    res = run([int(f) for f in a.folds.split(",")], a.layers, a.epochs, a.lr, a.threads, a.out, a.seed,
              a.theme_weight, a.theme_balance, a.train_fraction, _shards(a.test_shards))
    for fi, r in res["folds"].items():
        print(f"fold {fi}:", {k: r[k] for k in ("frozen", "tuned", "mean_of_both")})
    for name in ("frozen", "tuned"):
        if f"pooled_{name}" in res:
            print(f"all folds, one threshold, {name}:", res[f"pooled_{name}"])


if __name__ == "__main__":
    main()

"""``kb train-barriers --tuned``: fine-tune MiniLM's top two layers on the labelled sentences.

Same data, folds and threshold rules as the frozen model (``nlp/barrier_training.py``): grouped
5-fold cross-validation (whole documents held out, the handwritten cases always training and
never scored); the barrier threshold is the lowest whose out-of-fold F1 is within 0.01 of the
best, the theme threshold the best theme-set F1, and the gate threshold keeps 93% of what the
tuned head finds on its own. Then the layers are trained once more on everything and written
with the head to ``nlp/data/barrier_tuned.npz`` (``nlp/barrier_tuned.py``), and the figures to
``metrics_tuned.json`` beside the data. The frozen model is scored on the same folds for
comparison (logistic regression over the fp32 vectors and cues, as ``bench/barrier_finetune.py``).

Fixed seed and one torch thread: the same labels give the same model. About 10 CPU minutes
(five folds and the final fit, four epochs each; the lower four layers run once and are cached).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from nlp.barrier_finetune import LAYERS, MAX_TOKENS, Recipe, Trainer, hidden_states
from nlp.barrier_model import cue_feature_names, cue_features
from nlp.barrier_training import (DATA_DIR, HANDWRITTEN, THRESHOLD_TOLERANCE, _logreg, _sparse_ngrams,
                                  best_theme_threshold, best_threshold, folds, format_metrics, gate_threshold,
                                  load_examples, prf, score)
from nlp.barrier_tuned import TUNED_PATH, TunedModel
from nlp.barriers import load_taxonomy
from nlp.sentence_quality import is_prose


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return round(float(average_precision_score(y, p)), 3) if y.any() else 0.0


def barrier_figures(y: np.ndarray, p: np.ndarray, tolerance: float = THRESHOLD_TOLERANCE) -> dict:
    """P/R/F1 at the pooled threshold (the training rule) and average precision."""
    t = best_threshold(y, p, tolerance)
    k = p >= t
    return {**prf(np.sum(k & (y == 1)), np.sum(k & (y == 0)), np.sum(~k & (y == 1))), "threshold": t,
            "ap": average_precision(y, p)}


def train_tuned(data_dir: Path = DATA_DIR, out: Path = TUNED_PATH, k: int = 5, recipe: Recipe = Recipe(),
                threads: int = 1, report=sys.stdout, progress=None) -> dict:
    """Cross-validate, choose thresholds, fit on everything, write the artefact and metrics."""
    import torch
    from transformers import AutoModel

    from nlp.barrier_tuned import file_sha256
    from nlp.embed import model_path

    torch.set_num_threads(threads)
    say = progress or (lambda msg: None)
    taxonomy = load_taxonomy()
    ids = taxonomy.ids
    examples = [e for e in load_examples(data_dir, taxonomy) if is_prose(e.text)]
    if len(examples) < 20 or sum(e.barrier for e in examples) < 5:
        raise ValueError(f"too few labelled sentences to train on ({len(examples)})")
    texts, docs = [e.text for e in examples], [e.doc for e in examples]
    y = np.array([int(e.barrier) for e in examples])
    theme_y = np.array([[int(t in e.themes) for t in ids] for e in examples], dtype=np.float32)
    total_layers = AutoModel.from_pretrained(model_path()).config.num_hidden_layers
    below = total_layers - recipe.layers
    say(f"lower {below} layers of {len(texts)} sentences (cached after the first run)")
    hidden, lens, vectors = hidden_states(texts, [e.id for e in examples], below,
                                          data_dir / ".cache" / f"hidden-below{below}.npz")
    raw = np.stack([cue_features(t, taxonomy) for t in texts])
    mean, scale = raw.mean(axis=0), raw.std(axis=0) + 1e-3
    cues = ((raw - mean) / scale).astype(np.float32)
    trainer = Trainer(hidden, lens, cues, y, theme_y, recipe)

    split = folds(docs, y, k, True)
    p, pt, g, frozen = (np.zeros(len(y)), np.zeros(theme_y.shape), np.zeros(len(y)), np.zeros(len(y)))
    x = np.hstack([vectors, cues])
    for i, (tr, te) in enumerate(split):
        say(f"fold {i + 1} of {k}: training on {len(tr)} sentences")
        p[te], pt[te] = trainer.predict(trainer.fit(tr), te)
        g[te] = _logreg(_sparse_ngrams([texts[j] for j in tr]), y[tr], 0.1).predict_proba(
            _sparse_ngrams([texts[j] for j in te]))[:, 1]
        frozen[te] = _logreg(x[tr], y[tr], 1.0).predict_proba(x[te])[:, 1]

    r = np.array([not d.startswith(HANDWRITTEN) for d in docs], dtype=bool)
    ry, rt, rp, rpt, rg = y[r], theme_y[r], p[r], pt[r], g[r]
    threshold = best_threshold(ry, rp, THRESHOLD_TOLERANCE)
    theme_threshold = best_theme_threshold(ry, rt, rpt)
    gate_t = gate_threshold(ry, rp, rg, best_threshold(ry, rp))
    metrics = {"grouped_by_document": score(ry, rp * (rg >= gate_t), rt, rpt, threshold, theme_threshold, ids),
               "grouped_by_document_no_gate": {"barrier": barrier_figures(ry, rp)},
               "frozen_same_folds_no_gate": {"barrier": barrier_figures(ry, frozen[r])}}
    metrics["grouped_by_document"]["barrier"]["ap"] = average_precision(ry, rp * (rg >= gate_t))
    gate_pass = float(np.mean(rg >= gate_t))

    say(f"final fit on all {len(y)} sentences")
    net = trainer.fit(np.arange(len(y)))
    layers = {f"{i}.{name}": t.detach().numpy().astype(np.float16)
              for i, layer in enumerate(net.layers) for name, t in layer.state_dict().items()}
    model = TunedModel(
        ids, cue_feature_names(taxonomy), mean.astype(np.float32), scale.astype(np.float32), layers, below,
        net.head.weight.detach().numpy().astype(np.float32), net.head.bias.detach().numpy().astype(np.float32),
        threshold, theme_threshold, round(gate_t, 4), MAX_TOKENS, file_sha256(Path(model_path()) / "model.safetensors"),
        taxonomy.key,
        {"examples": len(examples), "barriers": int(y.sum()), "seed": recipe.seed, "folds": k,
         "layers": recipe.layers, "epochs": recipe.epochs, "lr": recipe.lr, "head_lr": recipe.head_lr,
         "theme_weight": recipe.theme_weight, "threads": threads, "gate_pass_rate": round(gate_pass, 3),
         "cv": metrics})
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    counts = {"sentences": len(examples), "barriers": int(y.sum()), "handwritten": int((~r).sum()),
              "themes": {t: int(theme_y[:, j].sum()) for j, t in enumerate(ids)}}
    result = {"data": counts, "threshold": threshold, "theme_threshold": theme_threshold, "gate_weight": 0.0,
              "gate_threshold": round(gate_t, 4), "gate_pass_rate": round(gate_pass, 3), "cv": metrics,
              "model": str(out), "recipe": {"layers": recipe.layers, "epochs": recipe.epochs, "lr": recipe.lr,
                                            "head_lr": recipe.head_lr, "seed": recipe.seed, "max_tokens": MAX_TOKENS}}
    (data_dir / "metrics_tuned.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if report is not None:
        report.write(format_metrics(result) + "\n")
        for name in ("grouped_by_document_no_gate", "frozen_same_folds_no_gate"):
            b = metrics[name]["barrier"]
            report.write(f"{name.replace('_', ' ')}: barrier P {b['precision']:.3f} R {b['recall']:.3f} "
                         f"F1 {b['f1']:.3f} AP {b['ap']:.3f} (threshold {b['threshold']})\n")
    return result


__all__ = ["train_tuned", "LAYERS"]

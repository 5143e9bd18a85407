"""Does a sentence's barrier verdict depend on the sentences batched with it?

    python -m bench.barrier_batch_stability [--n 1200]

ONNX Runtime's dynamic int8 quantisation picks one activation scale per tensor, so every
sentence in a batch shares it: a long or unusual neighbour moves the others' scores a little.
This runs the tuned barrier model (``nlp/barrier_onnx.py``) over the first ``--n`` labelled
sentences at batch sizes 32 (as ingest), 8 and 1, and at 32 in a shuffled order, and reports
how far the probabilities move and how many verdicts cross the threshold, with the CPU seconds
of each (one thread). Batch size 1 is the only setting whose verdicts do not depend on the
document around a sentence.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from nlp.barrier_model import cue_features
from nlp.barrier_onnx import BarrierEncoder
from nlp.barrier_training import DATA_DIR, load_examples
from nlp.barrier_tuned import load_tuned
from nlp.barriers import load_taxonomy
from nlp.embed import model_path
from nlp.sentence_quality import is_prose


def probabilities(encoder, model, texts, cues, batch_size: int) -> tuple[np.ndarray, float]:
    t0 = time.process_time()
    _, tuned = encoder.encode(texts, batch_size=batch_size, threads=1, keep=lambda rows, t: np.zeros(len(rows), bool))
    return np.array([p.probability for p in model.predict(tuned, cues)]), time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1200, help="labelled sentences to read")
    n = ap.parse_args().n
    taxonomy, model = load_taxonomy(), load_tuned()
    texts = [e.text for e in load_examples(DATA_DIR, taxonomy) if is_prose(e.text)][:n]
    cues = np.stack([cue_features(t, taxonomy) for t in texts])
    encoder = BarrierEncoder(model_path(), model)
    probabilities(encoder, model, texts[:8], cues[:8], 8)  # sessions loaded before timing
    runs = {bs: probabilities(encoder, model, texts, cues, bs) for bs in (32, 8, 1)}
    perm = np.random.default_rng(14).permutation(len(texts))
    shuffled, cpu = probabilities(encoder, model, [texts[i] for i in perm], cues[perm], 32)
    runs["32, shuffled"] = (np.empty(len(texts)), cpu)
    runs["32, shuffled"][0][perm] = shuffled
    ref = runs[32][0] >= model.threshold
    print(f"{len(texts)} sentences, threshold {model.threshold}, {int(ref.sum())} barriers at batch 32 "
          f"({runs[32][1]:.1f} CPU s)")
    for name, (p, cpu) in runs.items():
        if name == 32:
            continue
        d = np.abs(p - runs[32][0])
        print(f"batch {name}: mean |dp| {d.mean():.4f}, 95th percentile {np.percentile(d, 95):.4f}, max {d.max():.3f}, "
              f"verdicts changed {int(np.sum((p >= model.threshold) != ref))}, {cpu:.1f} CPU s")


if __name__ == "__main__":
    main()

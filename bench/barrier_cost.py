"""What the barrier classifier costs per 1,000 sentences, embedding excluded.

    python -m bench.barrier_cost [--repeat 3]

The pipeline embeds the sentences the gate passes (and caches those vectors for passages and
findings), so the classifier's own cost is the rest: the sentence-quality filter, the n-gram
gate, the cue features and the two linear heads. Timed on the training pool's real sentences
with stand-in vectors of the embedder's width; best of ``--repeat`` runs, one process, CPU time.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from nlp.barrier_model import load_model
from nlp.barrier_training import DATA_DIR, read_jsonl
from nlp.barriers import load_taxonomy
from nlp.sentence_quality import is_prose


def measure(texts: list[str], repeat: int = 3) -> dict:
    """Milliseconds of CPU per 1,000 sentences for each step, best of ``repeat``."""
    model, taxonomy = load_model(), load_taxonomy()
    dim = len(model.barrier_w) - len(model.cue_mean)
    best: dict[str, float] = {}
    for _ in range(repeat):
        t0 = time.process_time()
        prose = [t for t in texts if is_prose(t)]
        t1 = time.process_time()
        gate = model.gate(prose)
        t2 = time.process_time()
        chosen = [t for t, g in zip(prose, gate) if g >= model.gate_threshold]
        cues = model.cues(chosen, taxonomy)
        t3 = time.process_time()
        vectors = np.random.default_rng(0).standard_normal((len(chosen), dim)).astype(np.float32) * 0.05
        t4 = time.process_time()
        model.predict(vectors, cues, gate[gate >= model.gate_threshold])
        t5 = time.process_time()
        row = {"quality_filter": t1 - t0, "gate": t2 - t1, "cue_features": t3 - t2, "heads": t5 - t4}
        for k, v in row.items():
            best[k] = min(best.get(k, v), v)
    n = len(texts)
    out = {k: round(1000 * v * 1000 / n, 1) for k, v in best.items()}
    out["total"] = round(sum(out.values()), 1)
    return {"sentences": n, "ms_per_1000_sentences": out}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    texts = [r["text"] for f in sorted((DATA_DIR / "pool").glob("shard-*.jsonl")) for r in read_jsonl(f)
             if "text" in r]
    print(json.dumps(measure(texts, args.repeat), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""CPU time of the barrier stage on a corpus, frozen vs tuned model, and the sentences each finds.

    python -m bench.barrier_stage_cost frozen|tuned [PATH ...] [--out FILE.json]

Extraction runs on every document with the onnx-int8 embedder and no vector cache (as a first
ingest), in one process, models loaded first; ``BarrierComponent.__call__`` is timed (process
CPU and wall). The barrier sentences per document go to ``--out`` so two runs can be compared
(README "Fourth round (issue 14)": gained and lost sentences read against the labelling guide).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", choices=("frozen", "tuned"))
    ap.add_argument("paths", nargs="*", default=["../shared/corpus"])
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()

    from kb.index.ingest import expand_paths
    from nlp.barrier_tuned import configure_barriers
    from nlp.embed import shared_embedder
    from nlp.extract import extract
    from nlp.pipeline import BarrierComponent, build_pipeline
    from nlp.text import load_document

    configure_barriers(a.model)
    embedder = shared_embedder("onnx-int8")
    embedder.encode(["warm up"])
    nlp = build_pipeline()
    component = nlp.get_pipe("refrain_barriers")
    if component.tuned is not None:
        component.tuned.encoder  # made or loaded outside the timing
    spent = {"cpu": 0.0, "wall": 0.0}
    call = BarrierComponent.__call__

    def timed(self, doc):
        c, w = time.process_time(), time.perf_counter()
        try:
            return call(self, doc)
        finally:
            spent["cpu"] += time.process_time() - c
            spent["wall"] += time.perf_counter() - w

    BarrierComponent.__call__ = timed
    found, started = {}, time.process_time()
    for path in expand_paths(a.paths):
        try:
            doc = load_document(path)
        except Exception as exc:  # reported and skipped, as ingest does
            print(f"skipped {path}: {exc}", file=sys.stderr)
            continue
        found[str(path)] = [[b.sentence, b.theme, b.themes, b.score] for b in extract(doc, embedder=embedder, nlp=nlp).barriers]
    print(json.dumps({"model": "tuned" if component.tuned is not None else "frozen",
                      "barrier_cpu_s": round(spent["cpu"], 1), "barrier_wall_s": round(spent["wall"], 1),
                      "extraction_cpu_s": round(time.process_time() - started, 1), "documents": len(found),
                      "barriers": sum(len(v) for v in found.values())}))
    if a.out:
        a.out.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

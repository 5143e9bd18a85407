"""Barrier figures on dev gold for a range of thresholds, from one pass of the model.

    python -m bench.barrier_dev ../shared/gold/dev.json [--model nlp/data/barrier_model.npz]

``kb eval`` scores the pipeline at its one threshold; this embeds every readable sentence
of the gold documents once and scores the barrier head at several thresholds, with the
same matching rules (``nlp.evaluate.score_document``). It is for looking, not tuning: the
threshold is chosen by cross-validation on the training set (``kb train-barriers``).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from nlp.barrier_model import load_model
from nlp.barriers import load_taxonomy
from nlp.evaluate import Tallies, score_document
from nlp.extract import default_pipeline
from nlp.layout import build_layout
from nlp.models import Barrier, ExtractedDocument
from nlp.pipeline import doc_layout
from nlp.sentence_quality import is_prose
from nlp.text import load_document


def sentence_table(entry: dict, root: Path, model, taxonomy, embedder) -> list[tuple]:
    """(text, page, gate, probability, themes) of every readable sentence of a gold document."""
    src = load_document(root / entry["doc"])
    layout = build_layout(src)
    nlp = default_pipeline()
    doc = nlp.make_doc(layout.text)
    doc._.refrain_layout = layout
    comp = nlp.get_pipe("refrain_barriers")
    sents = [s for s in comp._sentences(doc) if is_prose(layout.text[s.start:s.end])]
    texts = [layout.text[s.start:s.end] for s in sents]
    cues = model.cues(texts, taxonomy)
    gate = model.gate(texts)
    preds = model.predict(embedder.encode(texts), cues)
    doc_layout(doc)
    return [(t, layout.page_at(s.start) if src.paged else None, float(g), p.probability, p.themes)
            for t, s, g, p in zip(texts, sents, gate, preds)], src.paged


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("gold", type=Path)
    ap.add_argument("--model")
    args = ap.parse_args(argv)
    from nlp.embed import shared_embedder

    model = load_model(args.model)
    taxonomy = load_taxonomy()
    gold = json.loads(args.gold.read_text())
    root = args.gold.resolve().parent.parent
    tables = []
    for entry in gold["documents"]:
        kinds = set(entry.get("exhaustive", [])) | set(entry.get("best_effort", []))
        if "barriers" in kinds:
            tables.append((entry, *sentence_table(entry, root, model, taxonomy, shared_embedder())))
    print(f"model threshold {model.threshold}, gate {model.gate_threshold}")
    print(f"{'t':>5} {'gate':>5} | {'exhaustive P':>12} {'R':>6} {'themed R':>8} | {'Lords R':>7} {'P':>6} | {'all R':>6}")
    grid = [(round(float(t), 2), model.gate_threshold) for t in np.arange(0.3, 0.91, 0.05)]
    grid += [(model.threshold, g) for g in (0.3, 0.35, 0.4, 0.45)]
    for t, gate_t in grid:
        agg: dict[str, list[int]] = {}
        for entry, rows, paged in tables:
            ex = ExtractedDocument(None, None, 0)
            ex.barriers = [Barrier(theme=th[0], sentence=txt, page=pg, score=p, themes=th[:3])
                           for txt, pg, g, p, th in rows if p >= t and g >= gate_t]
            tallies = Tallies()
            out = score_document(entry, ex, paged, tallies)
            s = out["types"]["barriers"]
            key = "lords" if "lords" in entry["doc"] else ("seeds" if "seeds" in entry["doc"] else "effort")
            a = agg.setdefault(key, [0, 0, 0, 0])
            a[0] += s.tp
            a[1] += s.fp
            a[2] += s.gold
            a[3] += tallies.themed_tp
        ex_tp = agg["lords"][0] + agg["seeds"][0]
        ex_fp = agg["lords"][1] + agg["seeds"][1]
        ex_gold = agg["lords"][2] + agg["seeds"][2]
        ex_themed = agg["lords"][3] + agg["seeds"][3]
        lp = agg["lords"][0] / max(1, agg["lords"][0] + agg["lords"][1])
        all_r = sum(a[0] for a in agg.values()) / max(1, sum(a[2] for a in agg.values()))
        print(f"{t:5.2f} {gate_t:5.2f} | {ex_tp / max(1, ex_tp + ex_fp):12.3f} {ex_tp / max(1, ex_gold):6.3f} "
              f"{ex_themed / max(1, ex_gold):8.3f} | {agg['lords'][0] / max(1, agg['lords'][2]):7.3f} {lp:6.3f} | "
              f"{all_r:6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

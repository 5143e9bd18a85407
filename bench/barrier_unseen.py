"""Barrier figures on gold documents the classifier has never read a sentence of.

    python -m bench.barrier_unseen ../shared/gold/dev.json [--hold-out corpus/committees/lords-]
                                   [--out /tmp/barrier-unseen]

Why: the training pool draws sentences from every corpus document except the gold *pages*,
so the shipped model has read other pages of a gold document (the Lords committee report)
and ``kb eval`` flatters it there. Held-out judges read documents never seen at all. This
trains both models (``kb train-barriers`` and ``--tuned``, the shipped recipe and seed) on
the labelled sentences minus every document named by ``--hold-out`` (default: each gold
document that has sentences in the pool), writes them to ``--out`` and scores the gold file
with them (``KB_BARRIER_DIR``'s mechanism). About 12 CPU minutes.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from nlp.barrier_training import DATA_DIR, read_jsonl


def held_out_docs(gold: dict, data_dir: Path = DATA_DIR) -> list[str]:
    """The gold documents that the labelled pool has sentences from."""
    pooled = {r.get("doc", "") for f in (data_dir / "pool").glob("*.jsonl") for r in read_jsonl(f)}
    return sorted(d["doc"] for d in gold["documents"] if d["doc"] in pooled)


def without(data_dir: Path, out: Path, prefixes: list[str]) -> int:
    """A copy of the labelled data in ``out`` with no sentence from a document starting with
    any of ``prefixes``; the number of sentences left out."""
    (out / "pool").mkdir(parents=True, exist_ok=True)
    shutil.copytree(data_dir / "labelled", out / "labelled", dirs_exist_ok=True)
    dropped = 0
    for f in sorted((data_dir / "pool").glob("*.jsonl")):
        rows = read_jsonl(f)
        kept = [r for r in rows if not any(r.get("doc", "").startswith(p) for p in prefixes)]
        dropped += len(rows) - len(kept)
        (out / "pool" / f.name).write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
    return dropped


def barrier_rows(report: dict) -> dict:
    """Per gold document: barriers tp / fp / fn and how many matched ones have a theme gold rejects."""
    rows = {}
    for d in report["documents"]:
        b = d["types"].get("barriers")
        if b:
            wrong = sum(1 for a in d["attribute_errors"] if a.get("type") == "barriers")
            rows[d["doc"]] = {"tp": b["tp"], "fp": b["fp"], "fn": b["fn"], "theme_wrong": wrong,
                              "precision_reliable": b.get("precision_reliable")}
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gold", type=Path)
    ap.add_argument("--hold-out", action="append", help="document path prefix to leave out (repeatable)")
    ap.add_argument("--out", type=Path, default=Path("barrier-unseen"))
    ap.add_argument("--root", type=Path, help="folder the gold paths are relative to (default: gold's parent's parent)")
    args = ap.parse_args()

    from nlp.barrier_training import train
    from nlp.barrier_tuned import configure_barriers
    from nlp.barrier_tuned_training import train_tuned
    from nlp.evaluate import evaluate, format_report

    gold = json.loads(args.gold.read_text(encoding="utf-8"))
    prefixes = args.hold_out or held_out_docs(gold)
    data = args.out / "data"
    dropped = without(DATA_DIR, data, prefixes)
    print(f"left out {dropped} labelled sentences from {prefixes}", flush=True)
    train(data, args.out / "barrier_model.npz", report=None)
    train_tuned(data, args.out / "barrier_tuned.npz", report=None)
    configure_barriers("tuned", args.out)
    report = evaluate(args.gold, args.root or args.gold.resolve().parent.parent)
    result = {"held_out": prefixes, "sentences_left_out": dropped,
              "barriers_themed_exhaustive": report["barriers_themed_exhaustive"],
              "documents": barrier_rows(report)}
    (args.out / "unseen.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(format_report(report))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

"""Does the sentence before help the tuned barrier model? A grouped-CV experiment (issue 14).

    python -m bench.barrier_context [--context 48] [--folds 0,1,2,3,4] [--out barrier_context.json]

The labelled pool holds sentences without their neighbours, so context was never tried. Here
each pool sentence's previous sentence is found again by splitting its document the way the
pool was built (``bench.barrier_pool.doc_sentences``; a sentence's id is the hash of its
document and text), and the tuned recipe (``nlp/barrier_finetune.py``, two layers, seed 14)
reads the pair "[CLS] last N word pieces of the previous sentence [SEP] sentence [SEP]"
(segment ids 0 / 1): attention sees both, the pooled vector covers the sentence's segment
only. Handwritten cases have no neighbours and are read alone. The folds, scoring and
threshold rule are ``kb train-barriers``'s; the figures are compared with
``metrics_tuned.json`` (the same recipe without context, same folds).
One thread: about 140 CPU seconds a fold (the pairs are 1.6 times as long).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from bench.barrier_pool import doc_sentences
from nlp.barrier_finetune import Recipe, Trainer, make_top
from nlp.barrier_model import cue_features
from nlp.barrier_training import (DATA_DIR, HANDWRITTEN, THRESHOLD_TOLERANCE, best_threshold, folds,
                                  load_examples, prf)
from nlp.barriers import load_taxonomy
from nlp.segment import without_footnote_mark
from nlp.sentence_quality import is_prose
from nlp.text import DocumentError

ROOTS = {"corpus": Path(__file__).resolve().parents[1].parent / "shared", "samples": Path(__file__).resolve().parents[1]}
CLS, SEP = 101, 102


def previous_sentences(examples, taxonomy) -> dict[str, str]:
    """Pool id -> the sentence before it in its document ("" for a document's first)."""
    # By text, as the splitter gives it today: the pool was drawn when a footnote number glued
    # to a sentence's end ('research.55') was still part of it (ids hash that text).
    wanted: dict[str, dict[str, str]] = {}
    for e in examples:
        if not e.doc.startswith(HANDWRITTEN):
            wanted.setdefault(e.doc, {}).setdefault(without_footnote_mark(e.text), e.id)
    found: dict[str, str] = {}
    for name, ids in sorted(wanted.items()):
        try:
            sentences = doc_sentences(ROOTS[name.split("/")[0]] / name, taxonomy)
        except (DocumentError, KeyError, OSError):
            continue
        last = ""
        for text, _page in sentences:
            sid = ids.get(text)
            if sid is not None and sid not in found:
                found[sid] = last
            last = text
    return found


def pair_states(texts, contexts, context_pieces: int, cache: Path):
    """Layer-4 input of each (context, sentence) pair, token counts and the sentence segment's mask."""
    if cache.is_file():
        with np.load(cache) as z:
            return z["hidden"], z["lens"], z["pmask"]
    import torch
    from transformers import AutoModel, AutoTokenizer

    from nlp.embed import model_path

    tok = AutoTokenizer.from_pretrained(model_path())
    base = AutoModel.from_pretrained(model_path(), attn_implementation="eager").eval()
    rows = []
    for c, t in zip(contexts, texts):
        s = tok(t, add_special_tokens=False)["input_ids"][:94]
        p = tok(c, add_special_tokens=False)["input_ids"][-context_pieces:] if c else []
        ids = [CLS] + p + [SEP] + s + [SEP] if p else [CLS] + s + [SEP]
        rows.append((ids, [0] * (len(p) + 2) + [1] * (len(s) + 1) if p else [0] * len(ids)))
    lens = np.array([len(r[0]) for r in rows])
    width = int(lens.max())
    pmask = np.zeros((len(rows), width), np.float32)
    hidden = np.zeros((len(rows), width, 384), np.float16)
    for i, (_, types) in enumerate(rows):
        types = np.array(types)
        pmask[i, :len(types)] = (types == 1) if types.any() else 1.0
    order = np.argsort(lens)
    with torch.inference_mode():
        for b in range(0, len(rows), 64):
            idx = order[b:b + 64]
            n = int(lens[idx].max())
            ids, types, att = (torch.zeros(len(idx), n, dtype=torch.long) for _ in range(3))
            for j, i in enumerate(idx):
                ids[j, :lens[i]], types[j, :lens[i]], att[j, :lens[i]] = (
                    torch.tensor(rows[i][0]), torch.tensor(rows[i][1]), 1)
            out = base(input_ids=ids, token_type_ids=types, attention_mask=att, output_hidden_states=True)
            hidden[idx, :n] = out.hidden_states[4].numpy()
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, hidden=hidden, lens=lens, pmask=pmask)
    return hidden, lens, pmask


class PairTrainer(Trainer):
    """The recipe's trainer, attending over the pair and pooling over the sentence alone."""

    def __init__(self, *args, pmask: np.ndarray, **kw):
        super().__init__(*args, **kw)
        self.pmask = pmask

    def network(self):
        return pair_top(self.recipe.layers, self.cues.shape[1], self.theme_y.shape[1])

    def tensors(self, b):
        import torch

        n = int(self.lens[b].max())
        mask = (np.arange(n)[None, :] < self.lens[b][:, None]).astype(np.float32)
        return (torch.tensor(self.hidden[b, :n].astype(np.float32)), torch.tensor(mask),
                torch.tensor(self.pmask[b, :n]), torch.tensor(self.cues[b]))


def pair_top(n_layers: int, n_cues: int, n_themes: int):
    """``make_top``'s module with forward(hidden, attention mask, pooling mask, cues)."""
    import torch

    net = make_top(n_layers, n_cues, n_themes)

    def forward(h, mask, pmask, c):
        ext = (1.0 - mask[:, None, None, :]) * -1e4
        for layer in net.layers:
            o = layer(h, attention_mask=ext)
            h = o[0] if isinstance(o, tuple) else o
        v = (h * pmask[..., None]).sum(1) / pmask.sum(1, keepdim=True)
        return net.head(torch.cat([10 * v / v.norm(dim=1, keepdim=True), c], 1))

    net.forward = forward
    return net


def figures(y: np.ndarray, p: np.ndarray) -> dict:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    t = best_threshold(y, p, THRESHOLD_TOLERANCE)
    k = p >= t
    best = max(prf(np.sum((p >= s) & (y == 1)), np.sum((p >= s) & (y == 0)), np.sum((p < s) & (y == 1)))["f1"]
               for s in np.arange(0.2, 0.91, 0.025))
    pr, rc, _ = precision_recall_curve(y, p)
    return {**prf(np.sum(k & (y == 1)), np.sum(k & (y == 0)), np.sum(~k & (y == 1))), "threshold": t,
            "best_f1": round(float(best), 3), "ap": round(float(average_precision_score(y, p)), 3),
            "recall_at_precision_0.7": round(float(rc[pr >= 0.7].max()), 3)}


def run(context_pieces: int, fold_ids: list[int], out: Path) -> dict:
    import torch

    torch.set_num_threads(1)
    tax = load_taxonomy()
    ex = [e for e in load_examples(DATA_DIR, tax) if is_prose(e.text)]
    before = previous_sentences(ex, tax)
    texts, docs = [e.text for e in ex], [e.doc for e in ex]
    y = np.array([int(e.barrier) for e in ex])
    ty = np.array([[int(t in e.themes) for t in tax.ids] for e in ex], dtype=np.float32)
    raw = np.stack([cue_features(t, tax) for t in texts])
    cues = ((raw - raw.mean(0)) / (raw.std(0) + 1e-3)).astype(np.float32)
    hidden, lens, pmask = pair_states(texts, [before.get(e.id, "") for e in ex], context_pieces,
                                      DATA_DIR / ".cache" / f"pairs-below4-{context_pieces}.npz")
    trainer = PairTrainer(hidden, lens, cues, y, ty, Recipe(), pmask=pmask)
    split = folds(docs, y, 5, True)
    p = np.full(len(y), np.nan)
    for k in fold_ids:
        t0 = time.process_time()
        tr, te = split[k]
        p[te] = trainer.predict(trainer.fit(tr), te)[0]
        print(f"fold {k}: {time.process_time() - t0:.0f} CPU s", flush=True)
    real = np.array([not d.startswith(HANDWRITTEN) for d in docs]) & ~np.isnan(p)
    in_fold = {k: np.isin(np.arange(len(y)), split[k][1]) & real for k in fold_ids}
    result = {"fold_ap": {k: figures(y[m], p[m])["ap"] for k, m in in_fold.items()},"context_pieces": context_pieces, "with_context": int(sum(bool(before.get(e.id)) for e in ex)),
              "sentences": len(ex), "folds": fold_ids, "pairs": figures(y[real], p[real]),
              "p": {ex[i].id: round(float(p[i]), 4) for i in np.where(real)[0]}}
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--context", type=int, default=48, help="word pieces of the previous sentence to read")
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--out", type=Path, default=Path("barrier_context.json"))
    a = ap.parse_args()
    r = run(a.context, [int(f) for f in a.folds.split(",")], a.out)
    print(f"{r['with_context']} of {r['sentences']} sentences have a previous sentence")
    print("with the previous sentence:", r["pairs"])
    base = json.loads((DATA_DIR / "metrics_tuned.json").read_text())["cv"]["grouped_by_document_no_gate"]["barrier"]
    print("without (metrics_tuned.json):", base)


if __name__ == "__main__":
    main()

"""The recipe that fine-tunes MiniLM's top layers for barrier sentences (torch; training only).

Why: a linear model over frozen all-MiniLM-L6-v2 vectors does not separate "the indicator
counts delayed discharges" from "discharges were delayed"; training the top transformer
layers does (grouped-CV F1 0.675 -> 0.738 with two, README "Fourth round (issue 14)"). Two,
not more: on a lent GPU (``bench/barrier_layer_sweep.py``, README "Sixth round") four or six
tuned layers gave a higher average precision (0.811 / 0.816 against 0.794, mean of three
seeds), but trained here with four the F1 stayed 0.730 (two: 0.731) and dev gold lost two
barriers, while each barrier would cost two more layers at ingest. The recipe, as
measured by ``bench/barrier_finetune.py``: the top ``layers`` layers and a linear head over
their mean-pooled (normalised, x10) output and the standardised cue features; BCE on barrier /
not (positives up-weighted by the square root of the class ratio) plus 0.5 x BCE on the themes
of the barriers; max 96 tokens; AdamW (layers 5e-5, head 1e-3, weight decay 0.01) with linear
warm-up (10%) and decay; four epochs; seed 14; gradient norm clipped at 1.

The layers below are frozen, so their output is computed once for the labelled set and
cached beside the data (``.cache/hidden-below4.npz``): each epoch runs only the tuned layers.
Used by ``kb train-barriers --tuned`` (``nlp/barrier_tuned_training.py``) and the bench.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEED = 14
MAX_TOKENS = 96  # 99th percentile of the labelled sentences; 1.3% are cut
BATCH = 16
LAYERS = 2


@dataclass
class Recipe:
    layers: int = LAYERS
    epochs: int = 4
    lr: float = 5e-5
    head_lr: float = 1e-3
    theme_weight: float = 0.5
    theme_balance: bool = False  # weight each theme's positives by its negatives / positives
    seed: int = SEED


def hidden_states(texts: list[str], ids: list[str], below: int, cache: Path | None):
    """Input to layer ``below`` (the first tuned one) for every text (fp16), the token counts,
    and the full frozen model's normalised mean-pooled vectors (fp32, the frozen baseline's input)."""
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            if z["ids"].tolist() == ids:
                return z["hidden"], z["lens"], z["vectors"]
    import torch
    from transformers import AutoModel, AutoTokenizer

    from nlp.embed import model_path

    tok = AutoTokenizer.from_pretrained(model_path())
    base = AutoModel.from_pretrained(model_path(), attn_implementation="eager").eval()
    lens = np.array([len(i) for i in tok(texts, truncation=True, max_length=MAX_TOKENS)["input_ids"]])
    hidden = np.zeros((len(texts), MAX_TOKENS, base.config.hidden_size), np.float16)
    vectors = np.zeros((len(texts), base.config.hidden_size), np.float32)
    order = np.argsort(lens)
    with torch.inference_mode():
        for b in range(0, len(texts), 64):
            idx = order[b:b + 64]
            batch = tok([texts[i] for i in idx], truncation=True, max_length=MAX_TOKENS, padding=True,
                        return_tensors="pt")
            out = base(**batch, output_hidden_states=True)
            hidden[idx, :batch["input_ids"].shape[1]] = out.hidden_states[below].numpy()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            v = (out.last_hidden_state * mask).sum(1) / mask.sum(1)
            vectors[idx] = (v / v.norm(dim=1, keepdim=True)).numpy()
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, ids=np.array(ids), hidden=hidden, lens=lens, vectors=vectors)
    return hidden, lens, vectors


def make_top(n_layers: int, n_cues: int, n_themes: int):
    """A fresh copy of MiniLM's top ``n_layers`` layers plus the linear head (torch module)."""
    import torch
    from transformers import AutoModel

    from nlp.embed import model_path

    base = AutoModel.from_pretrained(model_path(), attn_implementation="eager")
    total = base.config.num_hidden_layers

    class Top(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList(copy.deepcopy(base.encoder.layer[i])
                                              for i in range(total - n_layers, total))
            self.head = torch.nn.Linear(base.config.hidden_size + n_cues, 1 + n_themes)

        def pooled(self, h, mask):
            """Mean over the mask of the tuned layers' output (what the ONNX model returns)."""
            ext = (1.0 - mask[:, None, None, :]) * -1e4
            for layer in self.layers:
                o = layer(h, attention_mask=ext)
                h = o[0] if isinstance(o, tuple) else o
            return (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)

        def forward(self, h, mask, c):
            v = self.pooled(h, mask)
            return self.head(torch.cat([10 * v / v.norm(dim=1, keepdim=True), c], 1))

    return Top()


class Trainer:
    """Fits and scores the top layers on cached hidden states (one instance per labelled set)."""

    def __init__(self, hidden: np.ndarray, lens: np.ndarray, cues: np.ndarray, y: np.ndarray,
                 theme_y: np.ndarray, recipe: Recipe = Recipe()):
        self.hidden, self.lens, self.cues, self.y, self.theme_y = hidden, lens, cues.astype(np.float32), y, theme_y
        self.recipe = recipe

    def network(self):
        """A fresh module to train (a subclass may read its inputs differently)."""
        return make_top(self.recipe.layers, self.cues.shape[1], self.theme_y.shape[1])

    def batches(self, idx, rng=None):
        """Shuffled batches of similar length (little padding), or length-sorted for scoring."""
        lens = self.lens
        idx = np.asarray(idx)
        if rng is None:
            idx = idx[np.argsort(lens[idx])]
            return [idx[i:i + 64] for i in range(0, len(idx), 64)]
        idx = idx[rng.permutation(len(idx))]
        idx = np.concatenate([c[np.argsort(lens[c])] for c in np.array_split(idx, max(1, len(idx) // (BATCH * 20)))])
        bs = [idx[i:i + BATCH] for i in range(0, len(idx), BATCH)]
        return [bs[j] for j in rng.permutation(len(bs))]

    def tensors(self, b):
        import torch

        n = int(min(self.lens[b].max(), MAX_TOKENS))
        mask = (np.arange(n)[None, :] < self.lens[b][:, None]).astype(np.float32)
        return torch.tensor(self.hidden[b, :n].astype(np.float32)), torch.tensor(mask), torch.tensor(self.cues[b])

    def fit(self, tr: np.ndarray, on_epoch=None):
        """The trained module (layers + head) on the rows ``tr``."""
        import torch

        r, y, ty = self.recipe, self.y, self.theme_y
        torch.manual_seed(r.seed)
        rng = np.random.default_rng(r.seed)
        net = self.network()
        opt = torch.optim.AdamW([{"params": net.layers.parameters(), "lr": r.lr},
                                 {"params": net.head.parameters(), "lr": r.head_lr}], weight_decay=0.01)
        total = len(self.batches(tr, np.random.default_rng(0))) * r.epochs
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, s / (0.1 * total)) * max(0.0, (total - s) / (0.9 * total)))
        pos_weight = torch.tensor(float(np.sqrt((y[tr] == 0).sum() / max(1, (y[tr] == 1).sum()))))
        themed = ty[tr][y[tr] == 1]
        theme_pos_weight = (torch.tensor(np.clip((len(themed) - themed.sum(0)) / np.maximum(themed.sum(0), 1), 1, 20),
                                         dtype=torch.float32) if r.theme_balance else None)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        for epoch in range(r.epochs):
            net.train()
            for b in self.batches(tr, rng):
                logits = net(*self.tensors(b))
                yb = torch.tensor(y[b], dtype=torch.float32)
                loss = bce(logits[:, 0], yb, pos_weight=pos_weight)
                if yb.sum() > 0:
                    pos = yb.bool()
                    loss = loss + r.theme_weight * bce(logits[pos, 1:], torch.tensor(ty[b], dtype=torch.float32)[pos],
                                                       pos_weight=theme_pos_weight)
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()
                sched.step()
            if on_epoch is not None:
                on_epoch(epoch, net)
        return net.eval()

    def predict(self, net, te: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Barrier and theme probabilities of the rows ``te``, in their order."""
        import torch

        net.eval()
        p = np.zeros(len(self.y))
        pt = np.zeros(self.theme_y.shape)
        with torch.inference_mode():
            for b in self.batches(te):
                s = torch.sigmoid(net(*self.tensors(b))).numpy()
                p[b], pt[b] = s[:, 0], s[:, 1:]
        return p[te], pt[te]

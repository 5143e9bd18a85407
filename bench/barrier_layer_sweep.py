"""How many of MiniLM's layers should the barrier fine-tune train? A sweep over grouped folds,
made to run on a lent GPU (issue 14, sixth round).

    python -m bench.barrier_layer_sweep prepare DIR          # here: data, tokens, fp16 weights, this file
    python3 DIR/barrier_layer_sweep.py run CONFIGS.json      # there (torch, numpy, safetensors only)
    python -m bench.barrier_layer_sweep score SWEEP.json...  # here: the figures kb train-barriers reports

Why a separate script: on the 2-core machine one configuration (five folds, four epochs) costs
10-20 CPU minutes, so comparing a dozen would take hours; on a GPU it takes under a minute.
``prepare`` writes what the run needs and nothing else (the labelled real and handwritten
sentences as word-piece ids, the standardised cue features, labels, themes, the grouped folds
of ``kb train-barriers``, and the packaged MiniLM weights in fp16, 45 MB, so the bundle travels
under 64 MB). ``run`` is self-contained: MiniLM's embeddings and layers in plain torch (checked
against transformers' BertModel on CPU: cosine 1.0000), the recipe of ``nlp/barrier_finetune.py``
with the bottom ``6 - layers`` layers frozen, and it writes each configuration's out-of-fold
probabilities. ``score`` applies the training rule (one threshold from all out-of-fold scores,
the lowest within 0.01 of the best F1) to the real documents' sentences.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time

import numpy as np

H, HEADS = 384, 12
BASE = dict(layers=2, lr=5e-5, head_lr=1e-3, epochs=4, bs=16, tw=0.5, maxtok=96, seed=14)


def prepare(out_dir: str) -> None:
    import shutil
    from pathlib import Path

    from safetensors.torch import load_file, save_file
    from transformers import AutoTokenizer

    from nlp.barrier_model import cue_features
    from nlp.barrier_training import DATA_DIR, HANDWRITTEN, folds, load_examples
    from nlp.barriers import load_taxonomy
    from nlp.embed import model_path
    from nlp.sentence_quality import is_prose

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tax = load_taxonomy()
    ex = [e for e in load_examples(DATA_DIR, tax) if is_prose(e.text)]
    texts, docs = [e.text for e in ex], [e.doc for e in ex]
    y = np.array([int(e.barrier) for e in ex])
    raw = np.stack([cue_features(t, tax) for t in texts])
    enc = AutoTokenizer.from_pretrained(model_path())(texts, truncation=True, max_length=128)["input_ids"]
    ids = np.zeros((len(texts), 128), np.int32)
    for i, t in enumerate(enc):
        ids[i, :len(t)] = t
    fold = np.full(len(y), -1)
    for k, (_, te) in enumerate(folds(docs, y, 5, True)):
        fold[te] = k
    np.savez_compressed(out / "data.npz", ids=ids, lens=np.array([len(t) for t in enc]), y=y,
                        ty=np.array([[int(t in e.themes) for t in tax.ids] for e in ex], dtype=np.float32),
                        cues=((raw - raw.mean(0)) / (raw.std(0) + 1e-3)).astype(np.float32), fold=fold,
                        real=np.array([not d.startswith(HANDWRITTEN) for d in docs]))
    (out / "ids.json").write_text(json.dumps([e.id for e in ex]))
    weights = load_file(str(Path(model_path()) / "model.safetensors"))
    save_file({k: v.half().contiguous() for k, v in weights.items()}, str(out / "model.safetensors"))
    shutil.copy(__file__, out / "barrier_layer_sweep.py")


class Bundle:
    """The prepared data and weights (what ``run`` reads)."""

    def __init__(self, here: str, device):
        from safetensors.torch import load_file

        z = np.load(os.path.join(here, "data.npz"))
        self.ids, self.lens, self.y, self.ty = z["ids"], z["lens"], z["y"], z["ty"]
        self.cues, self.fold, self.real = z["cues"], z["fold"], z["real"]
        self.sd = {k: v.float() for k, v in load_file(os.path.join(here, "model.safetensors")).items()}
        self.device = device

    def batches(self, idx, rng, bs):
        """As ``nlp.barrier_finetune.Trainer.batches``: shuffled similar-length batches, or sorted."""
        idx = np.asarray(idx)
        if rng is None:
            idx = idx[np.argsort(self.lens[idx])]
            return [idx[i:i + 64] for i in range(0, len(idx), 64)]
        idx = idx[rng.permutation(len(idx))]
        idx = np.concatenate([c[np.argsort(self.lens[c])] for c in np.array_split(idx, max(1, len(idx) // (bs * 20)))])
        b = [idx[i:i + bs] for i in range(0, len(idx), bs)]
        return [b[j] for j in rng.permutation(len(b))]

    def tensors(self, b, maxtok):
        import torch

        n = int(min(self.lens[b].max(), maxtok))
        ids = torch.tensor(self.ids[b, :n].astype(np.int64), device=self.device)
        ids[torch.tensor(self.lens[b] > n, device=self.device), n - 1] = 102  # [SEP], as the tokenizer cuts
        mask = torch.tensor((np.arange(n)[None, :] < self.lens[b][:, None]).astype(np.float32), device=self.device)
        return ids, mask, torch.tensor(self.cues[b], device=self.device)


def network(bundle: Bundle, tuned: int):
    import torch
    import torch.nn.functional as F

    sd = bundle.sd

    def copy_into(module, prefix):
        module.weight.data.copy_(sd[prefix + ".weight"])
        module.bias.data.copy_(sd[prefix + ".bias"])
        return module

    class Layer(torch.nn.Module):
        def __init__(self, i):
            super().__init__()
            p = f"encoder.layer.{i}."
            lin = lambda n: copy_into(torch.nn.Linear(*sd[p + n + ".weight"].shape[::-1]), p + n)  # noqa: E731
            self.q, self.k, self.v = lin("attention.self.query"), lin("attention.self.key"), lin("attention.self.value")
            self.o, self.i, self.out = lin("attention.output.dense"), lin("intermediate.dense"), lin("output.dense")
            self.ln1 = copy_into(torch.nn.LayerNorm(H, eps=1e-12), p + "attention.output.LayerNorm")
            self.ln2 = copy_into(torch.nn.LayerNorm(H, eps=1e-12), p + "output.LayerNorm")

        def forward(self, h, ext):
            b, t, _ = h.shape
            split = lambda x: x.view(b, t, HEADS, H // HEADS).transpose(1, 2)  # noqa: E731
            a = torch.softmax(split(self.q(h)) @ split(self.k(h)).transpose(-1, -2) / math.sqrt(H // HEADS) + ext, -1)
            h = self.ln1(self.o((a @ split(self.v(h))).transpose(1, 2).reshape(b, t, H)) + h)
            return self.ln2(self.out(F.gelu(self.i(h))) + h)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ln = copy_into(torch.nn.LayerNorm(H, eps=1e-12), "embeddings.LayerNorm")
            self.frozen = torch.nn.ModuleList(Layer(i) for i in range(6 - tuned))
            self.layers = torch.nn.ModuleList(Layer(i) for i in range(6 - tuned, 6))
            self.head = torch.nn.Linear(H + bundle.cues.shape[1], 1 + bundle.ty.shape[1])
            for p in list(self.ln.parameters()) + list(self.frozen.parameters()):
                p.requires_grad_(False)

        def embed(self, ids):
            t = ids.shape[1]
            w = sd["embeddings.word_embeddings.weight"].to(ids.device)
            pos = sd["embeddings.position_embeddings.weight"].to(ids.device)[:t]
            typ = sd["embeddings.token_type_embeddings.weight"].to(ids.device)[0]
            return self.ln(w[ids] + pos[None] + typ[None, None])

        def forward(self, ids, mask, cues):
            ext = (1.0 - mask[:, None, None, :]) * -1e4
            with torch.no_grad():
                h = self.embed(ids)
                for layer in self.frozen:
                    h = layer(h, ext)
            for layer in self.layers:
                h = layer(h, ext)
            v = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
            return self.head(torch.cat([10 * v / v.norm(dim=1, keepdim=True), cues], 1))

    return Net().to(bundle.device)


def fit(bundle: Bundle, tr, cfg):
    import torch
    import torch.nn.functional as F

    y, ty = bundle.y, bundle.ty
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    net = network(bundle, cfg["layers"])
    opt = torch.optim.AdamW([{"params": net.layers.parameters(), "lr": cfg["lr"]},
                             {"params": net.head.parameters(), "lr": cfg["head_lr"]}], weight_decay=0.01)
    total = len(bundle.batches(tr, np.random.default_rng(0), cfg["bs"])) * cfg["epochs"]
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, s / (0.1 * total)) * max(0.0, (total - s) / (0.9 * total)))
    pw = torch.tensor(float(np.sqrt((y[tr] == 0).sum() / max(1, (y[tr] == 1).sum()))), device=bundle.device)
    for _ in range(cfg["epochs"]):
        net.train()
        for b in bundle.batches(tr, rng, cfg["bs"]):
            logits = net(*bundle.tensors(b, cfg["maxtok"]))
            yb = torch.tensor(y[b], dtype=torch.float32, device=bundle.device)
            loss = F.binary_cross_entropy_with_logits(logits[:, 0], yb, pos_weight=pw)
            if yb.sum() > 0:
                pos = yb.bool()
                loss = loss + cfg["tw"] * F.binary_cross_entropy_with_logits(
                    logits[pos, 1:], torch.tensor(ty[b], device=bundle.device)[pos])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in net.parameters() if p.requires_grad], 1.0)
            opt.step()
            sched.step()
    return net.eval()


def predict(bundle: Bundle, net, te, maxtok) -> np.ndarray:
    import torch

    p = {}
    with torch.inference_mode():
        for b in bundle.batches(te, None, 0):
            p.update(zip(b.tolist(), torch.sigmoid(net(*bundle.tensors(b, maxtok))[:, 0]).cpu().numpy().tolist()))
    return np.array([p[i] for i in te])


def run(configs_path: str, out_dir: str) -> None:
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = False
    bundle = Bundle(os.path.dirname(os.path.abspath(__file__)), device)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "sweep.json")
    results = json.load(open(path)) if os.path.exists(path) else {}
    for name, overrides in json.load(open(configs_path)):
        cfg, t0 = {**BASE, **overrides}, time.time()
        oof = np.full(len(bundle.y), np.nan)
        for k in range(cfg.get("folds", 5)):  # fewer only for a smoke run
            te, tr = np.where(bundle.fold == k)[0], np.where(bundle.fold != k)[0]
            oof[te] = predict(bundle, fit(bundle, tr, cfg), te, cfg["maxtok"])
        results[name] = {"cfg": cfg, "p": np.round(oof, 5).tolist(), "s": round(time.time() - t0, 1)}
        with open(path, "w") as f:
            json.dump(results, f)
        print(name, "seconds", results[name]["s"], flush=True)


def score(paths: list[str], bundle_dir: str) -> None:
    from sklearn.metrics import average_precision_score

    from nlp.barrier_training import THRESHOLD_TOLERANCE, best_threshold, prf

    z = np.load(os.path.join(bundle_dir, "data.npz"))
    results = {}
    for path in paths:
        results.update(json.load(open(path)))
    for name, r in results.items():
        p = np.array(r["p"], dtype=float)
        scored = z["real"] & ~np.isnan(p)  # fewer only in a smoke run over fewer folds
        y, p = z["y"][scored], p[scored]
        t = best_threshold(y, p, THRESHOLD_TOLERANCE)
        m = prf(np.sum((p >= t) & (y == 1)), np.sum((p >= t) & (y == 0)), np.sum((p < t) & (y == 1)))
        print(f"{name:24s} layers {r['cfg']['layers']} AP {average_precision_score(y, p):.3f} "
              f"P {m['precision']:.3f} R {m['recall']:.3f} F1 {m['f1']:.3f} (threshold {t})")


if __name__ == "__main__":
    verb = sys.argv[1] if len(sys.argv) > 1 else ""
    if verb == "prepare" and len(sys.argv) == 3:
        prepare(sys.argv[2])
    elif verb == "run" and len(sys.argv) == 3:
        run(sys.argv[2], os.environ.get("OUT", "sweep-out"))
    elif verb == "score" and len(sys.argv) >= 3:
        score(sys.argv[2:], os.environ.get("BUNDLE", ".gpu"))
    else:
        sys.exit(__doc__)

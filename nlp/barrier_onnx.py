"""Int8 ONNX models that give barrier candidates their tuned reading, and the kept ones their search vector.

Why: the tuned barrier classifier (``nlp/barrier_tuned.py``) needs MiniLM's states at its
first tuned layer (``first_layer``, f: 4 as shipped) for every gated sentence, and the
knowledge base needs each barrier sentence's ordinary vector (embedding cache, Chroma,
recurrence; the frozen theme heads read it too). Running the whole model for the tuned reading
and again for the vector would cost 12 layers a sentence. Here the first model runs MiniLM's
embeddings and layers below f once, then the tuned layers f-5 (outputs ``hidden``: the layer-f
input, and ``tuned``: the tuned layers' mean-pooled state, the head's input); the second runs
the packaged layers f-5 on that ``hidden`` (output ``base``: the mean-pooled last hidden state,
the vector ``nlp.onnx_model.OnnxEncoder`` gives for the same text), and only for the rows the
caller keeps (the sentences the tuned head calls barriers, about four in ten candidates). So
with f = 4 a candidate costs 6 layers and a barrier 8 (with f = 2, 10), against 6 for every
candidate before the tuned model.

Made once per machine from the packaged weights and the artefact, with the recipe of
``nlp/onnx_model.py`` (``torch.onnx`` export, dynamic int8 quantisation per channel, the
feed-forward output projections of layers ``FLOAT_LAYERS`` kept float32), and cached under
``~/.cache/refrain/onnx`` keyed by the artefact's hash and the base model's file tag; written
to temporary files and renamed, so concurrent processes never read half a file.

The tuned branch reads at most the artefact's ``max_tokens`` word pieces (96, as trained);
the base branch reads ``nlp.onnx_model.MAX_TOKENS``, as the embedder does.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from nlp import onnx_cache, onnx_model
from nlp.barrier_tuned import TunedModel, file_sha256

log = logging.getLogger(__name__)

FORMAT = 2  # bump when the graphs or their quantisation change


def model_files(model_dir: Path, tuned: TunedModel) -> tuple[Path, Path]:
    """Where the (shared + tuned, base top) models of these base weights and this artefact live."""
    base_tag = onnx_model.model_file(model_dir).stem
    tag = hashlib.sha256(f"{base_tag}:{tuned.sha256}:{FORMAT}:{onnx_model.FLOAT_LAYERS}".encode()).hexdigest()[:16]
    return (onnx_model.cache_dir() / f"minilm-barrier-tuned-int8-{tag}.onnx",
            onnx_model.cache_dir() / f"minilm-barrier-basetop-int8-{tag}.onnx")


def build(model_dir: Path, tuned: TunedModel, targets: tuple[Path, Path]) -> tuple[Path, Path]:
    """Export (embeddings + layers below f + tuned f-5) and (base f-5) to ONNX, quantise to int8 (once)."""
    import copy
    import tempfile
    import warnings

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    weights = Path(model_dir) / "model.safetensors"
    if tuned.base_sha256 and file_sha256(weights) != tuned.base_sha256:
        raise RuntimeError("the tuned barrier layers were trained on other MiniLM weights "
                           "(run `kb train-barriers --tuned` again)")
    targets[0].parent.mkdir(parents=True, exist_ok=True)
    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    first = tuned.first_layer
    top = [copy.deepcopy(bert.encoder.layer[i]) for i in range(first, bert.config.num_hidden_layers)]
    for i, layer in enumerate(top):
        state = {k.split(".", 1)[1]: torch.tensor(v.astype(np.float32))
                 for k, v in tuned.layers.items() if k.split(".", 1)[0] == str(i)}
        layer.load_state_dict(state)

    def run(layers, h, mask):
        ext = (1.0 - mask[:, None, None, :]) * -1e4
        for layer in layers:
            o = layer(h, attention_mask=ext)
            h = o[0] if isinstance(o, tuple) else o
        return h

    def pool(h, mask):
        return (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)

    class SharedAndTuned(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = bert.embeddings
            # "layer" as in BertModel, so the float-layer node names match onnx_model's rule
            self.layer = torch.nn.ModuleList(bert.encoder.layer[:first])
            self.tuned_top = torch.nn.ModuleList(top)

        def forward(self, input_ids, attention_mask, token_type_ids, tuned_mask):
            mask, tmask = attention_mask.float(), tuned_mask.float()
            h = run(self.layer, self.embeddings(input_ids=input_ids, token_type_ids=token_type_ids), mask)
            return h, pool(run(self.tuned_top, h, tmask), tmask)

    class BaseTop(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.base_top = torch.nn.ModuleList(bert.encoder.layer[first:])

        def forward(self, hidden, attention_mask):
            mask = attention_mask.float()
            return pool(run(self.base_top, hidden, mask), mask)

    ids = ["input_ids", "attention_mask", "token_type_ids", "tuned_mask"]
    bt = {0: "batch", 1: "tokens"}
    with tempfile.TemporaryDirectory(dir=targets[0].parent) as tmp, warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        made = []
        for module, inputs, names, outputs, axes, float_layers in (
                (BaseTop(), (torch.zeros(2, 8, 384), torch.ones(2, 8, dtype=torch.long)), ["hidden", "attention_mask"],
                 ["base"], {"hidden": bt, "attention_mask": bt, "base": {0: "batch"}}, ()),
                (SharedAndTuned(), tuple(torch.ones(2, 8, dtype=torch.long) for _ in ids), ids, ["hidden", "tuned"],
                 {**{n: bt for n in ids}, "hidden": bt, "tuned": {0: "batch"}}, onnx_model.FLOAT_LAYERS)):
            plain = Path(tmp) / f"plain-{len(made)}.onnx"
            torch.onnx.export(module.eval(), inputs, str(plain), input_names=names, output_names=outputs,
                              dynamic_axes=axes, opset_version=17, dynamo=False)
            keep_float = onnx_model.float_matmuls(plain, float_layers)
            if len(keep_float) != len(float_layers):
                raise RuntimeError(f"expected {len(float_layers)} float layers, found {keep_float}")
            quantised = Path(tmp) / f"int8-{len(made)}.onnx"
            quantize_dynamic(str(plain), str(quantised), weight_type=QuantType.QInt8, per_channel=True,
                             nodes_to_exclude=keep_float)
            made.append(quantised)
        os.replace(made[0], targets[1])  # the base top first: the tuned file's presence means both are there
        os.replace(made[1], targets[0])
    log.info("made the tuned barrier ONNX models at %s", targets[0].parent)
    onnx_cache.prune(targets[0].parent)
    return targets


class BarrierEncoder:
    """Tuned mean-pooled vectors of sentences, and base ones of the rows a caller keeps."""

    def __init__(self, model_dir: str | Path, tuned: TunedModel, threads: int | None = None):
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        self.max_tokens = tuned.max_tokens
        self.model_dir, self.tuned = model_dir, tuned
        self.paths = model_files(model_dir, tuned)
        if not (self.paths[0].is_file() and self.paths[1].is_file()):
            build(model_dir, tuned, self.paths)
        for path in self.paths:
            onnx_cache.mark_used(path)
        self.threads = threads or min(os.cpu_count() or 1, 4)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self._sessions: dict[tuple[int, int], object] = {}
        self._lock = threading.Lock()

    def session(self, which: int, threads: int):
        """Session of model ``which`` (0: shared + tuned, 1: base top) on ``threads`` threads."""
        with self._lock:
            if (which, threads) not in self._sessions:
                self._sessions[which, threads] = onnx_model.open_session(
                    self.paths[which], threads, lambda: build(self.model_dir, self.tuned, self.paths))
            return self._sessions[which, threads]

    def encode(self, texts: Sequence[str], batch_size: int = 32, threads: int | None = None,
               keep: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(base, tuned): unnormalised float32 mean-pooled vectors in input order. ``keep(rows,
        tuned)`` says, batch by batch, which rows get a base vector (default: all; the others stay
        zero). Texts are sorted by length so each batch carries little padding (as ``OnnxEncoder``)."""
        self.tokenizer.enable_truncation(onnx_model.MAX_TOKENS)  # read at call time: the embedder's
        encodings = self.tokenizer.encode_batch(list(texts))
        threads = threads or self.threads
        first, second = self.session(0, threads), self.session(1, threads)
        base = np.zeros((len(encodings), 384), dtype=np.float32)
        tuned = np.zeros_like(base)
        for rows, ids, mask in onnx_model.length_batches(encodings, batch_size):
            tmask = mask.copy()
            tmask[:, self.max_tokens:] = 0
            hidden, tuned[rows] = first.run(None, {"input_ids": ids, "attention_mask": mask,
                                                   "token_type_ids": np.zeros_like(ids), "tuned_mask": tmask})
            chosen = np.ones(len(rows), dtype=bool) if keep is None else np.asarray(keep(rows, tuned[rows]), bool)
            if chosen.any():
                base[rows[chosen]] = second.run(None, {"hidden": hidden[chosen], "attention_mask": mask[chosen]})[0]
        return base, tuned


def _backend(embedder) -> str | None:
    """The concrete backend of an ``Embedder`` or of the one behind a ``CachedEmbedder``."""
    inner = getattr(embedder, "base", embedder)
    return getattr(inner, "backend", None)


class TunedBarriers:
    """The tuned classifier on sentences: predictions, with their base vectors kept.

    With the ``onnx-int8`` embedder the base vectors come from the same ORT run and are
    stored in the knowledge base's cache (``store_vectors`` of a ``CachedEmbedder``), so ingest
    finds them there as before; under other backends the embedder computes them as today and
    only the tuned branch's output is used."""

    SMALL_BATCH = 8  # as nlp.embed: a few texts run on one thread

    def __init__(self, tuned: TunedModel):
        self.model = tuned
        self._encoder: BarrierEncoder | None = None

    @property
    def encoder(self) -> BarrierEncoder:
        if self._encoder is None:
            from nlp import budget
            from nlp.embed import model_path

            with budget.excluded():  # once per process (and the build once per machine)
                self._encoder = BarrierEncoder(model_path(), self.model)
        return self._encoder

    def predict(self, sentences: list[str], cues: np.ndarray, embedder, threshold: float):
        """The tuned model's predictions of ``sentences``, the indices of those at or over
        ``threshold``, and their base vectors (normalised; the only ones ingest stores).

        Each distinct sentence runs through the model once: a document that repeats itself (a
        GOV.UK body with the same boilerplate ten thousand times) costs its distinct text."""
        distinct = list(dict.fromkeys(sentences))
        if len(distinct) < len(sentences):
            where = {s: i for i, s in enumerate(distinct)}
            first = {s: i for i, s in reversed(list(enumerate(sentences)))}
            preds, kept, vectors = self.predict(distinct, cues[[first[s] for s in distinct]], embedder, threshold)
            rows = [where[s] for s in sentences]
            at = {i: n for n, i in enumerate(kept)}
            kept_all = [i for i, r in enumerate(rows) if r in at]
            return [preds[r] for r in rows], kept_all, vectors[[at[rows[i]] for i in kept_all]]
        encoder = self.encoder
        threads = 1 if len(sentences) <= self.SMALL_BATCH else None
        batch = getattr(getattr(embedder, "base", embedder), "batch_size", 32) or 32
        kept: list[int] = []
        if _backend(embedder) == "onnx-int8":
            def keep(rows, tuned):
                return self.model.probabilities(tuned, cues[rows]) >= threshold

            base, tuned = encoder.encode(sentences, batch, threads, keep)
            preds = self.model.predict(tuned, cues)
            kept = [i for i, p in enumerate(preds) if p.probability >= threshold]
            vectors = base[kept] / np.maximum(np.linalg.norm(base[kept], axis=1, keepdims=True), 1e-12)
            store = getattr(embedder, "store_vectors", None)
            if store is not None and kept:
                store([sentences[i] for i in kept], vectors)
        else:  # the tuned reading from ORT, the barriers' vectors from the embedder (cached as before)
            preds = self.model.predict(encoder.encode(sentences, batch, threads, lambda rows, t: np.zeros(len(rows)))[1],
                                       cues)
            kept = [i for i, p in enumerate(preds) if p.probability >= threshold]
            vectors = embedder.encode([sentences[i] for i in kept]) if kept else np.zeros((0, 384), np.float32)
        return preds, kept, vectors


def tuned_barriers(taxonomy, path: str | Path | None = None) -> TunedBarriers | None:
    """The shipped tuned classifier for ``taxonomy``, or None (with a log line) when it cannot
    run here: no artefact, no onnxruntime/onnx, or trained on other themes or cue features."""
    from nlp.barrier_model import cue_feature_names
    from nlp.barrier_tuned import load_tuned

    if not onnx_model.available():
        log.info("tuned barrier model needs onnxruntime and onnx: using the frozen model")
        return None
    tuned = load_tuned(str(path) if path else None)
    if tuned is None:
        log.info("no tuned barrier model (%s): using the frozen model", path or "nlp/data/barrier_tuned.npz")
        return None
    if tuned.themes != taxonomy.ids or tuned.cue_names != cue_feature_names(taxonomy):
        log.warning("tuned barrier model was trained on themes %s, the taxonomy has %s: using the frozen model "
                    "(run `kb train-barriers --tuned` after editing the themes)", tuned.themes, taxonomy.ids)
        return None
    return TunedBarriers(tuned)

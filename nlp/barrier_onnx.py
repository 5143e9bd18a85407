"""One int8 ONNX model that gives a barrier candidate both its search vector and its tuned reading.

Why: the tuned barrier classifier (``nlp/barrier_tuned.py``) needs MiniLM's layer-4 states
of every gated sentence, and the knowledge base needs the same sentence's ordinary vector
(embedding cache, Chroma, recurrence). Running the whole model twice would double the
barrier stage's embedding cost; this graph runs MiniLM's embeddings and layers 0-3 once,
then BOTH the packaged layers 4-5 (output ``base``: the mean-pooled last hidden state, the
vector ``nlp.onnx_model.OnnxEncoder`` gives for the same text) AND the tuned layers 4-5
(output ``tuned``: their mean-pooled state, the head's input). One ORT run per batch.

Made once per machine from the packaged weights and the artefact, with the recipe of
``nlp/onnx_model.py`` (``torch.onnx`` export, dynamic int8 quantisation per channel, the
feed-forward output projections of layers ``FLOAT_LAYERS`` kept float32), and cached under
``~/.cache/refrain/onnx`` keyed by the artefact's hash and the base model's file tag; written
to a temporary file and renamed, so concurrent processes never read half a file.

The tuned branch reads at most the artefact's ``max_tokens`` word pieces (96, as trained);
the base branch reads ``nlp.onnx_model.MAX_TOKENS``, as the embedder does.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from nlp import onnx_model
from nlp.barrier_tuned import TunedModel, file_sha256

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the graph or its quantisation changes


def model_file(model_dir: Path, tuned: TunedModel) -> Path:
    """Where the two-branch model of these base weights and this artefact lives."""
    base_tag = onnx_model.model_file(model_dir).stem
    tag = hashlib.sha256(f"{base_tag}:{tuned.sha256}:{FORMAT}:{onnx_model.FLOAT_LAYERS}".encode()).hexdigest()[:16]
    return onnx_model.cache_dir() / f"minilm-barrier-int8-{tag}.onnx"


def build(model_dir: Path, tuned: TunedModel, target: Path) -> Path:
    """Export shared layers + base top + tuned top to ONNX and quantise to int8 (once)."""
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
    target.parent.mkdir(parents=True, exist_ok=True)
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

    class TwoBranch(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = bert.embeddings
            # "layer" as in BertModel, so the float-layer node names match onnx_model's rule
            self.layer = torch.nn.ModuleList(bert.encoder.layer[:first])
            self.base_top = torch.nn.ModuleList(bert.encoder.layer[first:])
            self.tuned_top = torch.nn.ModuleList(top)

        def forward(self, input_ids, attention_mask, token_type_ids, tuned_mask):
            mask, tmask = attention_mask.float(), tuned_mask.float()
            h = run(self.layer, self.embeddings(input_ids=input_ids, token_type_ids=token_type_ids), mask)
            return pool(run(self.base_top, h, mask), mask), pool(run(self.tuned_top, h, tmask), tmask)

    names = ["input_ids", "attention_mask", "token_type_ids", "tuned_mask"]
    dummy = tuple(torch.ones(2, 8, dtype=torch.long) for _ in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes.update({"base": {0: "batch"}, "tuned": {0: "batch"}})
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = Path(tmp) / "plain.onnx"
        with torch.inference_mode():
            torch.onnx.export(TwoBranch().eval(), dummy, str(plain), input_names=names,
                              output_names=["base", "tuned"], dynamic_axes=axes, opset_version=17, dynamo=False)
        import onnx

        graph = onnx.load(str(plain)).graph
        keep_float = [n.name for n in graph.node if n.op_type == "MatMul" and any(
            n.name.endswith(f"/layer.{i}/output/dense/MatMul") for i in onnx_model.FLOAT_LAYERS)]
        if len(keep_float) != len(onnx_model.FLOAT_LAYERS):
            raise RuntimeError(f"expected {len(onnx_model.FLOAT_LAYERS)} float layers, found {keep_float}")
        quantised = Path(tmp) / "int8.onnx"
        quantize_dynamic(str(plain), str(quantised), weight_type=QuantType.QInt8, per_channel=True,
                         nodes_to_exclude=keep_float)
        os.replace(quantised, target)
    log.info("made the two-branch barrier ONNX model at %s", target)
    return target


class BarrierEncoder:
    """Base and tuned mean-pooled vectors of sentences, one ORT run per batch."""

    def __init__(self, model_dir: str | Path, tuned: TunedModel, threads: int | None = None):
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        self.max_tokens = tuned.max_tokens
        self.path = model_file(model_dir, tuned)
        if not self.path.is_file():
            build(model_dir, tuned, self.path)
        self.threads = threads or min(os.cpu_count() or 1, 4)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self._sessions: dict[int, object] = {}
        self._lock = threading.Lock()

    def session(self, threads: int):
        with self._lock:
            if threads not in self._sessions:
                import onnxruntime as ort

                opts = ort.SessionOptions()
                opts.intra_op_num_threads = threads
                opts.inter_op_num_threads = 1
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")  # shared machine
                opts.log_severity_level = 3
                self._sessions[threads] = ort.InferenceSession(str(self.path), opts,
                                                               providers=["CPUExecutionProvider"])
            return self._sessions[threads]

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(base, tuned): unnormalised float32 mean-pooled vectors in input order. Texts are
        sorted by length so each batch carries little padding (as ``OnnxEncoder.encode``)."""
        self.tokenizer.enable_truncation(onnx_model.MAX_TOKENS)  # read at call time: the embedder's
        encodings = self.tokenizer.encode_batch(list(texts))
        session = self.session(threads or self.threads)
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        base = np.zeros((len(encodings), 384), dtype=np.float32)
        tuned = np.zeros_like(base)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            width = max(1, max(len(encodings[i].ids) for i in rows))
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(rows):
                tokens = encodings[i].ids
                ids[r, :len(tokens)] = tokens
                mask[r, :len(tokens)] = 1
            tmask = mask.copy()
            tmask[:, self.max_tokens:] = 0
            base[rows], tuned[rows] = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                                         "token_type_ids": np.zeros_like(ids), "tuned_mask": tmask})
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

    def predict(self, sentences: list[str], cues: np.ndarray, embedder):
        """(base vectors, normalised; the tuned model's predictions) of ``sentences``."""
        encoder = self.encoder
        threads = 1 if len(sentences) <= self.SMALL_BATCH else None
        batch = getattr(getattr(embedder, "base", embedder), "batch_size", 32) or 32
        if _backend(embedder) == "onnx-int8":
            base, tuned = encoder.encode(sentences, batch, threads)
            base = base / np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-12)
            store = getattr(embedder, "store_vectors", None)
            if store is not None:
                store(sentences, base)
        else:
            base = embedder.encode(sentences)  # the sentences' vectors, cached as before
            tuned = encoder.encode(sentences, batch, threads)[1]
        return base, self.model.predict(tuned, cues)


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

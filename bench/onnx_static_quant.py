"""Static int8 quantisation of the passage encoder, against the dynamic int8 that ships.

    python -m bench.onnx_static_quant KB_HOME [--calibrate 256] [--test 400]

Why measured: ``onnx-int8`` (``nlp/onnx_model.py``) quantises activations on the fly, one scale
per tensor per batch. Fixed, calibrated scales would skip that work (issue 17: the model is
most of the ingest) and would make a text's vector independent of the texts batched with it
(README, "Batch companions"). This exports the packaged MiniLM to fp32 ONNX, quantises it
statically (QDQ, per-channel int8 weights, uint8 activations calibrated by min/max on
``--calibrate`` passages of the knowledge base, the same float feed-forward layers as the
dynamic model), and embeds ``--test`` other passages with fp32, the shipped dynamic model and
the static one, on one thread: CPU seconds and cosine to fp32.
"""
from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from nlp.embed import model_path
from nlp.onnx_model import MAX_TOKENS, export_fp32, float_matmuls, length_batches, model_file, open_session


def feeds(tokenizer, texts, batch_size=32):
    """(rows, inputs) batches of similar length, as the encoder makes them."""
    for rows, ids, mask in length_batches(tokenizer.encode_batch(texts), batch_size):
        yield rows, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def embed(path: Path, tokenizer, texts) -> tuple[np.ndarray, float]:
    session = open_session(path, 1)
    out = np.zeros((len(texts), 384), np.float32)
    t0 = time.process_time()
    for rows, feed in feeds(tokenizer, texts):
        m = feed["attention_mask"][..., None]
        v = (session.run(None, feed)[0] * m).sum(1) / m.sum(1)
        out[rows] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out, time.process_time() - t0


def main() -> None:
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from tokenizers import Tokenizer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kb_home", type=Path, help="a knowledge base made by kb ingest (its passages are read)")
    ap.add_argument("--calibrate", type=int, default=256)
    ap.add_argument("--test", type=int, default=400)
    a = ap.parse_args()
    with sqlite3.connect(a.kb_home / "kb.sqlite") as db:
        texts = [r[0] for r in db.execute("SELECT text FROM passages ORDER BY rowid")]
    order = np.random.default_rng(14).permutation(len(texts))
    calibration = [texts[i] for i in order[:a.calibrate]]
    test = [texts[i] for i in order[a.calibrate:a.calibrate + a.test]]
    model_dir = Path(model_path())
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = (feed for _, feed in feeds(tokenizer, calibration, 16))

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        plain = export_fp32(model_dir, Path(tmp) / "plain.onnx")
        static = Path(tmp) / "static.onnx"
        quantize_static(str(plain), str(static), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8, op_types_to_quantize=["MatMul"],
                        nodes_to_exclude=float_matmuls(plain), calibrate_method=CalibrationMethod.MinMax)
        reference, cpu = embed(plain, tokenizer, test)
        print(f"{len(test)} passages of {a.kb_home}; fp32: {cpu:.1f} CPU s")
        for name, path in (("dynamic int8 (shipped)", model_file(model_dir)), ("static int8", static)):
            vectors, cpu = embed(path, tokenizer, test)
            cos = (vectors * reference).sum(1)
            print(f"{name}: {cpu:.1f} CPU s, cosine to fp32 min {cos.min():.4f}, 1st percentile "
                  f"{np.percentile(cos, 1):.4f}, median {np.median(cos):.4f}")


if __name__ == "__main__":
    main()

"""A researcher who retrains the barrier classifier on their own labels keeps the models in a
folder of their own (``KB_BARRIER_DIR``), outside the installed package: ``kb train-barriers``
writes there, extraction reads from there, a missing artefact falls back to the packaged one
with a warning, and a folder that does not exist is a one-line error.

The labelled sentences are the small fixture of ``test_barrier_classifier``.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from pathlib import Path

from nlp.barrier_model import MODEL_PATH, BarrierModel
from nlp.barrier_tuned import artefact_path, configure_barriers
from nlp.extract import extract
from nlp.models import SourceDocument
from nlp.pipeline import build_pipeline

from conftest import run_kb
from test_barrier_classifier import _write_fixture

OBSTACLE = "Ward staff could not see the council's care records, so every assessment was started again."


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _barriers() -> list[str]:
    doc = SourceDocument("review.md", "markdown", ["Key findings\n\n" + OBSTACLE + "\n"], False)
    return [b.sentence.strip() for b in extract(doc, nlp=build_pipeline()).barriers]


def test_kb_train_barriers_writes_into_the_users_folder_and_leaves_the_package_alone(tmp_path: Path) -> None:
    data, models = _write_fixture(tmp_path / "data"), tmp_path / "models"
    models.mkdir()
    packaged = _sha(MODEL_PATH)
    run_kb(tmp_path / "kb", "train-barriers", "--data", str(data), env={"KB_BARRIER_DIR": str(models)}, timeout=300)
    assert BarrierModel.load(models / "barrier_model.npz").info["examples"] > 0
    assert _sha(MODEL_PATH) == packaged


def test_extraction_reads_the_folders_model(tmp_path: Path) -> None:
    strict = replace(BarrierModel.load(MODEL_PATH), threshold=1.01)  # a model that calls nothing a barrier
    strict.save(tmp_path / "barrier_model.npz")
    configure_barriers("frozen")
    try:
        assert _barriers() == [OBSTACLE]
        configure_barriers("frozen", tmp_path)
        assert _barriers() == []
    finally:
        configure_barriers("tuned")


def test_an_artefact_missing_from_the_folder_falls_back_to_the_packaged_one(tmp_path: Path, caplog) -> None:
    configure_barriers("tuned", tmp_path)
    try:
        with caplog.at_level(logging.WARNING, logger="nlp.barrier_tuned"):
            assert artefact_path("barrier_tuned.npz") is None
        assert "has no barrier_tuned.npz" in caplog.text
    finally:
        configure_barriers("tuned")


def test_a_folder_that_does_not_exist_is_a_one_line_error(tmp_path: Path) -> None:
    proc = run_kb(tmp_path / "kb", "search", "workforce", check=False,
                  env={"KB_BARRIER_DIR": str(tmp_path / "nowhere")})
    assert proc.returncode == 2
    assert "KB_BARRIER_DIR" in proc.stderr and "no such folder" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_unseen_bench_trains_without_any_sentence_of_the_held_out_documents(tmp_path: Path) -> None:
    """``bench.barrier_unseen`` measures on gold documents the model never read: its training
    copy holds every labelled sentence but theirs."""
    import json

    from bench.barrier_unseen import held_out_docs, without
    from nlp.barrier_training import load_examples

    data = _write_fixture(tmp_path / "data")
    docs = sorted({e.doc for e in load_examples(data)})
    gold = {"documents": [{"doc": docs[0]}, {"doc": "corpus/never-pooled.pdf"}]}
    assert held_out_docs(gold, data) == [docs[0]]
    dropped = without(data, tmp_path / "copy", [docs[0]])
    left = load_examples(tmp_path / "copy")
    assert dropped > 0 and docs[0] not in {e.doc for e in left}
    assert len(left) + dropped == len(load_examples(data))
    assert json.loads((tmp_path / "copy" / "pool" / "shard-1.jsonl").read_text().splitlines()[0])["doc"] != docs[0]

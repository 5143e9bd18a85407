"""Extraction loads spaCy without PyTorch, and torch is still there for what needs it.

thinc imports torch at import time only to probe for it; a `kb ingest` that never runs torch
should not pay its 1.8 s and 185 MB (``nlp/spacy_import.py``).
"""
import os
import subprocess
import sys

from conftest import REPO

EXTRACT_THEN_TORCH = """
import sys
from nlp.extract import extract
from nlp.models import SourceDocument
text = ("Recommendation 1: The Department should publish a workforce plan by March 2027. "
        "The Better Care Fund received £5.3 billion in 2019.")
doc = extract(SourceDocument(path="note.txt", format="text", pages=[text], paged=False, title="A note"))
print("recommendations", len(doc.recommendations), "funding", len(doc.funding))
print("torch after extraction", "torch" in sys.modules)
import thinc.compat
print("thinc sees torch", thinc.compat.has_torch)
import torch
print("torch imports", torch.ones(2).sum().item())
"""


def _run(script: str) -> str:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_a_document_is_extracted_without_importing_torch_and_torch_still_imports_afterwards():
    out = _run(EXTRACT_THEN_TORCH).splitlines()
    assert out[0] == "recommendations 1 funding 1"  # the statistical parse ran on numpy
    assert out[1:] == ["torch after extraction False", "thinc sees torch False", "torch imports 2.0"]


def test_a_process_that_already_has_torch_keeps_it_for_spacy_too():
    out = _run("import torch, sys\nimport nlp.pipeline\nimport thinc.compat\n"
               "print(thinc.compat.has_torch, sys.modules['torch'] is torch)").split()
    assert out == ["True", "True"]

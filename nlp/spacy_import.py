"""Import spaCy without importing PyTorch.

thinc, spaCy's machine-learning library, imports torch when it is installed only to learn
whether it could use it (and asks CUDA how many devices it has). Our spaCy pipelines never do:
the tagger and parser run on numpy, and the run-time sentence models are ONNX graphs. Without
this, every `kb ingest` or `kb extract` process paid about 1.8 s and 185 MB for a library it
never called (measured on a one-sentence file: 5.8 s and 594 MB against 3.3 s and 410 MB).

Importing this module before spaCy hides torch from that probe. torch stays importable
afterwards for the code that does use it (training, the bf16/fp32 embedders, recurrence's
bfloat16 products): it is hidden only while spaCy is first imported, and only when no other
thread is running, since a thread importing torch meanwhile would be refused it.
"""
from __future__ import annotations

import sys
import threading


def _import_spacy_without_torch() -> None:
    if "spacy" in sys.modules or "torch" in sys.modules or threading.active_count() > 1:
        return  # too late to matter, already paid, or not safe to hide
    sys.modules["torch"] = None  # `import torch` raises ImportError: thinc records has_torch = False
    try:
        import spacy  # noqa: F401
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]


_import_spacy_without_torch()

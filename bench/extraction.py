"""Extraction speed on one PDF: text loading plus every extractor, words of text per second."""
from __future__ import annotations

import time
from pathlib import Path


def bench_extract(pdf: Path, embedder) -> dict:
    from nlp.extract import extract
    from nlp.text import load_document

    extract(load_document(pdf), embedder=embedder)  # warm-up: pipeline, model, theme vectors
    started = time.perf_counter()
    doc = load_document(pdf)
    loaded = time.perf_counter()
    extract(doc, embedder=embedder)
    done = time.perf_counter()
    words = len(doc.text.split())
    return {
        "extract_words_per_s": round(words / (done - started)),
        "extract_file": pdf.name,
        "extract_words": words,
        "extract_pages": len(doc.pages),
        "extract_load_s": round(loaded - started, 2),
        "extract_nlp_s": round(done - loaded, 2),
    }

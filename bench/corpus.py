"""Real text for the benchmarks: files and sentences of the shared corpus (``../shared/corpus``).

Sentences come from the non-PDF files (fast to load) through the project's own splitter, so
the embedding benchmark sees the lengths and vocabulary a real ingest sees.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("KB_BENCH_CORPUS") or REPO.parent / "shared" / "corpus")

DIRECTIVE = re.compile(r"\b(?:should|must|need to|needs to|we recommend|recommend that)\b", re.I)


def corpus_files(corpus: Path = CORPUS) -> list[Path]:
    """Every file ``kb ingest`` would take from the corpus folder, in ingest order."""
    from kb.index.ingest import expand_paths

    if not corpus.is_dir():
        raise SystemExit(f"bench: corpus not found at {corpus} (set KB_BENCH_CORPUS)")
    return expand_paths([corpus])


def largest_pdf(corpus: Path = CORPUS) -> Path:
    return max((p for p in corpus_files(corpus) if p.suffix.lower() == ".pdf"), key=lambda p: p.stat().st_size)


def smallest_pdf(corpus: Path = CORPUS) -> Path:
    return min((p for p in corpus_files(corpus) if p.suffix.lower() == ".pdf"), key=lambda p: p.stat().st_size)


@lru_cache(maxsize=1)
def corpus_sentences() -> tuple[str, ...]:
    """Distinct sentences of 5–80 words from the corpus's text files, in a stable order."""
    from nlp.extract import sentences
    from nlp.text import DocumentError, load_document

    seen: dict[str, None] = {}
    for path in corpus_files():
        if path.suffix.lower() == ".pdf":
            continue
        try:
            doc = load_document(path)
        except DocumentError:
            continue
        for s in sentences(doc):
            text = " ".join(s.text.split())
            if 5 <= len(text.split()) <= 80:
                seen.setdefault(text, None)
    return tuple(seen)


def sample_sentences(n: int) -> list[str]:
    """``n`` real sentences spread over the whole corpus (every k-th, not the first n)."""
    pool = corpus_sentences()
    step = max(1, len(pool) // n)
    return list(pool[::step][:n])


def recommendation_like(n: int | None = None) -> list[str]:
    """Sentences that ask someone to act ('should', 'must', 'we recommend')."""
    found = [s for s in corpus_sentences() if DIRECTIVE.search(s)]
    return found if n is None else found[:n]

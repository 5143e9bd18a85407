"""Settings for every stage, read from ``KB_*`` environment variables in this one place.

Anything that needs a setting takes a ``Settings`` (or one of its values) as an argument, so
tests build their own instance instead of patching globals.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = REPO_ROOT / "samples"

EMBED_BACKENDS = ("auto", "bf16", "int8", "fp32", "onnx-int8")
BARRIER_MODELS = ("tuned", "frozen")


@dataclass(frozen=True)
class Settings:
    home: Path
    chroma_url: str | None = None
    embed_batch_size: int = 32
    # 'auto' (the default: bf16 where the CPU computes bfloat16 natively, else fp32), 'fp32'
    # (the reference model), 'bf16' (cosine >= 0.996 with fp32) or 'int8' (attention
    # projections quantised: cosine >= 0.99). Speeds: README, "Performance" (measured, not here).
    # Cached vectors are keyed by the concrete backend, so switching re-embeds, never mixes.
    embed_backend: str = "auto"
    # torch threads for embedding batches (0: torch's default, one per core). Queries of a few
    # texts always use one thread: on a busy machine two threads made one query 20-40x slower.
    embed_threads: int = 0
    # Barrier classifier: 'tuned' (MiniLM's top two layers fine-tuned, nlp/barrier_tuned.py; the
    # frozen model where onnxruntime or its artefact is missing) or 'frozen' (issue 14, README).
    barrier_model: str = "tuned"
    # A folder holding the barrier artefacts (barrier_model.npz, barrier_tuned.npz) to use
    # instead of the packaged ones: a model retrained on your own labels or themes, kept outside
    # an installed (perhaps read-only) package. ``kb train-barriers`` writes there when it is set.
    barrier_dir: Path | None = None
    recurrence_threshold: float = 0.68  # pair score (kb.analysis.claims), not a bare cosine
    finding_threshold: float = 0.68  # the same score, for findings (barrier sentences)
    host: str = "127.0.0.1"
    port: int = 5000
    # Caps that keep one hostile file from exhausting memory or time: any file, and files
    # whose whole text is read and segmented at once (everything but PDF, read page by page).
    max_file_bytes: int = 500 * 1000 * 1000
    max_text_bytes: int = 20 * 1000 * 1000
    # Bounded work per document (issue 17; README "Reliability"): a budget of CPU seconds after
    # which the document is reported failed with the stage it was in and the run goes on, and
    # caps on items, reported in the ingest JSON (``capped``) when hit. 0 means no limit.
    doc_timeout_s: float = 600.0  # CPU s; under load the embedder's threads inflate CPU time (README)
    max_passages: int = 2_000  # the corpus's largest: 1,025 (295 pages)
    max_sentences_parsed: int = 1_000
    max_barrier_candidates: int = 10_000  # the Infected Blood Inquiry vol. 1 has 3,407
    max_recommendations: int = 2_000
    max_sentence_chars: int = 2_000  # longer "sentences" (tables, run-on lines) are not parsed or embedded
    # The day statuses are judged on (``overdue``: a target date before it); None is the real
    # today. Fixed by tests and by anyone reproducing a report as of a date.
    today: str | None = None

    def limits(self):
        """The per-document budget ``nlp.budget`` enforces."""
        from nlp.budget import Limits

        return Limits(self.doc_timeout_s or None, self.max_passages, self.max_sentences_parsed,
                      self.max_barrier_candidates, self.max_recommendations, self.max_sentence_chars)

    @property
    def sqlite_path(self) -> Path:
        return self.home / "kb.sqlite"

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def raw_dir(self) -> Path:
        return self.home / "raw"

    @property
    def crawl_dir(self) -> Path:
        return self.home / "crawl"

    @property
    def actors_path(self) -> Path:
        """Users' additions to the actor vocabulary (aliases, new bodies); optional."""
        return self.home / "actors.json"

    def today_date(self):
        from datetime import date

        return date.fromisoformat(self.today) if self.today else date.today()

    @classmethod
    def from_env(cls, home: str | os.PathLike | None = None) -> "Settings":
        env = os.environ
        return cls(
            home=Path(home or env.get("KB_HOME") or "kbdata").resolve(),
            chroma_url=env.get("KB_CHROMA_URL") or None,
            embed_batch_size=int(env.get("KB_EMBED_BATCH", "32")),
            embed_threads=int(env.get("KB_EMBED_THREADS", "0")),
            embed_backend=_choice("KB_EMBED_BACKEND", env.get("KB_EMBED_BACKEND", "auto"), EMBED_BACKENDS),
            barrier_model=_choice("KB_BARRIER_MODEL", env.get("KB_BARRIER_MODEL", "tuned"), BARRIER_MODELS),
            barrier_dir=_folder("KB_BARRIER_DIR", env.get("KB_BARRIER_DIR")),
            recurrence_threshold=float(env.get("KB_RECURRENCE_THRESHOLD", "0.68")),
            finding_threshold=float(env.get("KB_FINDING_THRESHOLD", "0.68")),
            host=env.get("KB_HOST", "127.0.0.1"),
            port=int(env.get("KB_PORT", "5000")),
            max_file_bytes=int(float(env.get("KB_MAX_FILE_MB", "500")) * 1000 * 1000),
            max_text_bytes=int(float(env.get("KB_MAX_TEXT_MB", "20")) * 1000 * 1000),
            doc_timeout_s=float(env.get("KB_DOC_TIMEOUT_S", "600")),
            max_passages=int(env.get("KB_MAX_PASSAGES", "2000")),
            max_sentences_parsed=int(env.get("KB_MAX_PARSED_SENTENCES", "1000")),
            max_barrier_candidates=int(env.get("KB_MAX_BARRIER_CANDIDATES", "10000")),
            max_recommendations=int(env.get("KB_MAX_RECOMMENDATIONS", "2000")),
            max_sentence_chars=int(env.get("KB_MAX_SENTENCE_CHARS", "2000")),
            today=_iso_day("KB_TODAY", env.get("KB_TODAY")),
        )


def _iso_day(name: str, value: str | None) -> str | None:
    from datetime import date

    if not (value or "").strip():
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise ValueError(f"{name} must be a date YYYY-MM-DD (got {value!r})") from None


def _folder(name: str, value: str | None) -> Path | None:
    """An existing folder named by a setting, or None when unset."""
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    if not path.is_dir():
        raise ValueError(f"{name}={value!r}: no such folder")
    return path


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    value = value.strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    return value

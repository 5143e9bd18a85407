"""Bounded work per document: a time budget and item caps, set by the caller for one document.

The crawler ingests whatever publishers serve, so one file (a 5 MB line of figures, a
3,000-page PDF, a page of 200,000 links) must not cost unbounded time or memory. ``kb``
opens a ``DocumentBudget`` around each document (``with budget.document(...)``); ``nlp``
code asks the current one, never reads settings itself:

* ``check(stage)`` between stages and every few hundred items raises ``DocumentTimeout``
  once the budget is spent. Where the caller runs in the main thread an interval timer
  (``SIGPROF``) also raises it at the next Python instruction, so a stage that never reaches
  a check (one long loop) is stopped too; a single long C call (one regex, one tokenizer
  call) is waited out.
  The budget counts the CPU seconds of the process (all threads), not wall time: on a
  machine shared with other work a document is not failed for the time it waited for a
  core, and on an idle one CPU time is about the wall time (more where torch uses both cores). ``DocumentTimeout`` is a ``BaseException``: the
  libraries' and our own ``except Exception`` cannot swallow it. Nothing is stored before
  extraction ends, so stopping loses nothing already stored.
* ``cap(name, items)`` keeps the first ``limit`` items of a kind (sentences parsed, barrier
  candidates, passages, recommendations) and records how many were dropped, for the report.
* ``too_long(name, chars)`` tells whether a "sentence" is too long to parse or embed (a
  table or a run-on line read as one sentence), and counts it.

Without an open budget (``kb extract``, tests, library use) nothing is capped or timed.
"""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Iterator, Sequence, TypeVar

T = TypeVar("T")


class DocumentTimeout(BaseException):
    """The document's time budget ran out; ``stage`` says where it was."""

    def __init__(self, seconds: float, stage: str) -> None:
        super().__init__(f"stopped after {seconds:g} CPU seconds in {stage} (the KB_DOC_TIMEOUT_S budget)")
        self.seconds = seconds
        self.stage = stage


@dataclass
class Limits:
    """Per-document caps; 0 or None means unlimited (``kb.config.Settings`` fills them)."""

    timeout_s: float | None = None
    max_passages: int | None = None
    max_sentences_parsed: int | None = None
    max_barrier_candidates: int | None = None
    max_recommendations: int | None = None
    max_sentence_chars: int | None = None


@dataclass
class DocumentBudget:
    limits: Limits
    started: float = field(default_factory=time.process_time)
    stage: str = "reading"
    capped: dict[str, int] = field(default_factory=dict)  # kind -> items dropped
    used: dict[str, int] = field(default_factory=dict)  # kind -> items taken so far (``take``)
    alarm: bool = False  # whether the SIGPROF timer is armed for it

    @property
    def deadline(self) -> float | None:
        return self.started + self.limits.timeout_s if self.limits.timeout_s else None

    def check(self, stage: str | None = None) -> None:
        if stage:
            self.stage = stage
        deadline = self.deadline
        if deadline is not None and time.process_time() > deadline:
            raise DocumentTimeout(self.limits.timeout_s, self.stage)

    def cap(self, name: str, items: Sequence[T]) -> list[T]:
        limit = getattr(self.limits, f"max_{name}", None)
        items = list(items)
        if limit and len(items) > limit:
            self.capped[name] = self.capped.get(name, 0) + len(items) - limit
            return items[:limit]
        return items

    def take(self, name: str, wanted: int) -> int:
        """How many of ``wanted`` more items of a kind counted over several calls (sentences
        parsed by the funding, recommendation and barrier components) are still allowed."""
        limit = getattr(self.limits, f"max_{name}", None)
        used = self.used.get(name, 0)
        allowed = wanted if not limit else max(0, min(wanted, limit - used))
        self.used[name] = used + allowed
        if allowed < wanted:
            self.capped[name] = self.capped.get(name, 0) + wanted - allowed
        return allowed

    def too_long(self, name: str, chars: int) -> bool:
        """True (and counted under ``name``) when a sentence of ``chars`` characters is over
        the sentence length cap."""
        limit = self.limits.max_sentence_chars
        if limit and chars > limit:
            self.capped[name] = self.capped.get(name, 0) + 1
            return True
        return False


_UNBOUNDED = DocumentBudget(Limits())
_current: ContextVar[DocumentBudget | None] = ContextVar("refrain_document_budget", default=None)


def current() -> DocumentBudget:
    """The budget of the document being processed (an unlimited one outside ``document``)."""
    return _current.get() or _UNBOUNDED


def check(stage: str | None = None) -> None:
    """Raise ``DocumentTimeout`` if the current document is over its time budget."""
    budget = _current.get()
    if budget is not None:
        budget.check(stage)


def cap(name: str, items: Sequence[T]) -> list[T]:
    return current().cap(name, items)


def too_long(name: str, chars: int) -> bool:
    budget = _current.get()
    return budget.too_long(name, chars) if budget is not None else False


@contextmanager
def document(limits: Limits) -> Iterator[DocumentBudget]:
    """Open a budget for one document; the timer is always disarmed on the way out."""
    budget = DocumentBudget(limits)
    token = _current.set(budget)
    alarm = bool(limits.timeout_s) and threading.current_thread() is threading.main_thread() \
        and hasattr(signal, "setitimer")
    previous = None
    if alarm:
        def on_alarm(signum, frame):  # runs in the main thread between Python instructions
            raise DocumentTimeout(limits.timeout_s, budget.stage)

        previous = signal.signal(signal.SIGPROF, on_alarm)
        signal.setitimer(signal.ITIMER_PROF, limits.timeout_s)
        budget.alarm = True
    try:
        yield budget
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, previous)
        _current.reset(token)


@contextmanager
def excluded() -> Iterator[None]:
    """One-time work (loading a model once per process) that is not the document's own: its
    CPU time does not count against the budget, so the first document of a run is not
    failed for the models it happened to load."""
    budget = _current.get()
    if budget is None or not budget.limits.timeout_s:
        yield
        return
    remaining = signal.setitimer(signal.ITIMER_PROF, 0)[0] if budget.alarm else 0.0
    began = time.process_time()
    try:
        yield
    finally:
        budget.started += time.process_time() - began
        if budget.alarm:
            signal.setitimer(signal.ITIMER_PROF, max(remaining, 0.001))

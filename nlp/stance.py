"""Stance from the substance of an answer, the sentence that decided it, who answered, and delivery.

A government's answer rarely opens with a clean verdict. 'The Government agrees with the
importance of early years support but does not intend to legislate' is a refusal; 'will give
careful consideration to' commits to nothing; 'has already published guidance' is done.
So the stance is read over the whole answer: the first cue decides, except that a later
refusal turns a general agreement (with an importance, a need, a principle) into a rejection
and a specific acceptance into a partial one. The cues are data (``answer_cues`` in
``nlp/data/response_patterns.json``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "response_patterns.json"
POSITIVE = {"accepted", "accepted_in_principle", "noted"}
CONTRAST = re.compile(r"\b(?:but|however|although|though|while|whilst)\b", re.I)


@dataclass
class AnswerCues:
    order: list[str] = field(default_factory=list)
    cues: dict[str, list[re.Pattern]] = field(default_factory=dict)
    general: re.Pattern | None = None
    other: list[re.Pattern] = field(default_factory=list)
    implementation: dict[str, list[re.Pattern]] = field(default_factory=dict)
    responder: re.Pattern | None = None
    done_for: re.Pattern | None = None
    status: re.Pattern | None = None
    deflections: list[re.Pattern] = field(default_factory=list)


@lru_cache(maxsize=2)
def load_answer_cues(path: str | None = None) -> AnswerCues:
    data = json.loads(Path(path or DATA).read_text(encoding="utf-8"))

    def comp(items: list[str]) -> list[re.Pattern]:
        return [re.compile(p, re.I) for p in items]

    return AnswerCues(
        order=list(data.get("answer_order", [])),
        cues={k: comp(v) for k, v in data.get("answer_cues", {}).items()},
        general=re.compile(data["general_agreement"], re.I) if data.get("general_agreement") else None,
        other=comp(data.get("other_answer", [])),
        implementation={k: comp(v) for k, v in data.get("implementation", {}).items()},
        responder=re.compile(data["responder"]) if data.get("responder") else None,
        done_for=re.compile(data["done_for_recommendation"], re.I) if data.get("done_for_recommendation") else None,
        status=re.compile(data["progress_status"], re.I) if data.get("progress_status") else None,
        deflections=comp(data.get("deflections", [])),
    )


def sentence_cue(sentence: str, cues: AnswerCues | None = None) -> tuple[int, str] | None:
    """(position, stance) of the earliest stance cue in one sentence, or None."""
    cues = cues or load_answer_cues()
    best: tuple[int, int, str] | None = None
    for rank, stance in enumerate(cues.order):
        for p in cues.cues.get(stance, []):
            m = p.search(sentence)
            if m and (best is None or (m.start(), rank) < best[:2]):
                best = (m.start(), rank, stance)
    if best is None:
        return None
    if best[2] == "done":  # something already exists: an acceptance only when tied to the recommendation
        return best[0], "accepted" if cues.done_for and cues.done_for.search(sentence) else "noted"
    return best[0], best[2]


def answer_stance(sentences: list[str], cues: AnswerCues | None = None) -> tuple[str, str | None]:
    """(stance, deciding sentence) of an answer given as its sentences in order."""
    cues = cues or load_answer_cues()
    for s in sentences:
        if any(p.search(s) for p in cues.other):
            return "other", s
    if sentences and is_status(sentences[0], cues):
        return "accepted", sentences[0]  # a progress report follows up accepted recommendations
    first: tuple[int, str] | None = None  # index into sentences, stance
    for i, s in enumerate(sentences):
        # a verdict line ('is accepted in full by ...', 'partially agrees') says it outright
        cue = _verdict(s) or (sentence_cue(s, cues) or (0, None))[1]
        if cue:
            first = (i, cue)
            break
    if first is None:
        return "noted", None
    i, stance = first
    if stance not in POSITIVE:
        return stance, sentences[i]
    refusal = _later_refusal(sentences, i, cues)
    if refusal is None:
        return stance, sentences[i]
    general = bool(cues.general and cues.general.search(sentences[i]))
    return ("rejected" if general or stance == "noted" else "partially_accepted"), refusal


def _verdict(sentence: str) -> str | None:
    """The stance of a verdict line ('The government partially agrees'), when it is one."""
    from nlp.responses import stance_of

    stance = stance_of(sentence)
    return stance if stance not in (None, "other") else None


def is_status(sentence: str, cues: AnswerCues | None = None) -> bool:
    """'Recommendation implemented.', 'Work in progress': a progress report's status line."""
    cues = cues or load_answer_cues()
    return bool(cues.status and cues.status.match(sentence) and len(sentence.split()) <= 6)


def _later_refusal(sentences: list[str], i: int, cues: AnswerCues) -> str | None:
    """A refusal after the first cue: in a contrast clause of the same sentence, or later on."""
    first = sentences[i]
    m = CONTRAST.search(first, (sentence_cue(first, cues) or (0, ""))[0])
    if m and _refuses(first[m.end():], cues):
        return first
    for s in sentences[i + 1:]:
        if _refuses(s, cues):
            return s
    return None


def _refuses(text: str, cues: AnswerCues) -> bool:
    """A refusal, or leaving the action to someone else ('a matter for local authorities')."""
    return any(p.search(text) for p in cues.cues.get("rejected", []) + cues.deflections)


def implementation_of(text: str, cues: AnswerCues | None = None) -> str | None:
    """'implemented', 'in_progress', 'not_started' or 'superseded' where the answer says so."""
    cues = cues or load_answer_cues()
    best: tuple[int, str] | None = None
    for state, patterns in cues.implementation.items():
        for p in patterns:
            m = p.search(text)
            if m and (best is None or m.start() < best[0]):
                best = (m.start(), state)
    return best[1] if best else None


_GOVERNMENT = re.compile(r"^(?:the\s+)?(?:uk\s+|hm\s+)?(?:government|we|it|this|these|department|ministers?)$", re.I)


def responder_of(sentence: str, cues: AnswerCues | None = None) -> str | None:
    """The body that answers when it is not the government ('The College of Policing accepts ...')."""
    cues = cues or load_answer_cues()
    m = cues.responder.match(sentence.strip()) if cues.responder else None
    if not m:
        return None
    name = re.sub(r"^(?:the|The)\s+", "", m.group(1)).strip()
    if _GOVERNMENT.match(name) or len(name) < 3 or not name[:1].isupper():
        return None
    if re.match(r"^(?:UK|HM|Her\s+Majesty|His\s+Majesty)?\s*Government\b", name):
        return None
    return name

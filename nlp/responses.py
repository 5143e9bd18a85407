"""Government responses to recommendations: which recommendation, what stance, by when.

A response document (Treasury Minutes, a government response to an inquiry) restates each
recommendation, numbered, then answers it: '1.1 The government agrees with the Committee's
recommendation.', 'This recommendation is accepted in principle by the UK Government.'
This module walks the blocks in order, keeps track of the recommendation being answered
(from 'Recommendation 3:', '3: PAC recommendation', restated items '2a.', or a Treasury
Minutes paragraph '3.1'), and turns each response statement into a candidate with its
stance. Stance cues and statement shapes are data (``nlp/data/response_patterns.json``).
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from nlp.layout import Layout
from nlp.segment import SentSpan

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass
class ResponsePatterns:
    order: list[str] = field(default_factory=list)
    stances: dict[str, list[re.Pattern]] = field(default_factory=dict)
    statement: list[re.Pattern] = field(default_factory=list)
    target_date: list[re.Pattern] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict) -> "ResponsePatterns":
        return cls(
            order=list(data.get("order", [])),
            stances={k: [re.compile(p, re.I) for p in v] for k, v in data.get("stances", {}).items()},
            statement=[re.compile(p, re.I) for p in data.get("statement", [])],
            target_date=[re.compile(p, re.I) for p in data.get("target_date", [])],
        )


@lru_cache(maxsize=4)
def load_response_patterns(path: str | None = None) -> ResponsePatterns:
    p = Path(path) if path else DATA_DIR / "response_patterns.json"
    return ResponsePatterns.from_dict(json.loads(p.read_text(encoding="utf-8")))


@dataclass
class ResponseCandidate:
    start: int
    end: int
    text: str
    responds_to: str | None
    stance: str
    target_date: str | None = None
    responder: str | None = None  # the body answering, when not the government
    stance_evidence: str | None = None  # the sentence that decided the stance
    implementation: str | None = None  # implemented | in_progress | not_started | superseded
    quoted: str | None = None  # the recommendation as the response quotes it


LABEL_PREFIX = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,3})*)\.?\s+")
CITED = re.compile(
    r"\brecommendations?\s+(\d{1,3}[a-z]?(?:\)?\s?\(?[a-z]\)?)?(?:\s?\(?[ivx]{1,4}\)?)?"
    r"(?:\s?(?:[-–]|and|to)\s?\(?[a-z0-9]{1,3}\)?)?)",
    re.I,
)
RESTART = re.compile(
    r"(?<=[a-z0-9)])\s+(?=(?:This|These)\s+(?:sub-?)?recommendations?\s+(?:is|are|has|have)\b|"
    r"The\s+(?:UK\s+)?[Gg]overnment\s+(?:accepts|agrees|rejects|does\s+not)\b)"
)
GOVERNMENT = re.compile(
    r"\b(UK\s+Government|Scottish\s+Government|Welsh\s+Government|Northern\s+Ireland\s+Executive|"
    r"NI\s+Executive|Department|Treasury|NHS\s+England)\b",
    re.I,
)


def stance_of(sentence: str, patterns: ResponsePatterns | None = None) -> str | None:
    """The stance a response statement takes, or None when it is not a response statement."""
    patterns = patterns or load_response_patterns()
    body = LABEL_PREFIX.sub("", sentence, count=1)
    if not any(p.search(body) for p in patterns.statement):
        # 'Recognising the importance ..., we accept that ...': a lead clause, then the statement
        comma = body.find(", ", 0, 160)
        if comma < 0 or not any(p.search(body[comma + 2:]) for p in patterns.statement):
            return None
    # The cue nearest the start of the statement decides ('accepts ..., and ... when it
    # disagrees' is an acceptance); on a tie the more specific stance wins.
    best: tuple[int, int, str] | None = None
    for rank, stance in enumerate(patterns.order):
        for p in patterns.stances.get(stance, []):
            m = p.search(body)
            if m and (best is None or (m.start(), rank) < best[:2]):
                best = (m.start(), rank, stance)
    if best is None:
        return "other" if re.search(r"recommendation", body, re.I) else None
    if best[2] == "other" and not re.search(r"recommendation", body, re.I):
        return None
    return best[2]


def _clean_label(label: str) -> str:
    label = re.sub(r"\s", "", label).rstrip(".")
    if "(" not in label:
        label = label.replace(")", "")
    return label


def is_response_document(layout: Layout, spans: list[SentSpan],
                         patterns: ResponsePatterns | None = None) -> bool:
    """True for a document whose job is to answer recommendations."""
    from nlp.stance import is_status

    patterns = patterns or load_response_patterns()
    hits = 0
    statuses = 0  # 'Recommendation implemented', 'Work in progress': a progress report
    for s in spans:
        statuses += is_status(layout.text[s.start:s.end])
        if statuses >= 2:
            return True
        sent = layout.text[s.start:s.end]
        if len(sent) > 600 or not re.search(r"accept|agree|reject|recommendation", sent, re.I):
            continue
        stance = stance_of(sent, patterns)
        if stance and re.search(r"recommendation|committee|inquiry|this\s+is\s+accepted", sent, re.I):
            hits += 1
            if hits >= 3:
                return True
    head = layout.text[:3000].lower()
    return hits >= 1 and bool(re.search(r"(?:government|treasury)\s+(?:response|minutes)|response\s+to\s+the", head))


def find_responses(layout: Layout, spans: list[SentSpan],
                   patterns: ResponsePatterns | None = None) -> list[ResponseCandidate]:
    """Response statements of a response document (empty for any other document).

    Two shapes: verdict lines ('1.1 The government agrees ...', 'This recommendation is
    accepted ...') under restated recommendations, read here; and prose answers after quoted
    paragraphs, read by ``nlp.quoted_responses``, used when it answers clearly more recommendations.
    """
    from nlp.quoted_responses import find_quoted_responses

    from nlp.quoted_responses import exchanges

    patterns = patterns or load_response_patterns()
    titled = re.search(r"\b(?:government\s+response|treasury\s+minutes)\b", layout.text[:1500], re.I)
    if not is_response_document(layout, spans, patterns) and not (titled and len(exchanges(layout, spans)) >= 2):
        return []
    verdicts = [_enrich(c, layout) for c in _verdict_responses(layout, spans, patterns)]
    quoted = find_quoted_responses(layout, spans, patterns)
    # verdict lines, where a document prints them, are the more precise reading
    return quoted if _prefer_quoted(quoted, verdicts) else verdicts


def _prefer_quoted(quoted: list[ResponseCandidate], verdicts: list[ResponseCandidate]) -> bool:
    """The prose reading, when it answers clearly more, or everything the verdicts answer and more."""
    from nlp.labels import expand_labels

    if _coverage(quoted) > 1.5 * _coverage(verdicts):
        return True
    q = {lb for c in quoted for lb in expand_labels(c.responds_to)}
    v = {lb for c in verdicts for lb in expand_labels(c.responds_to)}
    return all(c.responds_to for c in quoted) and v <= q and len(q) > len(v)


def _coverage(cands: list[ResponseCandidate]) -> int:
    """How many recommendations a reading answers: distinct labels, plus answers without one."""
    from nlp.labels import expand_labels

    labels = {lb for c in cands for lb in expand_labels(c.responds_to)}
    return len(labels) + sum(1 for c in cands if not c.responds_to)


def _enrich(cand: ResponseCandidate, layout: Layout) -> ResponseCandidate:
    """Evidence, responder and delivery state of a verdict line (and the lines after it)."""
    from nlp.stance import implementation_of, responder_of

    cand.stance_evidence = cand.text
    cand.responder = responder_of(cand.text)
    cand.implementation = implementation_of(layout.text[cand.start:cand.end + 600].split("\n\n")[0]
                                            + " " + cand.text)
    return cand


class _Restated:
    """Which recommendation(s) the verdict lines answer, from the restated ones seen so far."""

    def __init__(self) -> None:
        self.context: list[str] = []  # labels of the recommendation(s) being answered
        self.pending_new = True  # a new restated recommendation started since the last response
        self.group: str | None = None  # '2) Recognising and remembering' opens a group of '2a.', '2b.'

    def push(self, label: str, fresh: bool | None = None) -> None:
        self.context = _push(self.context, label, self.pending_new if fresh is None else fresh)
        self.pending_new = False

    def see(self, b, text: str, answered: dict, patterns: ResponsePatterns) -> None:
        label = _clean_label(b.label) if b.label else None
        body = text[b.start:b.end]
        if b.style in ("rec", "pac") and label:
            if b.style == "pac" and not re.search(r"recommendation", b.marker or "", re.I):
                return
            if b.style == "rec" and not _restates(body) and (
                    len(body.split()) < 4 or re.search(r"accept|agree|reject|Recommendation\s+\d",
                                                       body[len(b.marker or ""):])):
                return  # 'Recommendation 4a) i)' in a summary table
            self.push(label)
        elif b.style == "paren" and label and label.isdigit() and b.kind in ("item", "heading"):
            self.group = label
        elif b.style in ("num", "paren", "letter", "compound") and label \
                and b.kind in ("item", "heading") and _restates(body) and not _group_heading(body, b.marker):
            if label.isalpha() and self.group:
                label = self.group + label
            if label not in answered:  # '4a) v. DHSC recognises ...' under an answer explains it
                self.push(label)
        elif b.style == "dotted" and label and stance_of(body[:400], patterns):
            self.context = []
            self.push(label.split(".")[0], True)


def _verdict_responses(layout: Layout, spans: list[SentSpan],
                       patterns: ResponsePatterns) -> list[ResponseCandidate]:
    text = layout.text
    blocks = layout.blocks
    state = _Restated()
    answered: dict[str, set[str]] = {}  # recommendation → the governments whose answer we have
    out: list[ResponseCandidate] = []
    last_block = -1
    for s in spans:
        sent = text[s.start:s.end]
        if s.block != last_block:
            last_block = s.block
            state.see(blocks[s.block], text, answered, patterns)
        context = state.context
        if len(sent) > 700:
            continue
        stance = stance_of(sent, patterns)
        offset = 0
        if stance is None:
            # a statement glued to the restated recommendation ('... set up now This
            # recommendation is accepted in full.') when the restatement had no full stop
            m = RESTART.search(sent)
            if m:
                offset = m.end()
                stance = stance_of(sent[offset:], patterns)
            if stance is None:
                continue
            sent = sent[offset:]
        cited = CITED.search(sent)
        responds = ", ".join(context) if context else None
        if cited and (not context or not re.search(r"\b(?:this|these)\s+recommendations?\b", sent, re.I)):
            responds = _clean_label(re.sub(r"\s*(?:and|to)\s*", "-", cited.group(1)))
        if responds is None:
            continue
        bodies = {_body(g) for g in GOVERNMENT.findall(sent)}
        labels = _expand(responds)
        if labels and all(_answered(lb, answered) for lb in labels):
            # The first statement answers the recommendation; later ones elaborate ('However,
            # the government does not agree that ...', 'we accept this recommendation in
            # principle and ...'), unless they speak for a government the earlier statements
            # did not cover ('... accepted in principle by the Northern Ireland Executive').
            covered = set().union(*(answered.get(lb, set()) for lb in labels))
            if not bodies or not covered or bodies <= covered:
                continue
        for lb in labels:
            answered.setdefault(lb, set()).update(bodies)
        state.pending_new = True
        out.append(ResponseCandidate(s.start + offset, s.end, LABEL_PREFIX.sub("", sent, count=1).strip()
                                     if re.match(r"^\d+\.\d+\s", sent) else sent.strip(),
                                     responds, stance, _target_date(text, s, blocks, patterns)))
    return out


_DATEISH = re.compile(r"\d|\b(?:spring|summer|autumn|winter|january|february|march|april|may|june|july|august|"
                      r"september|october|november|december|end\s+of|ongoing)\b", re.I)


def _expand(responds: str) -> list[str]:
    """'4a(iv), 4a(v)' → ['4a(iv)', '4a(v)']; '12a-c' → ['12a', '12b', '12c']."""
    out: list[str] = []
    for part in re.split(r"\s*,\s*", responds or ""):
        m = re.fullmatch(r"(\d+)([a-z])-([a-z])", part)
        if m and m.group(2) <= m.group(3):
            out += [f"{m.group(1)}{chr(c)}" for c in range(ord(m.group(2)), ord(m.group(3)) + 1)]
        elif part:
            out.append(part)
    return out


def _answered(label: str, answered: dict[str, set[str]]) -> bool:
    """Whether ``label`` (or, for a bare number, one of its parts) already has an answer."""
    if label in answered:
        return True
    return label.isdigit() and any(re.match(rf"{label}(?![0-9])", k) for k in answered)


def _group_heading(body: str, marker: str | None) -> bool:
    """'10a) i-iii) That the patient voice be enabled by the following measures' opens a group."""
    rest = body[len(marker or ""):] if marker and body.startswith(marker) else body
    return re.match(r"^\s*\(?[ivx]{1,4}\s?[-–]\s?[ivx]{1,4}\)", rest) is not None


def _body(name: str) -> str:
    name = " ".join(name.lower().split())
    return {"ni executive": "northern ireland executive"}.get(name, name)


_SUBJUNCTIVE = re.compile(
    r"\b(?:should|must)\b|\bbe\s+(?:\w+ly\s+)?(?:[a-z]+ed|given|taken|made|set\s+up|shown|brought|kept|drawn|"
    r"done|undertaken|written|paid|sought|built|held|run|met)\b|\bis\s+maintained\b",
    re.I,
)


def _restates(body: str) -> bool:
    """A numbered item that restates a recommendation (asks someone to act).

    Inquiry recommendations are often subjunctive: 'That a culture of defensiveness ...
    be addressed', 'Steps be taken to ...', 'That the following charities receive funding'.
    """
    text = LABEL_PREFIX.sub("", body, count=1)
    text = re.sub(r"^\s*(?:\(?[a-z0-9]{1,4}[.)]\s*){1,3}", "", text)
    return bool(_SUBJUNCTIVE.search(text) or re.match(r"^\s*That\s+\w+", text))


def _push(context: list[str], label: str, fresh: bool) -> list[str]:
    if fresh:
        return [label]
    if label in context:
        return context
    return context + [label]


def _target_date(text: str, span: SentSpan, blocks, patterns: ResponsePatterns) -> str | None:
    """'Target implementation date: Spring 2018' after the statement, else a date in it."""
    window_end = span.end + 1500
    following = text[span.start:window_end]
    m = patterns.target_date[0].search(following) if patterns.target_date else None
    if m:
        # stop at the next response statement: the date belongs to the nearest one
        nxt = re.search(r"\n\n\s*(?:\d+\s*:\s*PAC|Recommendations?\s+\d)", following)
        if nxt is None or m.start() < nxt.start():
            value = m.group(1).strip(" .;:")
            # 'Target implementation date: implemented' / 'not applicable' names no date
            return value if _DATEISH.search(value) else None
    sentence = text[span.start:span.end]
    for rx in patterns.target_date[1:]:
        m = rx.search(sentence)
        if m:
            return m.group(1).strip()
    return None

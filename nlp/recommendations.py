"""Formal recommendations: where they are, what they say, their label and deadline.

A document states recommendations in a few recognisable shapes:

* labelled items, 'Recommendation 3: ...' or a PAC-style 'Recommendation: ...' paragraph;
* numbered or lettered items in a recommendations section, or after a lead-in such as
  'Accordingly, I recommend:' (items may run over lines and pages: ``nlp.layout`` has
  already glued them back together);
* first-person prose, 'We recommend that ...';
* when a document has none of those, 'The Department should ...' sentences addressed to a
  public body.

Descriptive or rhetorical 'should' ('patients should expect', 'should have been') is not a
recommendation. All rules are data (``nlp/data/recommendation_patterns.json``); the actor is
read from a dependency parse later, only for the sentences found here.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from nlp.closing_list import GLUED_LABEL, closing_item, opens_closing_chapter, tag_of
from nlp.layout import DIVISION, Block, Layout
from nlp.segment import SentSpan

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
NEWS_MAX_WORDS = 2500  # reported recommendations count only in short, news-like texts
CENTRAL_ACTOR = re.compile(
    r"^(?:in\s+(?:future|particular|the\s+\w+\s+term),?\s+|therefore,?\s+|also,?\s+)?"
    r"(?:the\s+)?(?:UK\s+)?(?:Department|Departments|DHSC|DH|DCLG|MHCLG|DLUHC|Government|government|"
    r"Treasury|HM\s+Treasury|Cabinet\s+Office|Ministers?|Secretary\s+of\s+State|NHS\s+England|"
    r"NHS\s+Improvement|NHSE|NHSEI|Committee)\b",
)


@dataclass
class RecPatterns:
    section_headings: list[re.Pattern] = field(default_factory=list)
    section_end_headings: list[re.Pattern] = field(default_factory=list)
    lead_ins: list[re.Pattern] = field(default_factory=list)
    directive: list[re.Pattern] = field(default_factory=list)
    descriptive: list[re.Pattern] = field(default_factory=list)
    first_person: list[re.Pattern] = field(default_factory=list)
    reported: list[re.Pattern] = field(default_factory=list)
    actors: list[re.Pattern] = field(default_factory=list)
    deadline: list[re.Pattern] = field(default_factory=list)
    deadline_vague: list[re.Pattern] = field(default_factory=list)  # 'as soon as possible': only when no date is given

    @classmethod
    def from_dict(cls, data: dict) -> "RecPatterns":
        def comp(key: str) -> list[re.Pattern]:
            return [re.compile(p, re.I) for p in data.get(key, [])]

        return cls(**{k: comp(k) for k in cls.__dataclass_fields__})


@lru_cache(maxsize=4)
def load_recommendation_patterns(path: str | None = None) -> RecPatterns:
    p = Path(path) if path else DATA_DIR / "recommendation_patterns.json"
    return RecPatterns.from_dict(json.loads(p.read_text(encoding="utf-8")))


@dataclass
class RecCandidate:
    """A recommendation in clean-text offsets, before the actor is parsed."""

    start: int
    end: int
    text: str
    label: str | None
    source: str  # labelled | section | lead_in | first_person | directive | reported
    deadline: str | None = None
    actor: str | None = None
    raw: str = ""  # the clean text with block breaks ('\n\n') kept, for sentence-level work


def _any(patterns: list[re.Pattern], text: str) -> bool:
    return any(p.search(text) for p in patterns)


# A quotation of at least three words. The lookahead checks the two spaces in linear time; the
# former nested form ``(?:[^”"]{0,400}?\s){2,}`` backtracked exponentially on an unclosed quote
# (a 22 KB NHS guide took minutes in one sentence).
QUOTED = re.compile(r"[“\"](?=(?:[^”\"\s]*\s){2})[^”\"]*[”\"]")


def is_directive(text: str, patterns: RecPatterns) -> bool:
    """A sentence that asks someone to act (and is not a descriptive 'should').

    Words inside a quotation ('I said: “... should ...”') are someone else's and do not count.
    """
    text = QUOTED.sub(" ", text)
    return _any(patterns.directive, text) and not _any(patterns.descriptive, text)


def deadline_for(text: str, patterns: RecPatterns | None = None) -> str | None:
    """'by July 2017', 'within 12 months of the publication of this Report', else an urging
    without a date ('at the earliest opportunity', 'as soon as possible'), or None."""
    patterns = patterns or load_recommendation_patterns()
    for group in (patterns.deadline, patterns.deadline_vague):
        best = None
        for rx in group:
            m = rx.search(text)
            if m and (best is None or m.start() < best.start()):
                best = m
        if best:
            return best.group(0).strip()
    return None


def actor_by_rules(text: str) -> str | None:
    """The words before the first modal: a fallback when no parse is available."""
    m = re.search(r"(?:^|[.;:]\s+)([A-Z][^.;:]{1,120}?)\s+(?:should|must|ought\s+to|shall|needs?\s+to)\b", text)
    if not m:
        return None
    actor = re.sub(r"^(?:In\s+(?:future|particular),?\s+|Therefore,?\s+|Also,?\s+)", "", m.group(1))
    actor = re.sub(r"\s+(?:each|also|now|therefore|urgently|jointly|together|still|all)$", "", actor)
    if re.fullmatch(r"(?:it|this|there|that|these|they|we|which|he|she)", actor, re.I):
        return None
    return actor.strip() or None


_NAME_WORD = r"(?:[A-Z][\w&’'\-]*|governments?|departments?|and|of|for|the|&)"
RECOMMEND_THAT = re.compile(
    rf"\brecommends?\s+that\s+((?:the\s+)?[A-Z][\w&’'\-]*(?:,?\s+{_NAME_WORD})*)(?=,?\s+[a-z]|\s*:)"
)


def named_actor(sentence: str) -> str | None:
    """The named body in 'We recommend that HM Treasury and the Department agree ...'.

    The statistical parse often reads a subjunctive verb ('the Department publish ...')
    as part of the noun phrase; the run of capitalised words before the first lowercase
    word is the body asked to act.
    """
    m = RECOMMEND_THAT.search(sentence)
    if not m or re.match(r",?\s+(?:should\s+|must\s+)?(?:be|is|are)\b", sentence[m.end():]):
        return None  # 'that X be made a member': X is acted upon, not asked to act
    actor = re.sub(r"(?:,?\s+(?:and|of|for|the|&))+$", "", m.group(1)).strip(" ,")
    return actor if len(actor.split()) <= 16 else None


_MARKER = re.compile(
    r"^(?:(?:Key\s+)?Recommendations?\s*(?:\d{1,3}(?-i:[a-z])?(?:\s?\(?(?-i:[a-z])\))?)?\s*[:.\-–—)]?\s*|"
    r"\d{1,3}\s*:\s*PAC\s+recommendations?\s*:?\s*|\(?[a-z0-9]{1,4}\)\s+|\d{1,2}(?-i:[a-z])?\.\s+|"
    r"(?-i:[a-z]\s+(?=[A-Z‘“'\"]))|"
    r"[●•▪■◦‣▶►✓➢→·\-–—*]\s*)",
    re.I,
)


def strip_marker(text: str) -> str:
    return _MARKER.sub("", text, count=1).strip()


class _Labels:
    """The current position in a nested list: 4 → 4a → 4a(i)."""

    def __init__(self) -> None:
        self.num: str | None = None
        self.letter: str | None = None
        self.roman: str | None = None

    def update(self, block: Block) -> str | None:
        label, style = block.label, block.style
        if not label:
            return None
        if style == "compound":
            m = re.match(r"(\d+)([a-z])\(([ivx]+)\)", label)
            if m:
                self.num, self.letter, self.roman = m.groups()
                return self.current()
        if style in ("num", "nao_num", "rec", "pac") or (style == "paren" and label[0].isdigit()):
            self.num, self.letter, self.roman = label, None, None
        elif style == "roman" or (style == "paren" and label in ("i", "v", "x") and self.letter
                                  and self.letter not in ("h", "u", "w")):
            self.roman = label
        elif style == "letter":
            self.letter, self.roman = label, None
            return label  # NAO letters run on across numbered paragraphs: the letter is the label
        elif style == "paren":
            self.letter, self.roman = label, None
        else:
            return label
        return self.current()

    def current(self) -> str | None:
        out = self.num or ""
        if self.letter:
            out += self.letter
        if self.roman:
            out += f"({self.roman})"
        return out or None


def _block_text(layout: Layout, block: Block) -> str:
    return layout.text[block.start:block.end]


def _heading_text(layout: Layout, block: Block) -> str:
    return re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", _block_text(layout, block)).strip(" *")


def _section_flags(layout: Layout, patterns: RecPatterns) -> list[bool]:
    """For each block, whether it lies inside a recommendations section."""
    flags = []
    inside = False
    depth: int | None = None
    found_since_open = False
    last_number = 0  # the highest item number seen in the section
    chapter = False  # opened by 'Chapter 8: Conclusions and recommendations': only a division ends it
    for index, block in enumerate(layout.blocks):
        number = int(block.label) if block.label and block.label.isdigit() and block.style in (
            "num", "nao_num", "paren") else None
        if block.kind == "heading":
            text = _block_text(layout, block).strip(" *")
            title = _heading_text(layout, block)
            if opens_closing_chapter(text):
                inside, chapter, depth, last_number = True, True, None, 0
            elif chapter and inside:
                inside = not _any(patterns.section_end_headings, title) and not DIVISION.match(text)
                chapter = inside
            elif _any(patterns.section_headings, text) or _any(patterns.section_headings, title):
                inside = True
                depth = block.label.count(".") + 1 if block.style == "dotted" and block.label else None
                found_since_open = False
                last_number = 0
            elif inside and (
                _any(patterns.section_end_headings, title)
                or (depth is not None and block.style == "dotted" and block.label
                    and block.label.count(".") + 1 <= depth)
                or (depth is None and block.label is None and found_since_open
                    and not _numbering_continues(layout, index, last_number))
                # '1 Setting up integrated care systems' after conclusions 1-6: the numbering
                # restarts, so a new chapter has begun
                or (number is not None and last_number and number <= last_number)
            ):
                inside = False
        elif inside and block.kind == "item":
            found_since_open = True
        if inside and number is not None:
            last_number = max(last_number, number)
        flags.append(inside)
    return flags


def _numbering_continues(layout: Layout, index: int, last_number: int) -> bool:
    """A theme heading inside a closing list: the item after it carries on the numbering."""
    for block in layout.blocks[index + 1:index + 4]:
        if block.label and block.label.isdigit() and block.style in ("num", "nao_num", "paren"):
            return int(block.label) == last_number + 1
    return False


def _extend(layout: Layout, start_index: int, patterns: RecPatterns, max_blocks: int = 10) -> int:
    """Index after the last block that still belongs to the recommendation at ``start_index``."""
    blocks = layout.blocks
    j = start_index + 1
    open_colon = _block_text(layout, blocks[start_index]).rstrip().endswith(":")
    while j < len(blocks) and j - start_index < max_blocks:
        b = blocks[j]
        text = _block_text(layout, b)
        if b.kind == "heading" or b.style in ("rec", "pac", "dotted", "nao_num", "num", "letter"):
            break
        if b.kind == "item" and b.style == "paren" and not open_colon:
            break
        if b.kind == "para" and not open_colon and not is_directive(text, patterns):
            break
        if b.kind == "para" and re.match(r"^(?:the\s+)?(?:uk\s+)?government\s+(?:agrees|accepts)", text, re.I):
            break
        open_colon = text.rstrip().endswith(":") or (b.kind == "item" and open_colon)
        j += 1
    return j


def find_recommendations(layout: Layout, spans: list[SentSpan],
                         patterns: RecPatterns | None = None) -> list[RecCandidate]:
    """Formal recommendations of a document (see the module docstring)."""
    patterns = patterns or load_recommendation_patterns()
    flags = _section_flags(layout, patterns)
    out, block_labels = _formal_items(layout, spans, patterns, flags)
    out += _first_person(layout, spans, patterns, out, [lb if f else None for lb, f in zip(block_labels, flags)])
    if out:
        return drop_restatements(sorted(out, key=lambda c: c.start))
    return _directive_sentences(layout, spans, patterns) or _reported(layout, spans, patterns)


def _formal_items(layout: Layout, spans: list[SentSpan], patterns: RecPatterns,
                  flags: list[bool]) -> tuple[list[RecCandidate], list[str | None]]:
    """Labelled, closing-list, section and lead-in items, and the list position at each block."""
    blocks = layout.blocks
    text = layout.text
    span_starts = [s.start for s in spans]  # in document order: _last_sentence bisects them
    labels = _Labels()
    block_labels: list[str | None] = [None] * len(blocks)  # the list position at each block
    out: list[RecCandidate] = []
    lead_in: str | None = None  # 'list' (each item a recommendation) or 'bundle' (one with bullets)
    lead_text: str | None = None  # 'The Department should:' over lettered items
    i = 0
    while i < len(blocks):
        b = blocks[i]
        btext = _block_text(layout, b)
        current = labels.update(b) if b.label else labels.current()
        block_labels[i] = current
        if flags[i] and _closing_shape(layout, b, btext):
            found = closing_item(layout, spans, i, patterns.descriptive)
            if found:
                out.append(_candidate(layout, found[0], found[1], found[2], "section", patterns))
                while i + 1 < len(blocks) and blocks[i + 1].start < found[1]:
                    i += 1
            i += 1
            continue
        if b.style == "rec" or (b.style == "pac" and re.search(r"recommendation", b.marker or "", re.I)):
            j = _extend(layout, i, patterns)
            out.append(_candidate(layout, b.start, blocks[j - 1].end, b.label or current, "labelled", patterns))
            lead_in = None
            i = j
            continue
        if b.kind == "para" and flags[i] and b.style is None and lead_in is None:
            # 'The Department should ...' / 'We recommend that ...' as a paragraph of its own
            # after a numbered conclusion in a recommendations section
            first = _first_sentence(btext)
            if (_any(patterns.first_person, first) or (is_directive(first, patterns) and _actor_subject(first, patterns))) \
                    and not _any(patterns.descriptive, first):
                out.append(_candidate(layout, b.start, b.end, current, "section", patterns))
                i += 1
                continue
        if b.kind in ("para", "heading") and b.style not in ("num", "nao_num"):
            lead_in, lead_text = None, None
            last = _last_sentence(text, spans, b, span_starts)
            if _any(patterns.lead_ins, last):
                lead_in = "bundle" if re.search(r"\b(?:should|must)\s*:\s*$", last) and \
                    not re.search(r"\brecommend", last, re.I) else "list"
                if lead_in == "bundle" and not (flags[i] or CENTRAL_ACTOR.match(strip_marker(last))):
                    lead_in = None  # 'Providers must:' in guidance is a requirement, not a recommendation
                if lead_in == "bundle":
                    j = _extend(layout, i, patterns)
                    if j > i + 1:
                        out.append(_candidate(layout, b.start, blocks[j - 1].end, None, "lead_in", patterns))
                        i = j
                        lead_in = None
                        continue
                    lead_in = None
            i += 1
            continue
        in_list = lead_in == "list"
        if b.kind == "item" or b.style in ("num", "nao_num"):
            body = strip_marker(btext)
            first = _first_sentence(body)
            group_heading = b.kind == "heading" or (
                b.style in ("num", "nao_num") and not is_directive(first, patterns))
            if group_heading and b.style in ("num", "nao_num"):
                if b.kind == "item" and len(body.split()) > 40:
                    lead_in = None  # a numbered discussion paragraph ends the list
                found = closing_item(layout, spans, i, patterns.descriptive) \
                    if flags[i] and b.style == "num" and len(body.split()) > 12 else None
                if found:  # 'Councils cut transport first. The Department should ...': a conclusion, then
                    out.append(_candidate(layout, found[0], found[1], current, "section", patterns))
                i += 1
                continue  # '2. Recognising and remembering' groups the items that follow
            accept = False
            if in_list and b.style != "bullet":
                accept = is_directive(first, patterns) or (5 <= len(body.split()) < 60 and not _title_like(body))
            elif in_list and b.style == "bullet":
                accept = is_directive(body, patterns) or len(body.split()) >= 4
            elif flags[i] and b.style != "bullet" and is_directive(first, patterns):
                accept = True
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            if accept and btext.rstrip().endswith(":") and nxt is not None and nxt.kind == "item" \
                    and nxt.style in ("roman", "paren", "compound", "letter") and nxt.label:
                # '(a) ... by the following measures:' then '(i) ...', '(ii) ...', or an NAO
                # '4 The Department should:' then 'a ...', 'b ...': each part is a recommendation
                # of its own; the lead is their heading and names who is to act
                lead_in, lead_text = "list", strip_marker(btext)
                i += 1
                continue
            if accept:
                j = _extend(layout, i, patterns) if btext.rstrip().endswith(":") else i + 1
                start = b.start + len(b.marker) if b.style == "letter" and b.marker and \
                    btext.startswith(b.marker) else b.start
                out.append(_candidate(layout, start, blocks[j - 1].end, current, "section" if not in_list
                                      else "lead_in", patterns))
                if in_list and lead_text and not is_directive(out[-1].text, patterns):
                    out[-1].raw = lead_text + " " + out[-1].raw
                i = j
                continue
        i += 1

    return out, block_labels


def _first_person(layout: Layout, spans: list[SentSpan], patterns: RecPatterns, found: list[RecCandidate],
                  labels: list[str | None]) -> list[RecCandidate]:
    """'We recommend that ...' sentences outside the items already found."""
    covered = [(c.start, c.end) for c in found]
    out = []
    for s in spans:
        sent = layout.text[s.start:s.end]
        if any(s.start < e and s.end > a for a, e in covered) or sent.rstrip().endswith(":"):
            continue
        if _any(patterns.first_person, sent) and not _any(patterns.descriptive, sent) \
                and not _quoted(sent) and layout.blocks[s.block].kind != "heading":
            out.append(_candidate(layout, s.start, s.end, labels[s.block], "first_person", patterns))
    return out


def _directive_sentences(layout: Layout, spans: list[SentSpan], patterns: RecPatterns) -> list[RecCandidate]:
    """With nothing formal: 'The Department should ...' addressed to a public body."""
    conclusions = _conclusion_flags(layout)
    out = []
    for s in spans:
        sent = layout.text[s.start:s.end]
        if layout.blocks[s.block].kind == "heading" or _quoted(sent):
            continue
        m = re.match(r"^(?:[^,]{0,40},\s+)?(.{0,120}?)\s+(?:should|must|ought\s+to)\s+(?!have\b|not\s+have\b|be\s+noted)", sent)
        if not m or not is_directive(sent, patterns):
            continue
        subject = m.group(1)
        if not _any(patterns.actors, subject) or len(subject.split()) > 12 or re.search(
                r"\b(?:will|would|can|could|is|are|was|were|has|have|had|that|which|who|to|if|when|it)\b",
                subject, re.I):
            continue
        if CENTRAL_ACTOR.match(subject.strip()) or conclusions[s.block]:
            out.append(_candidate(layout, s.start, s.end, None, "directive", patterns))
    return out


def _reported(layout: Layout, spans: list[SentSpan], patterns: RecPatterns) -> list[RecCandidate]:
    """Another body's recommendations, reported: only in short, news-like texts."""
    if layout.paged or len(layout.text.split()) > NEWS_MAX_WORDS:
        return []
    return [_candidate(layout, s.start, s.end, None, "reported", patterns) for s in spans
            if _any(patterns.reported, layout.text[s.start:s.end])
            and re.search(r"\b(?:need|should|must|call|urg|recommend)", layout.text[s.start:s.end], re.I)]


_STOP = frozenset("""a an and are as at be by for from has have in is it its of on or should that the their
there this to which will with within must each all any been also into not such than them they was were
recommend recommends recommended recommendation recommendations therefore inquiry committee review report
we our order further""".split())


def content_words(text: str) -> set[str]:
    """Content words, crudely singular ('exercises' → 'exercise'), for comparing restatements."""
    return {re.sub(r"(?<=[a-z]{3})s$", "", w) for w in re.findall(r"[a-z0-9]+", text.lower())
            if w not in _STOP and len(w) > 2}


def _overlap(a: set[str], b: set[str]) -> float:
    """Share of ``a``'s words that are also in ``b``."""
    return len(a & b) / len(a) if a else 0.0


def drop_restatements(cands: list[RecCandidate], same: float = 0.8, prose: float = 0.55) -> list[RecCandidate]:
    """One candidate per recommendation.

    Reports restate their recommendations: a list at the end or in the summary repeats
    each numbered item word for word, and prose before a boxed recommendation says 'The
    Inquiry recommends that ...' in other words. The first full statement is kept: a
    later item with the same label and nearly the same words is dropped, and so is a
    first-person sentence whose words mostly appear in one labelled recommendation.
    """
    kept: list[RecCandidate] = []
    words = [content_words(c.text) for c in cands]
    formal = [i for i, c in enumerate(cands) if c.source in ("labelled", "section", "lead_in")]
    for i, c in enumerate(cands):
        if c.source in ("labelled", "section", "lead_in"):
            # the same words again, whatever the label (a summary list may number differently)
            def repeats(k: RecCandidate) -> bool:
                if k.source not in ("labelled", "section", "lead_in"):
                    return False
                a, b = _overlap(words[i], content_words(k.text)), _overlap(content_words(k.text), words[i])
                # nearly the same words; or, under the same label, one contained in the other
                return min(a, b) >= same or (k.label == c.label and max(a, b) >= same)

            if any(repeats(k) for k in kept):
                continue
        elif c.source == "first_person" and len(formal) >= 2:
            if any(_overlap(words[i], words[j]) >= prose for j in formal):
                continue
        kept.append(c)
    return _drop_parts(kept)


def _drop_parts(cands: list[RecCandidate], share: float = 0.85) -> list[RecCandidate]:
    """A bullet of the body that a closing-list item repeats whole is part of that item."""
    formal = ("labelled", "section", "lead_in")
    words = [content_words(c.text) for c in cands]
    return [c for i, c in enumerate(cands) if c.source not in formal or not any(
        j != i and cands[j].source in formal and len(words[j]) > 1.5 * len(words[i])
        and _overlap(words[i], words[j]) >= share for j in range(len(cands)))]


def _closing_shape(layout: Layout, b: Block, btext: str) -> bool:
    """A numbered paragraph of a closing list ('8.5. We urge ...', '12. ... (Recommendation, Paragraph 40)')."""
    if b.kind == "heading":
        return False
    if tag_of(btext):
        return True
    return b.kind == "para" and (b.style == "dotted" or (b.style is None and GLUED_LABEL.search(btext[:80]) is not None))


def _title_like(text: str) -> bool:
    """'Establishing the outcome of every transfusion': a short line without a full stop."""
    return len(text.split()) <= 12 and not re.search(r"(?:[.;:!?]|;\s+(?:and|or))\W*$", text.strip())


def _actor_subject(sentence: str, patterns: RecPatterns) -> bool:
    """'The Department and NHS England should ...': a named public body is asked to act."""
    m = re.match(r"^(?:[^,]{0,40},\s+)?(.{0,120}?)\s+(?:should|must|ought\s+to)\s+(?!have\b|not\s+have\b|be\s+noted)",
                 sentence)
    if not m:
        return False
    subject = m.group(1)
    return bool(CENTRAL_ACTOR.match(subject.strip()) or _any(patterns.actors, subject)) and len(subject.split()) <= 14 \
        and not re.search(r"\b(?:will|would|can|could|is|are|was|were|has|have|had|that|which|who|if|when|it)\b",
                          subject, re.I)


def _first_sentence(text: str) -> str:
    from nlp.segment import split_text

    spans = split_text(text)
    return text[spans[0][0]:spans[0][1]] if spans else text


def _quoted(sentence: str) -> bool:
    s = sentence.strip()
    return s[:1] in "“\"‘" and s.rstrip()[-1:] in "”\"’"


def _last_sentence(text: str, spans: list[SentSpan], block: Block, starts: list[int] | None = None) -> str:
    """The block's last sentence. ``starts`` (the spans' start offsets, sorted as the spans
    are) makes it a binary search: scanning every span for every block was quadratic."""
    import bisect

    if starts is None:
        starts = [s.start for s in spans]
    i = bisect.bisect_left(starts, block.end) - 1
    if i >= 0 and starts[i] >= block.start:
        return text[spans[i].start:spans[i].end]
    return text[block.start:block.end]


def _conclusion_flags(layout: Layout) -> list[bool]:
    flags, inside = [], False
    for block in layout.blocks:
        if block.kind == "heading":
            title = _heading_text(layout, block).lower()
            inside = bool(re.match(r"(?:conclusions?|recommendations?|next\s+steps|the\s+way\s+forward|"
                                   r"what\s+(?:needs|should)|implications\s+for\s+policy|summary\s+of\s+findings)",
                                   title))
        flags.append(inside)
    return flags


def _candidate(layout: Layout, start: int, end: int, label: str | None, source: str,
               patterns: RecPatterns) -> RecCandidate:
    raw = layout.text[start:end]
    body = strip_marker(raw) if source in ("labelled", "section", "lead_in") else raw.strip()
    body = re.sub(r"\s*\n\n\s*", " ", body)
    return RecCandidate(start, end, body, label, source, deadline_for(body, patterns), raw=raw)

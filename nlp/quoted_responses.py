"""Responses printed as 'quoted recommendation, then the government's answer in prose'.

Government responses to select committee reports (Commons Special Reports, Command Papers,
Lords responses) quote each recommendation — numbered as in the report ('8.12. We
recommend ...'), after 'Recommendation:' or a heading such as 'Recommendation 4' — and then
answer in ordinary paragraphs with no verdict line of their own. One answer may cover
several quoted paragraphs ('8.12', '8.13'), sometimes one paragraph each, in order.

This module walks the blocks, collects the quoted paragraphs, collects the answer that
follows, and turns each answer (or each part of it) into a response whose stance is read
from its substance (``nlp.stance``). The quoted text travels with the response (``quoted``)
so the lifecycle can resolve it to the report's own recommendation when numbers differ.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from nlp.layout import Block, Layout
from nlp.segment import SentSpan
from nlp.stance import (AnswerCues, answer_stance, implementation_of, is_status, load_answer_cues, responder_of,
                        sentence_cue)

# '(paragraph 4.23).', '(Paragraphs 12–14)', '(Recommendation, Paragraph 31)' closes a quotation
QUOTE_END = re.compile(r"\((?:(?:conclusion|recommendation)s?,\s*)?(?:see\s+)?paras?(?:graphs?)?\.?\s+"
                       r"[\d.,\s\-–and]+\)\s*\.?", re.I)
# 'Hol Inquiry Recommendation', 'Recommendation 4', 'Conclusions and recommendations 2'
QUOTE_HEADING = re.compile(r"^(?:[\w’' ]{0,40}\s)?(?:recommendations?|conclusions?)(?:\s+(?:and|&)\s+"
                           r"recommendations?)?(?:\s+\d{1,3}[a-z]?)?\s*[:.]?$", re.I)
ANSWER_HEADING = re.compile(r"^(?:the\s+)?(?:government(?:['’]s)?\s+)?responses?\s*[:.]?\s*", re.I)
ASKS = re.compile(r"\b(?:should|must|ought\s+to|recommends?|urges?|encourages?|invites?|calls?\s+on)\b", re.I)
# words of an ask that say nothing of what it asks ('taking a more realistic view (paragraph 7.17)')
ASK_FILLER = {"more", "about", "why", "how", "paragraph", "paragraphs", "take", "taking", "given", "current",
              "further", "also", "available", "ensure", "consider", "should", "must", "recommend", "recommendation"}
QUOTE_STYLES = ("dotted", "num", "paren", "compound", "rec", "pac", "letter")


@dataclass
class Sent:
    start: int
    end: int
    text: str


@dataclass
class Exchange:
    """Quoted recommendation labels and texts, then the paragraphs of the answer."""

    labels: list[str] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)
    paragraphs: list[list[Sent]] = field(default_factory=list)
    quote_labels: list[str | None] = field(default_factory=list)  # the label of each quotation

    def quotes_for(self, labels: list[str]) -> str:
        """The quotations of ``labels`` (all of them when the quotations carry no label)."""
        picked = [q for q, lb in zip(self.quoted, self.quote_labels) if lb in labels]
        return " ".join(picked or self.quoted)[:2000]


def _label(block: Block) -> str | None:
    return re.sub(r"\s", "", block.label).rstrip(".") if block.label else None


def _is_quote(layout: Layout, block: Block, expecting: bool, cues: AnswerCues, previous: str | None = None) -> bool:
    """A quoted recommendation: numbered or announced, long enough, not itself an answer."""
    body = layout.text[block.start:block.end]
    if block.kind == "heading" and not expecting:
        return False
    if not (expecting or (block.label and block.style in QUOTE_STYLES) or block.style == "rec"):
        return False
    rest = body[len(block.marker or ""):] if block.marker and body.startswith(block.marker) else body
    if len(rest.split()) < (3 if expecting else 8) and not (len(rest.split()) >= 3 and rest.rstrip().endswith(":")):
        return False
    if QUOTE_END.search(body):
        return True  # '(paragraph 4.8).': the committee's words, even 'We agree with ...'
    first = re.split(r"(?<=[.!?])\s+", rest.strip(), maxsplit=1)[0]
    if _answers(first, cues):
        return False
    # a numbered paragraph of the government's own ('4. We have set up ...') is not a quotation:
    # announced, asking someone to act, or numbered like the quotations before it
    return expecting or block.style in ("rec", "pac") or ASKS.search(rest) is not None \
        or (block.style == "dotted" and bool(previous) and _label(block).split(".")[0] == previous.split(".")[0])


def _answers(sentence: str, cues: AnswerCues) -> bool:
    """'The Government agrees ...', 'We accept ...': a sentence that is an answer, not a quote."""
    if is_status(sentence, cues) or any(p.search(sentence) for p in cues.other):
        return True
    from nlp.responses import stance_of

    if stance_of(sentence) not in (None, "other"):
        return True  # a verdict line, whoever speaks ('The College of Policing accepts this recommendation')
    return bool(re.match(r"^(?:\d+(?:\.\d+)*\s+)?(?:the\s+(?:uk\s+)?government|we|the\s+department|"
                         r"this\s+recommendation|ministers)\b", sentence.strip(), re.I)
                and sentence_cue(sentence, cues))


def _sentences(layout: Layout, spans: list[SentSpan], start: int, end: int) -> list[Sent]:
    return [Sent(max(s.start, start), s.end, layout.text[max(s.start, start):s.end])
            for s in spans if s.end > start and s.start < end and layout.text[max(s.start, start):s.end].strip()]


def exchanges(layout: Layout, spans: list[SentSpan], cues: AnswerCues | None = None) -> list[Exchange]:
    """The document as a list of (quoted recommendations, answer) exchanges."""
    cues = cues or load_answer_cues()
    out: list[Exchange] = []
    cur = Exchange()
    expecting = False  # a 'Recommendation' heading announced the next paragraph as a quote
    announced: str | None = None  # the label of that heading ('Recommendation 3: <title>')
    last_quote: str | None = None  # the label of the last quotation ('8.29')
    for block in layout.blocks:
        body = layout.text[block.start:block.end].strip()
        if block.style == "rec" and block.label and _title_only(body, block):
            expecting, announced = True, _label(block)  # 'Recommendation 3: Support for businesses'
            if cur.paragraphs:
                out.append(cur)
            cur = Exchange()  # a quotation left unanswered stays so
            continue
        if block.kind == "heading" and QUOTE_HEADING.match(body):
            expecting = True
            continue
        if block.kind == "heading" and ANSWER_HEADING.fullmatch(body):
            continue
        if _is_quote(layout, block, expecting, cues, last_quote) and not _numbered_answer(block, cur):
            if cur.paragraphs:
                out.append(cur)
                cur = Exchange()
            expecting = False
            label = _label(block) or announced  # '(Paragraph 4)' is the report's paragraph, not its number
            last_quote = label or last_quote
            announced = None
            if label and label not in cur.labels:
                cur.labels.append(label)
            cur.quoted.append(body)
            cur.quote_labels.append(label)
            tail = _glued_answer(layout, block, spans, cues)
            if tail is not None:
                cur.paragraphs.append(_sentences(layout, spans, tail, block.end))
            continue
        if block.kind == "heading" and not sentence_cue(body, cues):
            continue  # a theme heading ('Weight management interventions') between exchanges
        if cur.quoted and block.style == "bullet" and not cur.paragraphs:
            cur.quoted[-1] += " " + body  # the quoted recommendation's own bullets
            continue
        if cur.quoted:
            start = block.start + (ANSWER_HEADING.match(body).end() if ANSWER_HEADING.match(body) else 0)
            sents = _sentences(layout, spans, start, block.end)
            if sents:
                cur.paragraphs.append(sents)
    if cur.paragraphs:
        out.append(cur)
    return out


def _numbered_answer(block: Block, cur: Exchange) -> bool:
    """'1.2 The Department will ...' under PAC recommendation 1: Treasury Minutes number the answer."""
    label = _label(block) or ""
    return block.style == "dotted" and label.split(".")[0] in cur.labels and label not in cur.labels


def _title_only(body: str, block: Block) -> bool:
    """'Recommendation 3: Support for businesses': a label and a title, no sentence."""
    rest = body[len(block.marker or ""):] if block.marker and body.startswith(block.marker) else body
    return len(rest.split()) <= 12 and not re.search(r"[.;:!?]\W*$", rest.strip())



def _glued_answer(layout: Layout, block: Block, spans: list[SentSpan], cues: AnswerCues) -> int | None:
    """Offset of an answer that the text layer glued onto the end of the quotation.

    After the '(paragraph N).' that closes a quotation; or, without one, at the first
    sentence after the first that is plainly the government's ('The Government does not ...').
    """
    body = layout.text[block.start:block.end]
    ends = list(QUOTE_END.finditer(body))
    if not ends:
        inside = [s for s in spans if block.start <= s.start < block.end][1:]
        return next((s.start for s in inside if _answers(layout.text[s.start:s.end], cues)), None)
    tail = body[ends[-1].end():]
    if len(tail.split()) < 4:
        return None
    return block.start + ends[-1].end() + (len(tail) - len(tail.lstrip()))


def parts(ex: Exchange, cues: AnswerCues) -> list[tuple[list[str], list[list[Sent]]]]:
    """Split one answer into (labels, paragraphs) parts.

    Several quoted paragraphs answered by as many paragraphs that take a stance are answered
    one by one, each part taking the quotation it echoes; otherwise the answer covers them all. A single recommendation
    answered first one way and then the other ('does not agree ...' then 'agrees that ...')
    gets a response for each stance.
    """
    stance_paras = [i for i, p in enumerate(ex.paragraphs) if any(sentence_cue(s.text, cues) for s in p)]
    if len(ex.labels) >= 2 and len(stance_paras) < len(ex.labels):
        ex = Exchange(ex.labels, ex.quoted, [u for p in ex.paragraphs for u in _split_at_turns(p, cues)],
                      ex.quote_labels)
        stance_paras = [i for i, p in enumerate(ex.paragraphs) if any(sentence_cue(s.text, cues) for s in p)]
    if len(ex.labels) == 2 and len(stance_paras) == 1 and stance_paras[0] > 0:
        # 'As stated above, ...' answers the first paragraph quoted, then a verdict on the next
        cut = stance_paras[0]
        return [(ex.labels[:-1], ex.paragraphs[:cut]), (ex.labels[-1:], ex.paragraphs[cut:])]
    if len(ex.labels) >= 2 and len(stance_paras) >= 2:
        cuts = stance_paras[:len(ex.labels)]
        cuts[0] = 0
        chunks = [ex.paragraphs[start:(cuts[j + 1] if j + 1 < len(cuts) else len(ex.paragraphs))]
                  for j, start in enumerate(cuts)]
        return list(zip(_assign_labels(ex, chunks), chunks))
    whole = [(ex.labels, ex.paragraphs)]
    if len(ex.labels) == 1:
        in_turn = _answered_in_turn(ex)
        if in_turn:
            return [(ex.labels, chunk) for chunk in in_turn]
    if len(ex.labels) != 1 or len(stance_paras) < 2:
        return whole
    polarity = [_polarity(ex.paragraphs[i], cues) for i in stance_paras]
    for k in range(1, len(stance_paras)):
        if polarity[k] and polarity[0] and polarity[k] != polarity[0]:
            cut = stance_paras[k]
            return [(ex.labels, ex.paragraphs[:cut]), (ex.labels, ex.paragraphs[cut:])]
    return whole


def _answered_in_turn(ex: Exchange, least: int = 2) -> list[list[list[Sent]]] | None:
    """One quoted paragraph that asks two or more things ('we recommend that the Government
    implement a traffic light system of nutritional labelling … We further recommend that the
    Government reconsider current regulation of advertising …'), answered ask by ask in
    paragraphs of their own: the answer's parts, one per ask in the order asked, else None.

    A paragraph belongs to the ask whose own words (those no other ask uses) it repeats most,
    at least ``least`` of them and more than for any other ask; a paragraph that repeats none
    goes with the paragraph before it; an answer that goes back to an earlier ask is not one
    answered in turn."""
    from nlp.recommendations import content_words

    if len(ex.paragraphs) < 2:
        return None
    quote = " ".join(ex.quoted)
    asks = [content_words(a) for a in re.split(r"(?<=[.!?])\s+", quote) if ASKS.search(a)]
    if len(asks) < 2:
        return None
    own = [a - set().union(*(b for j, b in enumerate(asks) if j != i)) - ASK_FILLER for i, a in enumerate(asks)]
    chunks: list[list[list[Sent]]] = []
    current = -1
    for paragraph in ex.paragraphs:
        words = content_words(" ".join(s.text for s in paragraph))
        scores = [len(words & o) for o in own]
        best = max(range(len(own)), key=lambda i: scores[i])
        clear = scores[best] >= least and sorted(scores)[-2] < scores[best]
        if clear and best < current:
            return None  # back to an earlier ask: not answered in turn (the nations answer it all)
        if clear and best > current:
            if not chunks or current >= 0:
                chunks.append([])  # (paragraphs before the first clear one join its part)
            current = best
        elif not chunks:
            chunks.append([])
        chunks[-1].append(paragraph)
    return chunks if len(chunks) >= 2 else None


def _assign_labels(ex: Exchange, chunks: list[list[list[Sent]]]) -> list[list[str]]:
    """Each part of a joint answer takes the quoted paragraph whose words it repeats most: the
    assignment with the most shared words, the printed order breaking near-ties; a paragraph
    no part takes goes with the first part."""
    from itertools import permutations

    from nlp.recommendations import content_words

    quotes = {lb: content_words(ex.quotes_for([lb])) for lb in ex.labels}
    words = [content_words(" ".join(s.text for p in chunk for s in p)) for chunk in chunks]

    def score(order: tuple[str, ...]) -> float:
        shared = sum(len(w & quotes[lb]) / (len(quotes[lb]) or 1) for w, lb in zip(words, order))
        return shared + 0.05 * sum(lb == ex.labels[j] for j, lb in enumerate(order))

    n = min(len(chunks), len(ex.labels))
    if len(ex.labels) > 7:
        best = tuple(ex.labels[:n])
    else:
        best = max(permutations(ex.labels, n), key=score)
    out = [[lb] for lb in best] + [[ex.labels[-1]] for _ in range(len(chunks) - n)]
    rest = [lb for lb in ex.labels if lb not in best]
    out[0] = sorted(out[0] + rest, key=ex.labels.index)
    return out


def _split_at_turns(paragraph: list[Sent], cues: AnswerCues) -> list[list[Sent]]:
    """A paragraph cut before each later sentence that opens with a verdict of its own."""
    out: list[list[Sent]] = [[]]
    for s in paragraph:
        cue = sentence_cue(s.text, cues)
        if out[-1] and cue and cue[0] < 60 and any(sentence_cue(t.text, cues) for t in out[-1]):
            out.append([])
        out[-1].append(s)
    return out


def _polarity(paragraph: list[Sent], cues: AnswerCues) -> str | None:
    for s in paragraph:
        cue = sentence_cue(s.text, cues)
        if cue:
            return "no" if cue[1] == "rejected" else "yes" if cue[1] in ("accepted", "accepted_in_principle") else None
    return None


def find_quoted_responses(layout: Layout, spans: list[SentSpan], patterns, cues: AnswerCues | None = None) -> list:
    """Response candidates of a 'quote, then answer' document (see the module docstring)."""
    from nlp.responses import ResponseCandidate, _target_date

    cues = cues or load_answer_cues()
    out = []
    for ex in exchanges(layout, spans, cues):
        for labels, paras in parts(ex, cues):
            sents = [s for p in paras for s in p]
            if not sents:
                continue
            stance, evidence = answer_stance([s.text for s in sents], cues)
            lead = next((s for s in sents if sentence_cue(s.text, cues)), sents[0])
            span = SentSpan(lead.start, lead.end, layout.block_at(lead.start))
            text = " ".join(s.text for s in sents)
            out.append(ResponseCandidate(
                lead.start, lead.end, lead.text.strip(), ", ".join(labels) or None, stance,
                _target_date(layout.text, span, layout.blocks, patterns),
                responder=responder_of(lead.text, cues), stance_evidence=evidence,
                implementation=implementation_of(text, cues), quoted=ex.quotes_for(labels)))
    return out

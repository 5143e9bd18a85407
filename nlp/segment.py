"""Rule-based sentence splitting over the clean blocks of ``nlp.layout``.

Every block (heading, paragraph, list item) starts a sentence; inside a block a sentence ends
at ``. ! ?`` (with any closing quotes and a glued footnote number, 'area.217 Next') before a
capitalised word, unless the full stop belongs to an abbreviation or an initial. No
statistical model is involved, so a 300-page PDF splits in well under a second.

A footnote number glued after a word's full stop ('… translation of research.55') is a
reference mark, not part of the sentence: it is left out of the sentence's span, so a barrier,
a finding or a funding sentence is quoted as the reader saw it. Only after a letter or a
closing quote or bracket: after a digit ('rose to 4.5 Some …') the figure is the sentence's.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from nlp.layout import Layout

log = logging.getLogger(__name__)

ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "no", "nos", "para", "paras", "p", "pp", "e.g", "i.e",
    "eg", "ie", "vs", "v", "cf", "fig", "figs", "approx", "co", "ltd", "inc", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "rt", "hon", "cllr", "gov",
    "dept", "vol", "vols", "ch", "chap", "cm", "cmnd", "op", "cit", "al", "sec", "art", "reg",
    "ref", "est", "govt", "nr", "rev", "ed", "eds", "min", "max", "av", "ave", "incl", "excl",
    "ca", "c", "viz", "n.b", "nb", "ph.d", "u.k", "u.s", "a.m", "p.m", "hc", "hl",
}
# A candidate boundary: terminal punctuation, closing quotes/brackets, an optional glued
# footnote number, then whitespace.
CLOSERS = "\"'”’)]"  # closing quotes and brackets that may follow a sentence's word or full stop
BOUNDARY = re.compile(r"""([.!?…])(["'”’)\]]*)(\d{1,3}(?=\s))?(\s+)""")
STARTER = re.compile(r"""["'“‘(\[]*[A-Z0-9£€$●•]""")
# A footnote number glued to the end of a block: after a word (or closing quote or bracket)
# and its terminal punctuation, then nothing but whitespace.
_CLOSE = re.escape(CLOSERS)
TRAILING_MARK = re.compile(rf"(?<=[A-Za-z{_CLOSE}][.!?…])\d{{1,3}}\s*$|(?<=[A-Za-z][.!?…][{_CLOSE}])\d{{1,3}}\s*$")
# A footnote number glued inside a sentence: after a word's (or closing quote's or bracket's)
# comma, semicolon or colon, before a word in lower case ('behaviour;34 a lack', 'alone,128 confirming').
INNER_MARK = re.compile(rf"(?<=[A-Za-z{_CLOSE}][,;:])\d{{1,3}}(?=\s+[a-z])")
INLINE_BULLET = re.compile(r"\s[●•▪■]\s")
MAX_SENTENCE = 1200


@dataclass
class Sentence:
    """One sentence: clean text, its 1-based page (None for unpaged files) and raw offsets.

    ``start``/``end`` are character offsets into ``SourceDocument.text`` (the page texts
    joined by a blank line), so a caller can highlight the sentence in the original.
    """

    text: str
    page: int | None
    start: int
    end: int


@dataclass
class SentSpan:
    """A sentence in clean-text coordinates (internal to ``nlp``)."""

    start: int
    end: int
    block: int


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the full stop at ``dot`` closes an abbreviation or an initial."""
    m = re.search(r"([A-Za-z][A-Za-z.]*)$", text[max(0, dot - 12):dot])
    if not m:
        return False
    word = m.group(1)
    if len(word) == 1 and word.isupper():
        return True  # an initial: 'J. Smith', 'Figure A. '
    if "." not in word and re.search(r"\d$", text[:dot - len(word)]):
        return False  # a unit glued to its number ends a sentence: '… around 28p. The …'
    return word.lower().rstrip(".") in ABBREVIATIONS


def split_text(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of one block of clean text, shifted by ``offset``."""
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for m in BOUNDARY.finditer(text):
        nxt = m.end()
        if nxt >= n or not STARTER.match(text, nxt):
            continue
        punct = m.group(1)
        if punct == "." and not m.group(2) and not m.group(3) and _is_abbreviation(text, m.start(1)):
            continue
        if punct == "." and m.group(3) is None and re.match(r"\d", text[nxt:nxt + 1]) and \
                re.search(r"\d$", text[:m.start(1)]):
            continue  # '2.5' split by a space in a table, or 'section 2. 3'
        end = m.start(3) if m.group(3) and _word_before(text, m.start(1)) else m.start(4)
        if end > start:
            spans.append((start, end))
        start = nxt
    if start < n:
        mark = TRAILING_MARK.search(text, start)
        spans.append((start, mark.start() if mark and mark.start() > start else n))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        out.extend(_split_long(text, s, e))
    return [(s + offset, e + offset) for s, e in out if text[s:e].strip()]


def without_footnote_mark(sentence: str) -> str:
    """``sentence`` without a footnote number glued to its end ('… research.55' → '… research.'):
    how this splitter now gives a sentence that an earlier one (the labelled pool was drawn
    with it) gave with the mark."""
    mark = TRAILING_MARK.search(sentence)
    return sentence[:mark.start()] if mark and mark.start() > 0 else sentence


def without_inner_marks(sentence: str) -> str:
    """``sentence`` as a quote should read it, without footnote numbers glued inside it ('…
    everyday behaviour;34 a lack of …' → '… everyday behaviour; a lack of …'). A number after
    a figure's comma stays ('in 2019,12 councils'), as does one before a capital."""
    return INNER_MARK.sub("", sentence) if any(c in sentence for c in ",;:") else sentence


def _word_before(text: str, punct: int) -> bool:
    """Whether the terminal punctuation at ``punct`` follows a word or a closing quote or
    bracket, so digits glued after it are a footnote mark, not the end of a figure ('4.5')."""
    return punct > 0 and (text[punct - 1].isalpha() or text[punct - 1] in CLOSERS)


def _split_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Break run-on text (tables, inline bullet lists) into pieces a reader can use."""
    pieces = [(start, end)]
    if INLINE_BULLET.search(text, start, end):
        pieces, s = [], start
        for m in INLINE_BULLET.finditer(text, start, end):
            pieces.append((s, m.start()))
            s = m.start() + 1
        pieces.append((s, end))
    out = []
    for s, e in pieces:
        while e - s > MAX_SENTENCE:
            cut = text.rfind("; ", s, s + MAX_SENTENCE)
            if cut <= s:
                cut = text.rfind(" ", s, s + MAX_SENTENCE)
            if cut <= s:
                cut = s + MAX_SENTENCE
            out.append((s, cut + 1))
            s = cut + 1
            while s < e and text[s] == " ":
                s += 1
        out.append((s, e))
    return out


def sentence_spans(layout: Layout) -> list[SentSpan]:
    """All sentences of a laid-out document, block by block, in clean-text offsets."""
    spans: list[SentSpan] = []
    text = layout.text
    for index, block in enumerate(layout.blocks):
        for s, e in split_text(text[block.start:block.end], block.start):
            spans.append(SentSpan(s, e, index))
    return spans


def to_sentence(layout: Layout, span: SentSpan) -> Sentence:
    return Sentence(
        text=layout.text[span.start:span.end],
        page=layout.page_at(span.start),
        start=layout.raw_offset(span.start),
        end=layout.raw_offset(max(span.start, span.end - 1)) + 1,
    )

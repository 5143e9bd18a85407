"""Printed page numbers ("p. 49") beside PDF page indexes ("PDF p. 67").

A reader cites the number printed on the page, which rarely equals the PDF index: covers,
contents and front matter in roman numerals come first. Two sources, in order of trust:

1. the PDF's own ``/PageLabels`` (read by ``nlp.text.load_pdf`` into ``meta["page_labels"]``);
2. the text layer: a running header or footer with a number ('BEHAVIOUR CHANGE 67',
   '© LGA and Revolution Consulting Limited 11', '64 Overview', a line '49' or 'ix').

A number on one page proves nothing (a footnote '220 Katharine Hammond …', a paragraph
number), and footnotes numbered one a page (5, 6, 7 on consecutive pages) sit above the last
line, so only the first two lines and the last one are read, and text-layer candidates vote for an *offset* (PDF index − printed number); only
offsets that at least three pages (two for roman numerals) agree on are believed. Pages between two believed pages
with the same offset (a chapter opener printed without a number) get the number they must
have; nothing is extrapolated past the first or last believed page.
"""
from __future__ import annotations

import re
from collections import Counter

_ROMAN = re.compile(r"^(?=[ivxlc]{1,7}$)c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})$")
_ALONE = re.compile(r"^(?:page\s+)?(\d{1,4})$", re.I)
_TAIL = re.compile(r"^(?!.*\bof\s+\d+$)(?!.*(?:https?://|www\.)).{3,80}?(?:\s|[|–—]\s*)(\d{1,4})$")  # 'BEHAVIOUR CHANGE 67', not '1 of 7'
_HEAD = re.compile(r"^(\d{1,4})\s+(?:[|–—\-]\s*)?[A-Z][^\d]{2,80}$")  # '64 Overview', '8 List of Chapters'
TOP_LINES = 2  # lines read at the top of a page (and its last line)
MIN_VOTES = 3
_NUMBERED_THING = re.compile(r"\b(?:recommendations?|chapter|section|paragraph|part|annex|appendix|figure|table|box|"
                             r"step|phase|volume|module|item|question|no\.?|number|page\s+\d+\s+of)\s+\d{1,4}\b", re.I)


def _roman_value(text: str) -> int | None:
    text = text.lower()
    if not text or not _ROMAN.match(text):
        return None
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
    total = 0
    for a, b in zip(text, text[1:] + " "):
        total += -values[a] if b != " " and values[b] > values[a] else values[a]
    return total


def _candidates(page: str) -> list[tuple[str, int, str]]:
    """(kind, value, printed) numbers found in a page's top and bottom lines."""
    lines = [" ".join(line.replace("\xa0", " ").split()) for line in page.splitlines()]
    lines = [line for line in lines if line]
    # The first two lines (a running head, then perhaps 'number section-title') and the last
    # one: a footnote's number sits a line or two above the page's end, never on its last line.
    edge = lines[:TOP_LINES] + lines[-1:] if len(lines) > TOP_LINES else lines
    out: list[tuple[str, int, str]] = []
    for line in edge:
        if len(line.split()) > 12:
            continue
        roman = _roman_value(line)
        if roman and line in (line.lower(), line.upper()):
            out.append(("roman", roman, line.lower()))
            continue
        if _NUMBERED_THING.search(line):
            continue  # 'Recommendation 4', 'Chapter 2': a heading's number, whatever page it is on
        for rx in (_ALONE, _TAIL, _HEAD):
            m = rx.match(line)
            if m and int(m.group(1)) > 0:
                out.append(("arabic", int(m.group(1)), m.group(1)))
                break
    return out


def printed_labels(pages: list[str], pdf_labels: list[str | None] | None = None) -> list[str | None]:
    """The printed label of each page (None where none can be trusted).

    ``pdf_labels`` (the PDF's ``/PageLabels``, one per page) win when present.
    """
    n = len(pages)
    if pdf_labels and len(pdf_labels) == n and any(pdf_labels):
        return [(label or "").strip() or None for label in pdf_labels]
    found = [_candidates(text) for text in pages]
    votes = Counter((kind, i - value) for i, cands in enumerate(found) for kind, value, _ in set(cands))
    needed = MIN_VOTES if n >= 6 else 2
    # Front matter in roman numerals is often two pages long; a whole line 'ii' is rarely anything else.
    believed = {key for key, count in votes.items() if count >= (2 if key[0] == "roman" else needed)}
    labels: list[str | None] = [None] * n
    offsets: list[tuple[str, int] | None] = [None] * n
    for i, cands in enumerate(found):
        best = max(((votes[(kind, i - value)], kind, value, printed) for kind, value, printed in cands
                    if (kind, i - value) in believed), default=None)
        if best:
            _, kind, value, printed = best
            labels[i], offsets[i] = printed, (kind, i - value)
    _fill_gaps(labels, offsets)
    return labels


def _fill_gaps(labels: list[str | None], offsets: list[tuple[str, int] | None]) -> None:
    """A page between two pages numbered on one offset gets its number."""
    known = [i for i, o in enumerate(offsets) if o]
    for a, b in zip(known, known[1:]):
        if b - a > 1 and offsets[a] == offsets[b]:
            kind, offset = offsets[a]
            for i in range(a + 1, b):
                labels[i] = str(i - offset) if kind == "arabic" else _roman(i - offset)


def _roman(value: int) -> str:
    out = ""
    for size, letters in ((100, "c"), (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"),
                          (4, "iv"), (1, "i")):
        while value >= size:
            out, value = out + letters, value - size
    return out


def cite_page(page: int | None, label: str | None) -> str:
    """'p. 49 (PDF p. 67)'; 'p. 5' when the printed number is the PDF's; 'PDF p. 5' when
    no printed number is known."""
    if page is None:
        return ""
    if not label:
        return f"PDF p. {page}"
    if label == str(page):
        return f"p. {page}"
    return f"p. {label} (PDF p. {page})"

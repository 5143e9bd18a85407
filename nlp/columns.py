"""Text whose side-by-side columns were read across the page, line by line.

Converters that turn a two-column journal article into Markdown sometimes read each line across
the page: the lines of the left column, the right column and a margin note alternate ("The
selection of studies was based on a specific el-" / "bmjopen-2021-049296" / "is therefore
imperative to conduct a Systematic Literature" / "igibility criteria, which …"). Joined back
into sentences, such lines make word salad that still uses the words of obstacles, and a
classifier finds 'barriers' in it.

The evidence is in the hyphenated line ends. In ordinary text a word broken at a line end
("el-") goes on at the start of the next line ("igibility"); here it goes on two or three lines
further down, past a line of the other column. A document is read as interleaved when words
broken at line ends go on further down far more often than on the next line, judged by
whether the two halves make a word the document uses elsewhere. Then every place where two of
its lines are joined is suspect unless the join is such a word, and a sentence that spans a
suspect join is not a sentence to classify (``crosses``). Linear in the text.
"""
from __future__ import annotations

import bisect
import re

HYPHEN_END = re.compile(r"([A-Za-z]{2,})[-‑]\s*$")  # ASCII hyphen or U+2011, as converters leave them
FIRST_WORD = re.compile(r"\W*([a-z]{2,})")  # (match() anchors it where it is asked to start)
WHOLE_WORD = re.compile(r"(?<![-‑\w])[A-Za-z]{4,}(?![-‑\w])")
LOOK_AHEAD = 4  # lines further down where a broken word may go on
LEAST = 5  # broken words that go on further down before a document counts as interleaved


def _vocabulary(text: str) -> set[str]:
    return {w.lower() for w in WHOLE_WORD.findall(text)}


def interleaved(lines: list[str]) -> bool:
    """Do the broken words at these lines' ends go on further down rather than on the next line?"""
    broken = [(i, end.group(1).lower()) for i, line in enumerate(lines)
              if (end := HYPHEN_END.search(line[-40:])) is not None]
    if len(broken) < LEAST:
        return False  # (most documents: no vocabulary to build)
    vocab = _vocabulary("\n".join(lines))
    next_line = further = 0
    for i, part in broken:

        def goes_on(j: int) -> bool:
            first = FIRST_WORD.match(lines[j]) if j < len(lines) else None
            return first is not None and part + first.group(1) in vocab

        if goes_on(i + 1):
            next_line += 1
        elif any(goes_on(i + k) for k in range(2, LOOK_AHEAD + 1)):
            further += 1
    return further >= LEAST and further > 2 * next_line


def suspect_joins(text: str, line_starts: list[int]) -> list[int]:
    """Offsets in ``text`` where a line was joined to the one before inside a block, except
    where the join mends a broken word the document uses ('chal-' + 'lenges')."""
    vocab = _vocabulary(text)
    out = []
    for start in line_starts:
        before = text[max(0, start - 40):start]
        if not before or before.endswith("\n\n"):
            continue  # a block's first line: nothing was joined
        end = HYPHEN_END.search(before)
        first = FIRST_WORD.match(text, start)
        if end is not None and first is not None and (end.group(1) + first.group(1)).lower() in vocab:
            continue
        out.append(start)
    return out


def crosses(joins: list[int], start: int, end: int) -> bool:
    """Does the span [start, end) hold one of ``joins`` (sorted)?"""
    i = bisect.bisect_right(joins, start)
    return i < len(joins) and joins[i] < end

"""Page text → clean running text made of blocks (headings, paragraphs, list items).

PDF text (and markdown converted from PDF) breaks lines inside sentences, repeats running
headers and footers on every page, puts footnotes between two halves of a sentence and
spreads numbered items over lines and pages. Everything downstream (sentences, funding,
recommendations) wants clean blocks instead, so this module rebuilds them with plain rules
(no model): it drops page furniture, joins wrapped lines, and starts a new block at a list
marker, a heading or a paragraph end.

Each piece of clean text remembers where it came from, so a clean offset maps back to an
offset in ``SourceDocument.text`` and to a 1-based page number.
"""
from __future__ import annotations

import bisect
import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from nlp.columns import interleaved, suspect_joins
from nlp.models import SourceDocument

log = logging.getLogger(__name__)

# --- block model ---------------------------------------------------------------------------


@dataclass
class Block:
    """A heading, a paragraph or a list item, with offsets into ``Layout.text``."""

    kind: str  # heading | para | item
    start: int
    end: int
    page: int | None
    label: str | None = None  # '3', 'b', '2.14', 'ii' for list items and numbered paragraphs
    marker: str | None = None  # how the label was printed: 'Recommendation', '(a)', '1.', '•'
    style: str | None = None  # label family: rec | num | dotted | letter | roman | paren_num | bullet | pac


@dataclass
class Layout:
    """Clean text of a document, its blocks, and the map back to the source text."""

    text: str
    blocks: list[Block]
    paged: bool
    # Parallel arrays: clean offset where a copied segment starts, its raw offset and page.
    seg_clean: list[int] = field(default_factory=list)
    seg_raw: list[int] = field(default_factory=list)
    seg_page: list[int | None] = field(default_factory=list)
    # Where lines of side-by-side columns read across the page were joined (``nlp.columns``):
    # empty unless the document's lines interleave its columns.
    suspect_joins: list[int] = field(default_factory=list)
    # The footnotes a PDF page's footnote zone held, (page, text): left out of the running text
    # (their citations are not prose), read for the funding figures they state.
    footnotes: list[tuple[int | None, str]] = field(default_factory=list)

    def _seg(self, offset: int) -> int:
        return max(0, bisect.bisect_right(self.seg_clean, offset) - 1)

    def raw_offset(self, offset: int) -> int:
        """Offset in ``SourceDocument.text`` of a clean-text offset (approximate inside a line)."""
        if not self.seg_clean:
            return offset
        i = self._seg(offset)
        return self.seg_raw[i] + (offset - self.seg_clean[i])

    def page_at(self, offset: int) -> int | None:
        if not self.seg_clean:
            return None
        return self.seg_page[self._seg(offset)]

    def main_page(self, start: int, end: int) -> int | None:
        """The page holding most of the text from ``start`` to ``end`` (the first such page on
        a tie). A sentence that runs over a page break is cited where most of it is printed:
        that is where a reader finds it, and where labellers put it (the page of its anchor,
        the words that state the point, rarely the few that open it at the foot of a page)."""
        if not self.seg_clean:
            return None
        first, last = self._seg(start), self._seg(max(start, end - 1))
        if first == last:
            return self.seg_page[first]
        chars: dict[int | None, int] = {}
        for i in range(first, last + 1):
            lo = max(start, self.seg_clean[i])
            hi = min(end, self.seg_clean[i + 1] if i + 1 < len(self.seg_clean) else end)
            chars[self.seg_page[i]] = chars.get(self.seg_page[i], 0) + max(0, hi - lo)
        return max(chars, key=lambda page: chars[page])  # insertion order: the first page on a tie

    def block_at(self, offset: int) -> int:
        starts = [b.start for b in self.blocks]
        return max(0, bisect.bisect_right(starts, offset) - 1)


# --- line patterns -------------------------------------------------------------------------

TERMINAL = re.compile(r"""[.!?;:]["'”’)\]]*\s*(\d{1,3})?$""")
SENTENCE_END = re.compile(r"""[.!?]["'”’)\]]*(\d{1,3})?$""")
CONNECTOR_END = re.compile(
    r"\b(the|of|and|to|a|an|in|for|by|with|on|at|from|as|or|that|which|is|are|was|were|be|"
    r"been|has|have|had|will|would|its|their|this|these|our|his|her|not|but|than|into|per|"
    r"should|must|can|could|may|also|such|between|over|under|about|including)$",
    re.I,
)
PAGE_NUMBER = re.compile(r"^(?:page\s+)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s+of\s+\d{1,4})?$", re.I)
DOT_LEADER = re.compile(r"(?:\.\s?){4,}\s*\d{1,4}$|\s\d{1,3}(?:\s?[-–]\s?\d{1,3})?$")
FOOTNOTE_START = re.compile(r"^(\d{1,3})\s+(?=\S)")
CITATION_HINT = re.compile(
    r"\b(?:19|20)\d\d\b|ibid|op\.? cit|web ?page|press release|https?:|www\.|\bvol\.|\bpp?\.\s?\d|"
    r"\bpara\.?\s?\d|INQ\d|[A-Z]{4}\d{5,}|report|review|speech|statistics|journal|university|press|"
    r"\bet al\b",
    re.I,
)
BULLET = re.compile(r"^(?:([●•▪■◦‣▶►✓➢→·\uf0b7\uf0a7])\s*|([\-–—*])\s+)(?=\S)")

# (regex, style); the label is group 1. Order matters: the first match wins.
ITEM_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^(?:Key\s+)?(?:Recommendations?|RECOMMENDATIONS?)\s+(\d{1,3}[a-z]?(?:\s?\(?[a-z]\))?)"
                r"\s*(?:[:.\-–—]\s*|$)"), "rec"),
    (re.compile(r"^(?:Recommendation|RECOMMENDATION)\s*:\s*"), "rec"),
    (re.compile(r"^(\d{1,3})\s*:\s*PAC\s+(?:conclusion|recommendation)s?\s*:?\s*", re.I), "pac"),
    (re.compile(r"^(\d{1,2}\(?[a-z]\)\s?\(?[ivx]{1,5})[.)]\s*(?=\S)"), "compound"),
    (re.compile(r"^\((\d{1,2}|[a-z]|[ivx]{1,5})\)\s+(?=\S)"), "paren"),
    (re.compile(r"^(\d{1,2}[a-z]?|[a-z]|[ivx]{1,5})\)\s+(?=\S)"), "paren"),
    (re.compile(r"^(\d{1,3}(?:\.\d{1,3})+)\.?\s+(?=[A-Z‘“'\"(£])"), "dotted"),
    (re.compile(r"^(\d{1,2}[a-z]?)\.\s+(?=\S)"), "num"),
    (re.compile(r"^(\d{1,2})\s*:\s+(?=[A-Z])"), "num"),
]
# A Commons closing-list item ends with its tag, maybe split over lines: '(Recommendation, Paragraph 4)'
TAG_END = re.compile(r"\((?:(?:conclusion|recommendation)s?,?\s+)?paragraphs?\s+[\d\s,.–\-and]+\)\s*$", re.I)
TAG_START = re.compile(r"^\((?:conclusion|recommendation)s?,", re.I)
NAO_LETTER = re.compile(r"^([a-z])\s+(?=[A-Z‘“'\"])")
# 'Chapter 4:', 'Part Two', 'Appendix 1: The background ...': a division heading even when it
# ends with a colon (a colon otherwise means the line runs on into a list).
DIVISION = re.compile(
    r"^(?:chapter|part|appendix|annex|annexe|section|volume)\s+(?:\d{1,2}[a-z]?|[ivxlc]{1,6}|[a-h]|one|two|three|"
    r"four|five|six|seven|eight|nine|ten)\b\s*(?:[:.\-–—]\s*)?(?:[A-Z‘“'\"].*)?$",
    re.I,
)
# Publishing furniture: ISBNs, catalogue and print codes ('978-1-5286-4936-0 E03069239').
CODE_LINE = re.compile(r"^(?:ISBN[:\s]*)?97[89][\d\- ]{10,16}\d(?:\s+[A-Z]{0,3}\d{5,})?$|^[A-Z]{1,3}\d{6,}(?:\s+\d{2}/\d{2})?$")
NAO_NUMBER = re.compile(r"^(\d{1,2})\s+(?=[A-Z‘“'\"])")
ROMAN = {"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"}


def _word_count(text: str) -> int:
    return len(text.split())


def _starts_upper(text: str) -> bool:
    text = text.lstrip("‘“'\"(*_[")
    return bool(text) and (text[0].isupper() or text[0].isdigit() or text[0] in "£€$")


def _norm_furniture(line: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", line.strip().lower()))


def _is_table_row(line: str) -> bool:
    """A line of figures ('Barnet £1,234 £5,678', '343,706 12.5 9,233'): the digits are its
    content, so two rows are the same line only when their text is, never because their
    digits normalise alike (a table's first and last rows are not a running header)."""
    if re.search(r"[£$€]\s?\d", line):
        return True
    numbers = re.findall(r"\d[\d,.]*\d|\d", line)
    grouped = [n for n in numbers if re.search(r"\d[,.]\d", n)]
    digits = sum(c.isdigit() for c in line)
    return len(grouped) >= 2 or (len(numbers) >= 3 and digits > 0.4 * len(line.replace(" ", "")))


def _furniture_key(line: str) -> str:
    """What must repeat for a line to be page furniture: its text with numbers masked (page
    numbers change), or, for a table row, its exact text."""
    return " ".join(line.split()).lower() if _is_table_row(line) else _norm_furniture(line)


# --- line extraction and furniture removal -------------------------------------------------


@dataclass
class _Line:
    text: str
    raw: int  # offset of text[0] in SourceDocument.text
    page: int | None
    blank_before: bool = False


def _page_lines(doc: SourceDocument) -> list[list[_Line]]:
    pages: list[list[_Line]] = []
    offset = 0
    for index, page_text in enumerate(doc.pages):
        page_no = doc.page_number(index)
        lines: list[_Line] = []
        pos = 0
        blank = False
        for raw_line in page_text.split("\n"):
            stripped = raw_line.strip()
            if stripped:
                lead = len(raw_line) - len(raw_line.lstrip())
                text = re.sub(r"[ \t\u00a0\u2009\u202f]+", " ", stripped)
                lines.append(_Line(text, offset + pos + lead, page_no, blank))
                blank = False
            else:
                blank = True
            pos += len(raw_line) + 1
        pages.append(lines)
        offset += len(page_text) + 2  # SourceDocument.text joins pages with a blank line
    return pages


def _running_lines(pages: list[list[_Line]]) -> set[str]:
    """Lines that recur at the top or bottom of many pages (headers, footers)."""
    if len(pages) < 4:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        edge = {_furniture_key(ln.text) for ln in lines[:3] + lines[-3:] if len(ln.text) < 120}
        counts.update(edge)
    threshold = max(3, int(0.05 * len(pages)))
    return {key for key, n in counts.items() if n >= threshold}


def _is_toc_page(lines: list[_Line]) -> bool:
    if len(lines) < 5:
        return False
    numbered = sum(1 for ln in lines if (DOT_LEADER.search(ln.text) and not SENTENCE_END.search(ln.text))
                   or re.match(r"^\d{1,3}(?:\s?[-–]\s?\d{1,3})?(?:\s|$)", ln.text))
    leaders = sum(1 for ln in lines if re.search(r"(?:\.\s?){5,}\s*\d{1,4}$", ln.text))
    head = " ".join(ln.text.lower() for ln in lines[:4])
    return leaders >= 3 or (numbered >= 0.45 * len(lines)
                            and any(w in head for w in ("contents", "list of", "index")))


def _superscript_refs(text: str) -> set[str]:
    """Footnote numbers glued to a word or punctuation in running text ('area.217', 'model5')."""
    # after a word, or after a word's punctuation; not the decimals of '£3.8 billion' or the
    # thousands of '1,234', which would make an NAO report's numbered paragraph 8 a 'footnote'
    return {a or b for a, b in re.findall(r"(?<=[A-Za-z)\]”’\"])(\d{1,3})(?=[\s.,;:)]|$)|"
                                          r"(?<=[A-Za-z)\]”’\"][.,;:])(\d{1,3})(?=[\s.,;:)]|$)", text)}


def _strip_footnotes(lines: list[_Line], zone: list[_Line] | None = None) -> list[_Line]:
    """Drop the footnote zone at the bottom of a PDF page (its lines go to ``zone``)."""
    if len(lines) < 2:
        return lines
    body_refs = _superscript_refs(" ".join(ln.text for ln in lines))
    cut = None
    floor = len(lines) // 3
    for i in range(len(lines) - 1, floor - 1, -1):
        m = FOOTNOTE_START.match(lines[i].text)
        if m and m.group(1) in body_refs and i > 0:
            rest = lines[i].text[m.end():]
            if CITATION_HINT.search(rest) or len(rest.split()) <= 12 or rest[:1].isupper():
                cut = i
    if cut is None:
        return lines
    if zone is not None:
        zone.extend(lines[cut:])
    return lines[:cut]


def _footnotes(zone: list[_Line]) -> list[tuple[int | None, str]]:
    """(page, text) of each footnote in the footnote zones' lines: a numbered line starts one."""
    out: list[tuple[int | None, str]] = []
    for ln in zone:
        m = FOOTNOTE_START.match(ln.text)
        if m or not out or out[-1][0] != ln.page:
            out.append((ln.page, ln.text[m.end():] if m else ln.text))
        else:
            out[-1] = (ln.page, f"{out[-1][1]} {ln.text}")
    return out


MAX_RUNNING = 100  # running header/footer lines kept for unpaged text (real documents: a few)


def _clean_pages(doc: SourceDocument, zone: list[_Line] | None = None) -> list[_Line]:
    pages = _page_lines(doc)
    out: list[_Line] = []
    if doc.paged:
        running = _running_lines(pages)
        for lines in pages:
            if _is_toc_page(lines):
                continue
            kept = []
            for j, ln in enumerate(lines):
                edge = j < 3 or j >= len(lines) - 3
                if edge and (PAGE_NUMBER.match(ln.text) or _furniture_key(ln.text) in running):
                    continue
                if CODE_LINE.match(ln.text):
                    continue
                kept.append(ln)
            out.extend(_strip_footnotes(kept, zone))
        return out
    # Unpaged text (markdown or text converted from a PDF still carries page furniture).
    lines = pages[0] if pages else []
    counts = Counter(_furniture_key(ln.text) for ln in lines
                     if _word_count(ln.text) <= 16 and not re.search(r"recommend|conclusion", ln.text, re.I))
    running = {
        ln.text for ln in lines
        if counts.get(_furniture_key(ln.text), 0) >= 3 and _word_count(ln.text) >= 3
        and not TERMINAL.search(ln.text) and not _item_match(ln.text)
    }
    if len(running) > MAX_RUNNING:
        # Thousands of "running lines" are a table's rows (digits normalise alike), not page
        # furniture: one alternation of them all made every line's match cost grow with the
        # document (a 1 MB Markdown table: minutes). Keep the commonest.
        running = set(sorted(running, key=lambda r: (-counts[_norm_furniture(r)], r))[:MAX_RUNNING])
    prefix = re.compile("^(?:" + "|".join(re.escape(r) for r in sorted(running, key=len, reverse=True))
                        + r")\s*\d{0,3}\s+") if running else None
    refs = _superscript_refs(" ".join(ln.text for ln in lines))
    in_footnote = False
    for ln in lines:
        text = ln.text
        if PAGE_NUMBER.match(text) or re.fullmatch(r"[*_#\s]*", text) or CODE_LINE.match(text):
            continue
        key = _furniture_key(text)
        if counts.get(key, 0) >= 3 and not TERMINAL.search(text) and not _item_match(text) \
                and sum(c.isalpha() for c in key) >= 3:
            continue
        if re.fullmatch(r"ibid\.?(,\s*[\d\-–, ]+\.?)?", text, re.I):
            continue
        if re.search(r"(?:\.\s?){5,}\s*\d{1,4}$", text):  # contents line with dot leaders
            continue
        m = FOOTNOTE_START.match(text)
        if m and ln.blank_before and m.group(1) in refs and (
            _starts_upper(text[m.end():]) or CITATION_HINT.search(text[m.end():])) and (
            CITATION_HINT.search(text[m.end():]) or "*" in text or _word_count(text) <= 30
        ):
            in_footnote = True
            continue
        if in_footnote and (text.startswith(("*", "(")) or text[:1].islower()) and (
            CITATION_HINT.search(text) or "*" in text
        ) and _word_count(text) <= 30:
            continue
        in_footnote = False
        if prefix is not None:
            m = prefix.match(text)
            if m and m.end() < len(text):
                ln = _Line(text[m.end():], ln.raw + m.end(), ln.page, ln.blank_before)
        out.append(ln)
    return out


# --- block building ------------------------------------------------------------------------


def _item_match(text: str) -> tuple[str | None, str, str] | None:
    """(label, style, marker) when a line starts a list item or labelled paragraph."""
    m = BULLET.match(text)
    if m and not re.match(r"^[\-–—]\s*\d", text):
        return None, "bullet", m.group(0)
    for pattern, style in ITEM_PATTERNS:
        m = pattern.match(text)
        if m:
            label = m.group(1) if m.groups() else None
            if label and style == "compound":
                m2 = re.match(r"(\d+)\(?([a-z])\)\s?\(?([ivx]+)", label)
                label = f"{m2.group(1)}{m2.group(2)}({m2.group(3)})" if m2 else label
            elif label:
                label = re.sub(r"[\s()]", "", label)
            if style == "paren" and label and label in ROMAN and label not in ("i", "v", "x"):
                style = "roman"
            return label, style, m.group(0)
    return None


@dataclass
class _Builder:
    text_parts: list[str] = field(default_factory=list)
    length: int = 0
    seg_clean: list[int] = field(default_factory=list)
    seg_raw: list[int] = field(default_factory=list)
    seg_page: list[int | None] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    block_part: int = 0  # index in text_parts where the current block starts

    def add(self, text: str, line: _Line | None, raw_delta: int = 0) -> None:
        if line is not None:
            self.seg_clean.append(self.length)
            self.seg_raw.append(line.raw + raw_delta)
            self.seg_page.append(line.page)
        self.text_parts.append(text)
        self.length += len(text)

    def open_block(self, kind: str, page: int | None, label=None, marker=None, style=None) -> None:
        if self.blocks:
            self.close_block()
            self.add("\n\n", None)
        self.blocks.append(Block(kind, self.length, self.length, page, label, marker, style))
        self.block_part = len(self.text_parts)

    def close_block(self) -> None:
        if self.blocks:
            self.blocks[-1].end = self.length

    def current_block_text(self) -> str:
        return "".join(self.text_parts[self.block_part:]) if self.blocks else ""

    def current_text_tail(self, n: int = 200) -> str:
        return "".join(self.text_parts[-8:])[-n:]


def _typical_width(lines: list[_Line]) -> float:
    lengths = sorted(len(ln.text) for ln in lines if _word_count(ln.text) >= 4)
    if not lengths:
        return 80.0
    # a real PDF line holds 60+ characters; tiny documents must not shrink the yardstick
    return max(60.0, float(lengths[int(0.8 * (len(lengths) - 1))]))


def _heading_like(line: _Line, nxt: _Line | None, width: float, paged: bool) -> bool:
    """A short line without closing punctuation, followed by a capitalised line or an item."""
    text = line.text
    if TERMINAL.search(text) or not _starts_upper(text):
        return False
    if _word_count(text) > 12 or (paged and len(text) > 0.85 * width):
        return False
    if CONNECTOR_END.search(text.rstrip(" *_")) or text.endswith((",", "–", "-", "—", "&")):
        return False
    if re.fullmatch(r"[\d\s.,%£$€()\-–+/]+", text):  # numbers from tables and figures
        return False
    if nxt is None:
        return True
    following = nxt.text.lstrip("‘“'\"(*_[")
    return bool(following) and (following[0].isupper() or _item_match(nxt.text) is not None
                                or re.match(r"^\d{1,3}(?:\.\d{1,3})*\.?\s+[A-Z]", following) is not None
                                or re.match(r"^a\s+[A-Z‘“'\"]", following) is not None)


def _is_division(line: _Line) -> bool:
    """'Chapter 4:' / 'Appendix 1: The background' on a line of its own."""
    return len(line.text) <= 120 and _word_count(line.text) <= 14 and DIVISION.match(line.text) is not None \
        and not SENTENCE_END.search(line.text)


@dataclass
class _Counters:
    """The last label of each numbering style seen, to tell the next item from a stray match."""
    letter: str | None = None  # the last NAO 'a', 'b', ... item
    number: int | None = None  # the last NAO '1', '2', ... paragraph
    num: int | None = None  # the last '7.'-style number


def _implicit_item(text: str, prev: _Line | None, counters: _Counters, paged: bool) -> tuple | None:
    """An NAO lettered item ('a', 'b' ...) or numbered paragraph ('4 The Department ...') that
    carries no punctuation: only when it continues the letters or numbers seen so far."""
    m = NAO_LETTER.match(text)
    if m is None and prev is not None and re.search(r"(?::|;|;\s+(?:and|or))$", prev.text):
        m = re.match(r"^([a-z])\s+(?=[a-z])", text)  # 'should:' / 'a set out ...;' / 'b publish'
    if m and (m.group(1) == "a" or (counters.letter and ord(m.group(1)) == ord(counters.letter) + 1)):
        return (m.group(1), "letter", m.group(0))
    if paged:
        m = NAO_NUMBER.match(text)
        if m and ((counters.number is not None and 0 < int(m.group(1)) - counters.number <= 2)
                  or (counters.number is None and m.group(1) == "1")):
            return (m.group(1), "nao_num", m.group(0))
    return None


def _wrapped_number(item: tuple, prev: _Line | None, line: _Line, nxt: _Line | None, counters: _Counters,
                    width: float, paged: bool) -> bool:
    """After an unfinished line, '2. something' is a wrapped number, unless it is the next
    heading of a numbered list whose last item had no full stop (or an unambiguous marker)."""
    label, style, marker = item
    return marker.strip() not in ("Recommendation:",) \
        and style not in ("bullet", "rec", "pac", "dotted", "paren", "roman", "compound", "letter") \
        and not (style == "num" and label and re.fullmatch(r"\d{1,2}[a-z]", label)) \
        and not (prev and prev.text.endswith((":", ";"))) \
        and not (style == "num" and label and label.isdigit() and counters.num is not None
                 and int(label) == counters.num + 1 and _heading_like(line, nxt, width, paged))


def _count(item: tuple, counters: _Counters) -> None:
    label, style, _ = item
    if style == "letter":
        counters.letter = label
    elif style == "nao_num":
        counters.number = int(label)
    elif style == "num" and label and label.isdigit():
        counters.num = int(label)


def _item_kind(item: tuple, line: _Line, nxt: _Line | None, width: float, paged: bool) -> str:
    """A numbered line is a heading when it looks like one, a paragraph when NAO-numbered or
    dotted ('2.3'), else a list item."""
    label, style, _ = item
    if style in ("dotted", "num", "nao_num", "paren") and _heading_like(line, nxt, width, paged) \
            and not (style == "paren" and not label[:1].isdigit()):
        return "heading"
    return "para" if style in ("dotted", "nao_num") else "item"


def build_layout(doc: SourceDocument) -> Layout:
    """Clean, block-structured text of ``doc`` (see the module docstring)."""
    zone: list[_Line] = []
    lines = _clean_pages(doc, zone)
    width = _typical_width(lines) if doc.paged else 10_000.0
    b = _Builder()
    prev: _Line | None = None
    prev_ended = True  # the previous line ended a sentence or a heading (or there was none)
    counters = _Counters()
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        text = line.text
        item = _item_match(text)
        if prev is not None and line.page != prev.page and not prev_ended and len(prev.text) < 0.6 * width \
                and _starts_upper(text) and not CONNECTOR_END.search(prev.text):
            prev_ended = True  # a cover or a title page ends short, without a full stop
        listy = prev is not None and re.search(r";\s+(?:and|or)$", prev.text) is not None
        if item is None and (prev_ended or listy):
            item = _implicit_item(text, prev, counters, doc.paged)
        if item is not None and not prev_ended and _wrapped_number(item, prev, line, nxt, counters, width, doc.paged):
            item = None
        if b.blocks and TAG_START.match(text):
            _append_continuation(b, line)  # '(Conclusion, Paragraph 3)' on a line of its own
        elif item is not None:
            _count(item, counters)
            label, style, marker = item
            b.open_block(_item_kind(item, line, nxt, width, doc.paged), line.page, label, marker.strip(), style)
            b.add(text, line)
        elif not b.blocks or (prev_ended and (_heading_like(line, nxt, width, doc.paged) or _is_division(line))) \
                or (prev is not None and line.page != prev.page and _is_division(line)):
            b.open_block("heading" if _heading_like(line, nxt, width, doc.paged) or _is_division(line)
                         else "para", line.page)
            b.add(text, line)
        elif not prev_ended and b.blocks and b.blocks[-1].style == "rec" and _starts_upper(text) \
                and text[:1].isalpha() and _word_count(b.current_block_text()) <= 25 \
                and not CONNECTOR_END.search(prev.text if prev else ""):
            # 'Recommendation 1: A simplified structure ...' then the body on a new line:
            # the title is not part of the first sentence of the recommendation.
            b.open_block("para", line.page)
            b.add(text, line)
        elif not prev_ended and not (
                not doc.paged and line.blank_before and prev is not None and _standalone_line(b, prev, line)):
            _append_continuation(b, line)
        elif not prev_ended:
            # a standfirst or title line of its own, then a blank line and a new sentence
            b.open_block("para", line.page)
            b.add(text, line)
        else:
            new_para = b.blocks[-1].kind == "heading"
            if not new_para and prev is not None:
                if doc.paged:
                    new_para = len(prev.text) < 0.75 * width and SENTENCE_END.search(prev.text) is not None
                else:
                    new_para = line.blank_before
            if new_para:
                b.open_block("para", line.page)
                b.add(text, line)
            else:
                _append_continuation(b, line)
        prev = line
        prev_ended = TERMINAL.search(text) is not None or b.blocks[-1].kind == "heading" \
            or TAG_END.search(b.current_text_tail(80)) is not None
    b.close_block()
    text = "".join(b.text_parts)
    joins = suspect_joins(text, b.seg_clean) if interleaved([ln.text for ln in lines]) else []
    return Layout(text, b.blocks, doc.paged, b.seg_clean, b.seg_raw, b.seg_page, joins, _footnotes(zone))


def _standalone_line(b: _Builder, prev: _Line, line: _Line) -> bool:
    """In unpaged text: the previous line was a block on its own (a standfirst, a title)
    that ended without punctuation, and a capitalised line follows a blank line."""
    block_text = b.current_block_text().strip()
    return (block_text == prev.text.strip() and _starts_upper(line.text) and line.text[:1].isalpha()
            and _word_count(prev.text) >= 4 and not CONNECTOR_END.search(prev.text.rstrip(" *_"))
            and not prev.text.rstrip().endswith((",", "-", "–", "—", "&", "(")))


def _append_continuation(b: _Builder, line: _Line) -> None:
    tail = b.current_text_tail(3)
    text = line.text
    if tail.endswith("-") and len(tail) >= 2 and tail[-2].isalpha() and text[:1].islower():
        b.add(text, line)  # 'whole-' + 'system': keep the hyphen, no space
    else:
        b.add(" ", None)
        b.add(text, line)

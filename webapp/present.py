"""Presentation helpers for templates: labels, dates, snippets with highlighted terms.

Every helper returns plain text or ``(segment, is_match)`` pairs; templates escape each piece
(autoescape) and add ``<mark>`` around matches, so document and user text is never trusted.
"""
from __future__ import annotations

import logging
import re
from datetime import date
from functools import lru_cache
from urllib.parse import urlparse

from flask import Flask

from kb.vocabulary import ALL_SOURCES, THEMES
from kb.search.engine import cite_page, highlight

SOURCE_NAMES = {
    "nao": "National Audit Office",
    "govuk": "GOV.UK",
    "nhs-digital": "NHS Digital",
    "parliament": "UK Parliament",
    "local": "Local files",
}
FACET_NAMES = {"source": "Source", "theme": "Barrier theme", "year": "Year", "doc_type": "Document type"}
SNIPPET_CHARS = 420

log = logging.getLogger(__name__)
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


def _humanise(value: str) -> str:
    text = re.sub(r"[_\-]+", " ", value).strip()
    return text[:1].upper() + text[1:]


def source_name(value: str | None) -> str:
    return SOURCE_NAMES.get(value or "", _humanise(value or "unknown source"))


@lru_cache(maxsize=1)
def _taxonomy() -> dict[str, tuple[str, str]]:
    """Theme labels and descriptions from the barrier taxonomy (nlp/data/themes.json), the
    one place themes are defined and extended; the ids alone if it cannot be read."""
    try:
        from nlp.barriers import load_taxonomy

        return {t.id: (t.label, t.description) for t in load_taxonomy().themes}
    except Exception:  # a broken data file must not take the web app down
        log.warning("cannot read the barrier taxonomy; showing theme ids", exc_info=True)
        return {}


def theme_name(value: str | None) -> str:
    label = _taxonomy().get(value or "", (None, None))[0]
    return label or _humanise(value or "unknown theme")


def theme_description(value: str | None) -> str:
    return _taxonomy().get(value or "", (None, ""))[1] or ""


def type_name(value: str | None) -> str:
    return _humanise(value) if value else "Unknown type"


ID_LABELS = {"hc_number": "HC number", "hl_paper": "HL Paper number", "command_paper_number": "CP number",
             "session": "Session", "departments": "Departments"}


def id_label(key: str | None) -> str:
    """A document identifier's name as printed: 'HC number', not 'Hc number'."""
    return ID_LABELS.get(key or "", type_name(key))


def paper_number(identifiers: dict | None) -> str | None:
    """'HC 18', 'HL Paper 179' or 'CP 1240': the number a paper is cited by."""
    ids = identifiers or {}
    if ids.get("hc_number"):
        return f"HC {ids['hc_number']}"
    if ids.get("hl_paper"):
        return f"HL Paper {ids['hl_paper']}"
    return ids.get("command_paper_number") or None


def human_date(value: str | None) -> str:
    """'2017-02-08' → '8 February 2017'; a bare year or year-month is shown as it is."""
    if not value:
        return "undated"
    try:
        d = date.fromisoformat(value[:10])
    except ValueError:
        m = re.match(r"^(\d{4})-(\d{2})$", value)
        if m and 1 <= int(m.group(2)) <= 12:
            return date(int(m.group(1)), int(m.group(2)), 1).strftime("%B %Y")
        return value
    return f"{d.day} {d.strftime('%B %Y')}"


def rec_label(label: str | None) -> str:
    """'1' or '3a' → 'Recommendation 1'; a label that already says what it is stays as it is."""
    label = (label or "").strip()
    if re.fullmatch(r"\(?[0-9]{1,3}[a-z]?\)?\.?|\(?[a-z]{1,2}\)\.?", label, re.I):
        return f"Recommendation {label.strip('().')}"
    return label


def year_of(value: str | None) -> int | None:
    m = re.match(r"^(\d{4})", value or "")
    return int(m.group(1)) if m else None


def is_web_url(url: str | None) -> bool:
    """Only http(s) links are shown as links; a local file:// path means nothing to a visitor."""
    return bool(url) and urlparse(url).scheme in ("http", "https")


def is_reachable_url(url: str | None) -> bool:
    """An http(s) address a reader can follow: not one on this machine's loopback (the demo
    publisher site, served on 127.0.0.1 only while ``kb demo`` crawls it)."""
    if not is_web_url(url):
        return False
    host = (urlparse(url).hostname or "").lower()
    return not (host == "localhost" or host.startswith("127.") or host == "::1" or host.endswith(".localhost"))


def money(amount: float | None) -> str:
    if amount is None:
        return ""
    for size, word in ((1e9, "billion"), (1e6, "million")):
        if abs(amount) >= size:
            return f"£{amount / size:,.3g} {word}" if amount / size < 1000 else f"£{amount / size:,.0f} {word}"
    if 0 < abs(amount) < 1:
        return f"{round(amount * 100, 2):g}p"  # a price in pence: '21p', not '£0.21'
    return f"£{amount:,.0f}" if float(amount).is_integer() else f"£{amount:,.2f}"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def snippet(text: str, terms: list[str], limit: int = SNIPPET_CHARS) -> tuple[str, bool, bool]:
    """The part of a passage worth showing: the sentences around the one with the most
    matching terms, whole sentences when they fit. Returns ``(text, cut_before, cut_after)``;
    a line break in the result separates a heading or paragraph from the next one."""
    # (sentence, line number): a passage joins short pieces such as headings with a newline.
    pieces = [(" ".join(s.split()), n) for n, line in enumerate(text.splitlines())
              for s in _SENTENCE_END.split(line) if s.strip()]
    if not pieces:
        return "", False, False
    if sum(len(s) + 1 for s, _ in pieces) - 1 <= limit:
        return _join(pieces), False, False
    sentences = [s for s, _ in pieces]
    scores = [sum(1 for _, hit in highlight(s, terms) if hit) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    if len(sentences[best]) > limit:
        return _window(sentences[best], terms, limit, best > 0, best < len(sentences) - 1)
    lo = hi = best
    size = len(sentences[best])
    # Grow after first (reading on is more natural), then before; a heading (a piece that is
    # not a sentence) is a wall, so a snippet never runs on into the next section.
    grow_after = grow_before = True
    while grow_after or grow_before:
        if grow_after and hi + 1 < len(sentences) and _is_sentence(sentences[hi + 1]) \
                and size + 1 + len(sentences[hi + 1]) <= limit:
            hi += 1
            size += 1 + len(sentences[hi])
            continue
        grow_after = False
        if grow_before and lo > 0 and _is_sentence(sentences[lo - 1]) \
                and size + 1 + len(sentences[lo - 1]) <= limit:
            lo -= 1
            size += 1 + len(sentences[lo])
            continue
        grow_before = False
    return _join(pieces[lo:hi + 1]), lo > 0, hi < len(sentences) - 1


def _join(pieces: list[tuple[str, int]]) -> str:
    out = ""
    for i, (sentence, line) in enumerate(pieces):
        if i:
            out += "\n" if line != pieces[i - 1][1] else " "
        out += sentence
    return out


def _is_sentence(text: str) -> bool:
    return text.rstrip()[-1:] in ".!?;:)’”\"'"


def _window(sentence: str, terms: list[str], limit: int, before: bool, after: bool) -> tuple[str, bool, bool]:
    """A word-aligned window of one over-long sentence, around its first match."""
    offset = 0
    for segment, hit in highlight(sentence, terms):
        if hit:
            break
        offset += len(segment)
    else:
        offset = 0
    start = max(0, min(offset - limit // 3, len(sentence) - limit))
    if start:
        start = sentence.find(" ", start) + 1 or start
    end = min(len(sentence), start + limit)
    if end < len(sentence):
        end = sentence.rfind(" ", start, end) if sentence.rfind(" ", start, end) > start else end
    return sentence[start:end].strip(), before or start > 0, after or end < len(sentence)


def _find(text: str, needle: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    """Where ``needle`` is in ``text[start:end]``, whatever the whitespace (a passage or a
    snippet is the page's words with its line breaks normalised)."""
    words = needle.replace("…", " ").split()
    if not words:
        return None
    m = re.compile(r"\s+".join(re.escape(w) for w in words[:400])).search(text, start, len(text) if end is None else end)
    return m.span() if m else None


def cited_paragraphs(text: str, passage: str | None, quote: str | None = None) -> list[list[tuple[str, int]]]:
    """A page's text as paragraphs of ``(segment, level)``: level 2 is the cited sentence
    (``quote``, what the citation showed), 1 the rest of the cited passage, 0 the page. The
    template escapes each segment and marks levels 1 and 2, so a citation lands on its words."""
    spans: list[tuple[int, int, int]] = []
    where = _find(text, passage) if passage else None
    if where:
        spans.append((*where, 1))
    inner = _find(text, quote, *(where or (0, None))) if quote else None
    if inner:
        spans.append((*inner, 2))
    levels = [0] * len(text)
    for a, b, level in spans:
        for i in range(a, b):
            levels[i] = max(levels[i], level)
    paragraphs: list[list[tuple[str, int]]] = []
    at = 0
    for para in re.split(r"(\n\s*\n)", text):
        if para.strip() and not re.fullmatch(r"\n\s*\n", para):
            segments: list[tuple[str, int]] = []
            for i, ch in enumerate(para, at):
                if segments and segments[-1][1] == levels[i]:
                    segments[-1] = (segments[-1][0] + ch, levels[i])
                else:
                    segments.append((ch, levels[i]))
            paragraphs.append(segments)
        at += len(para)
    return paragraphs


def marks_level(paragraphs: list[list[tuple[str, int]]], level: int) -> bool:
    """Whether ``cited_paragraphs`` found anything at ``level`` (2: the quoted sentence)."""
    return any(lv == level for para in paragraphs for _, lv in para)


def sources_present(selected: str | None = None) -> list[str]:
    """The sources that have documents (a filter offers only those), and the one chosen."""
    from kb.analysis.documents import sources_present as present
    from webapp import get_kb

    sources = present(get_kb().store)
    return sources + [selected] if selected and selected not in sources else sources


def page_cite(doc_id: str | None, page: int | None) -> str:
    """'p. 49 (PDF p. 67)' for a page of a stored document, for any template that cites one."""
    from kb.analysis.documents import page_label
    from webapp import get_kb

    if not page:
        return ""
    return cite_page(page, page_label(get_kb().store, doc_id, page) if doc_id else None)


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        source_name=source_name, theme_name=theme_name, type_name=type_name, human_date=human_date,
        money=money, year_of=year_of, rec_label=rec_label, id_label=id_label, paper_number=paper_number)
    app.jinja_env.globals.update(
        SOURCES=ALL_SOURCES, THEMES=THEMES, FACET_NAMES=FACET_NAMES, highlight=highlight,
        theme_description=theme_description,
        snippet=snippet, plural=plural, is_web_url=is_web_url, is_reachable_url=is_reachable_url, cited_paragraphs=cited_paragraphs, marks_level=marks_level, sources_present=sources_present, page_cite=page_cite,
        cite_page=cite_page)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

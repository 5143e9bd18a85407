"""Funding figures of a whole document, in time linear in its size (no spaCy here).

``find_figures`` reads each sentence that holds a pound sign once: its amounts, periods and
kind cues are found in one pass each, and every amount is then read in a bounded view: the
sentence itself, or, in an overlong "sentence" (a table flattened into one line, a run-on
export), a window of a few hundred characters around the amount. So a text of 1 MB of
repeated '£5.3 billion' costs the same per amount as a normal report (issue 17), and a
per-document cap on figures (``FundingLimits.max_items``) is reported when hit.

Tables count too: in a Markdown table the row label and the column header of a cell say
what the amount is of and for which period ('| Barnet | £1,234 |' under '| Council |
2018/19 |' → subject 'Barnet', period '2018/19'); in a PDF table flattened to text, the
words before a run of amounts label them.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from nlp.money import (Cue, FundingPatterns, MoneyMention, Period, adjacent_name, clean_subject, cue_matches,
                       find_money, find_periods, fund_names, kind_for, named_fund, normalise_period, period_for,
                       subject_for)
from nlp.segment import SentSpan

PENCE_HINT = re.compile(r"\dp\b|\d\s?[Pp]ence\b")
MONEY_HINT = re.compile(r"£|\bpounds\b|GBP|" + PENCE_HINT.pattern)


@dataclass(frozen=True)
class FundingLimits:
    """Bounds on the work one document may cause (overridable in the pipeline config)."""

    max_items: int = 20000  # figures kept per document; the rest are counted and reported
    max_parsed: int = 400  # distinct sentences (or windows) given to the statistical parser
    long_sentence: int = 1200  # characters: a longer 'sentence' is read in windows
    radius: int = 300  # characters each side of an amount in a window


@dataclass
class Figure:
    """One amount found in the text, before the parser refines its subject."""

    mention: MoneyMention  # offsets relative to ``view_start``
    subject: str | None
    certain: bool  # the subject is a name next to the amount or a table header: no parse needed
    period: str | None
    kind: str
    sentence_start: int
    sentence_end: int
    view: str  # the text the amount was read in: its sentence, or a window of it
    view_start: int  # offset of ``view`` in the document text
    context: str  # the end of the previous sentence in the same block
    table: bool = False  # a cell of a Markdown table: its row and column say what it is

    @property
    def start(self) -> int:
        return self.view_start + self.mention.start

    @property
    def end(self) -> int:
        return self.view_start + self.mention.end


@dataclass
class FundingRun:
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # limits hit, for the user


def find_figures(text: str, sents: list[SentSpan], patterns: FundingPatterns,
                 limits: FundingLimits = FundingLimits(), blocks: list[tuple[int, int]] | None = None) -> FundingRun:
    """Every pound amount in ``text`` (sentences ``sents``; ``blocks``: the layout blocks'
    (start, end), to read tables a block at a time) with subject, period and kind."""
    run = FundingRun()
    tables: dict[int, TableCells | None] = {}
    dropped = 0
    previous: SentSpan | None = None
    for s in sents:
        prev, previous = previous, s
        if not MONEY_HINT.search(text, s.start, s.end):
            continue
        if len(run.figures) >= limits.max_items:
            dropped += text.count("£", s.start, s.end) + len(PENCE_HINT.findall(text, s.start, s.end))  # counted, not read
            continue
        context = ""
        if prev is not None and prev.block == s.block:
            context = text[max(prev.start, prev.end - 400):prev.end]
        if blocks is not None and s.block not in tables:
            tables[s.block] = table_cells(text, *blocks[s.block])
        dropped += _read_sentence(run, text, s, context, patterns, limits, tables.get(s.block))
    if dropped:
        run.notes.append(f"funding: kept the first {limits.max_items} figures of this document, "
                         f"{dropped} more not extracted (limit max_items)")
    return run


def footnote_figures(footnotes: list[tuple[int | None, str]], patterns: FundingPatterns,
                     limits: FundingLimits = FundingLimits()) -> list[tuple[int | None, str, Figure, str | None]]:
    """(page, sentence, figure, subject) of every amount a PDF's footnotes state ('2 A 2007
    Foresight report … estimated that … obesity-related diseases will cost society £49.9
    billion a year by 2050'). The footnotes stay out of the running text; their subjects come
    from the rules alone (no parse)."""
    from nlp.segment import split_text

    out: list[tuple[int | None, str, Figure, str | None]] = []
    for page, note in footnotes:
        if not MONEY_HINT.search(note):
            continue
        sents = [SentSpan(a, b, 0) for a, b in split_text(note)]
        for fig in find_figures(note, sents, patterns, limits).figures:
            subject = specific_subject(fig.view, fig.mention, fig.subject, fig.context)
            out.append((page, note[fig.sentence_start:fig.sentence_end], fig, subject))
            if len(out) >= limits.max_items:
                return out
    return out


def _read_sentence(run: FundingRun, text: str, s: SentSpan, context: str, patterns: FundingPatterns,
                   limits: FundingLimits, table: TableCells | None = None) -> int:
    """Figures of one sentence into ``run``; returns how many were dropped by the cap."""
    sentence = text[s.start:s.end]
    mentions = find_money(sentence)
    if not mentions:
        return 0
    periods = find_periods(sentence)
    cues = cue_matches(sentence, patterns)
    context_cues = cue_matches(context, patterns) if context else []
    numeric = table is not None or _numeric_run(sentence, mentions)
    long = len(sentence) > limits.long_sentence
    m_starts = [m.start for m in mentions]
    p_starts = [p.start for p in periods]
    for i, m in enumerate(mentions):
        if len(run.figures) >= limits.max_items:
            return len(mentions) - i
        if long:
            view, a, vm, vmentions, vperiods, vcues = _window(sentence, m, mentions, m_starts, periods, p_starts,
                                                              cues, limits.radius)
        else:
            view, a, vm, vmentions, vperiods, vcues = sentence, 0, m, mentions, periods, cues
        cell = table.at(s.start + m.start) if table is not None else None
        if cell is not None:
            caption = table.caption
            run.figures.append(_table_figure(m, vm, cell, view, s, a, caption, patterns, vperiods, vmentions))
            continue
        subject = clean_subject(adjacent_name(view, vm))
        fallback = subject_for(view, vm) or measured_phrase(view, vm) or named_fund(view, vm)
        if fallback is None and numeric:
            fallback = row_label(view, vm, vmentions)
        if fallback is None and context and re.search(r"\b(?:its|the\s+(?:fund|scheme|programme|grant))\b",
                                                      view, re.I):
            # 'In 2015-16, its first year, areas pooled £5.3bn': the fund the previous
            # sentence named owns the money, not the grammatical subject ('areas')
            subject = subject or clean_subject(named_fund(context))
        run.figures.append(Figure(
            mention=vm, subject=subject or specific_subject(view, vm, fallback, context), certain=subject is not None,
            period=period_for(view, vm, vmentions, vperiods),
            kind=kind_for(view, vm, patterns, context, vcues, context_cues),
            sentence_start=s.start, sentence_end=s.end, view=view, view_start=s.start + a, context=context,
        ))
    return 0


def _window(sentence: str, m: MoneyMention, mentions: list[MoneyMention], m_starts: list[int],
            periods: list[Period], p_starts: list[int], cues: list[Cue], radius: int):
    """The text around ``m`` in an overlong sentence, with the amounts, periods and cues in it
    shifted to the window's coordinates (found once for the sentence, picked by bisection)."""
    a = max(0, m.start - radius)
    b = min(len(sentence), m.end + radius)
    if a > 0:  # start and end on a word boundary
        space = sentence.find(" ", a, m.start)
        a = space + 1 if space != -1 else a
    if b < len(sentence):
        space = sentence.rfind(" ", m.end, b)
        b = space if space != -1 else b

    def inside(items, starts):
        return [replace(x, start=x.start - a, end=x.end - a)
                for x in items[bisect.bisect_left(starts, a):bisect.bisect_left(starts, b)] if x.end <= b]

    vcues = [(cs - a, ce - a, k) for cs, ce, k in cues[bisect.bisect_left(cues, (a, -1, "")):
                                                        bisect.bisect_left(cues, (b, -1, ""))] if ce <= b]
    vm = replace(m, start=m.start - a, end=m.end - a)
    return sentence[a:b], a, vm, inside(mentions, m_starts), inside(periods, p_starts), vcues


# --- tables ----------------------------------------------------------------------------------

SEPARATOR_CELL = re.compile(r"^\s*:?-{2,}:?\s*$")


@dataclass
class Cell:
    row: str | None  # the row's label (its first cell), when it is words
    column: str | None  # the column's header


class TableCells:
    """Row label and column header of each cell of a Markdown pipe table that layout joined
    into one block ('| Council | 2018/19 | |---|---| | Barnet | £1,234 |'), by text offset."""

    def __init__(self, cells: list[tuple[int, int, Cell]], caption: str) -> None:
        self.cells = cells
        self.caption = caption  # the text just before the table's first row: its caption or heading
        self.starts = [c[0] for c in cells]

    def at(self, offset: int) -> Cell | None:
        i = bisect.bisect_right(self.starts, offset) - 1
        if i >= 0 and self.cells[i][0] <= offset < self.cells[i][1]:
            return self.cells[i][2]
        return None


def table_cells(text: str, start: int = 0, end: int | None = None) -> TableCells | None:
    """The cells of a pipe table in ``text[start:end]`` (a layout block), or None when it is
    not one. Linear in the block: one pass over its pipes."""
    end = len(text) if end is None else end
    if text.count("|", start, end) < 6 or not re.search(r"\|\s*:?-{2,}:?\s*\|", text[start:min(end, start + 4000)]):
        return None
    bounds = [i for i in range(start, end) if text[i] == "|"]
    tokens = [(bounds[i] + 1, bounds[i + 1]) for i in range(len(bounds) - 1)]
    texts = [text[x:y].strip() for x, y in tokens]
    sep = next((i for i, t in enumerate(texts) if SEPARATOR_CELL.match(t)), None)
    if sep is None:
        return None
    n = 0
    while sep + n < len(texts) and SEPARATOR_CELL.match(texts[sep + n]):
        n += 1
    header = texts[max(0, sep - 1 - n):sep - 1] if sep >= n + 1 and not texts[sep - 1] else texts[max(0, sep - n):sep]
    if len(header) != n or n < 2:
        return None
    cells: list[tuple[int, int, Cell]] = []
    i = sep + n + 1  # skip the join between the separator row and the first data row
    while i + n <= len(tokens):
        row = texts[i:i + n]
        label = row[0] if re.search(r"[A-Za-z]{2}", row[0]) and "£" not in row[0] else None
        for j in range(n):
            x, y = tokens[i + j]
            cells.append((x, y, Cell(label, header[j] or None)))
        i += n + 1
    return TableCells(cells, text[max(0, bounds[0] - 300):bounds[0]])


def _numeric_run(sentence: str, mentions: list[MoneyMention]) -> bool:
    """Many amounts with few words between them: table rows flattened into text."""
    if len(mentions) < 4:
        return False
    money_chars = sum(m.end - m.start for m in mentions)
    words = len(re.findall(r"[A-Za-z]{3,}", sentence))
    return words <= 3 * len(mentions) and money_chars >= 0.15 * len(sentence)


ROW_LABEL = re.compile(r"([A-Za-z][A-Za-z&'’\-/(),.]*(?:\s+[A-Za-z&'’\-/(),.]+){0,6})\s*[|:]?\s*$")


def row_label(view: str, m: MoneyMention, mentions: list[MoneyMention]) -> str | None:
    """The words before the run of amounts that ``m`` belongs to ('Barnet £1,234 £1,300')."""
    before = [x for x in mentions if x.end <= m.start]
    end = m.start
    for x in reversed(before):  # walk back over the amounts (and numbers) of the same row
        if re.fullmatch(r"[\s|\d.,%()\-–]*", view[x.end:end]):
            end = x.start
        else:
            break
    lo = before[-1].end if before and before[-1].end <= end else 0
    found = ROW_LABEL.search(re.sub(r"[\d.,%]+\s*$", "", view[max(lo, end - 80):end].rstrip()))
    return clean_subject(found.group(1).strip(" |:,.")) if found else None


def _label(text: str) -> str | None:
    """A table label as a subject: tidied, but its numbers kept ('Authority 30', 'Band 5')."""
    text = " ".join(text.replace("*", "").replace("\\", "").split()).strip(" :–-")
    if not re.search(r"[A-Za-z]{2}", text) or len(text.split()) > 14:
        return None
    return text


def _table_figure(m: MoneyMention, vm: MoneyMention, cell: Cell, view: str, s: SentSpan, a: int,
                  context: str, patterns: FundingPatterns, vperiods, vmentions) -> Figure:
    column = cell.column or ""
    column_periods = find_periods(column) or ([Period(normalise_period(column), 0, len(column))]
                                              if re.fullmatch(r"(?:19|20)\d\d", column) else [])
    period = column_periods[0].text if column_periods else None
    words = [w for w in (cell.row, None if column_periods else cell.column) if w and re.search(r"[A-Za-z]", w)]
    subject = _label(" – ".join(words)) if words else None
    label_text = " ".join(words)
    cue_text = f"{label_text} {context}".strip()
    kind = patterns.default
    if cue_text:
        cues = cue_matches(cue_text, patterns)
        if cues:
            kind = min(cues, key=lambda c: (c[0], -(c[1] - c[0])))[2] if label_text and cues[0][0] < len(label_text) \
                else max(cues, key=lambda c: (c[1], c[1] - c[0]))[2]
    return Figure(mention=vm, subject=subject, certain=subject is not None,
                  period=period or period_for(view, vm, vmentions, vperiods), kind=kind,
                  sentence_start=s.start, sentence_end=s.end, view=view, view_start=s.start + a, context=context,
                  table=True)


GENERIC_OWNER = re.compile(r"^(?:the\s+)?(?:government|department|ministers?|we|it|they|chancellor|treasury)$", re.I)
# verbs of changing an amount, shared by the rules below
_CHANGING = r"raise|raising|increase|increasing|reduce|reducing|cut|cutting|lift|lifting"
RAISED_TO = re.compile(rf"\b(?:{_CHANGING}|freeze|freezing|set|setting|cap|capping)s?\s+(?:the\s+|its\s+|their\s+)?"
                       r"((?:[\w\-’']+\s+){0,4}?[\w\-’']+)"
                       r"\s+(?:from\s+£[\d.,]+\s*(?:billion|million|bn|m)?\s+)?(?:to|at)\s+$", re.I)


FUND_ANAPHOR = re.compile(r"\b(?:the|this|that|its)\s+(?:fund|programme|program|scheme|grant|initiative)\b", re.I)


def specific_subject(view: str, m: MoneyMention, subject: str | None, context: str = "") -> str | None:
    """A subject that only names who acts ('the government', 'we') gives way to what the
    money is: the fund the sentence names ('the New Stations Fund with up to £20 million'), or
    what is raised or cut to the amount ('pledged to raise the personal allowance to £12,500').
    A one-word subject ('capital') is the named fund's ('the Local Sustainable Transport Fund
    will provide ... (£210 million capital)'), and 'the fund' is the one ``context`` (the
    text before the sentence) names: 'The fund will make £560m available for smarter choices'.
    What an amount changes ('commits to increase NHS funding in England by £10 billion') is
    its subject whatever the clause's subject is."""
    changed = _changed_by(view, m)
    if changed:
        return changed
    if subject is not None and not GENERIC_OWNER.match(subject.strip()):
        fund = named_fund(view, m)
        if fund is None and context and PRONOUN_LEAD.match(view):
            # 'The Sustainable Travel Towns programme was introduced ... It ran between 2004 and
            # 2009 and was funded by £10 million of DfT funding': the money is for what 'it' is
            fund = _last_fund(context)
            if fund and fund.lower() not in subject.lower() and len(f"{subject} for {fund}".split()) <= 12:
                return f"{subject} for {fund}"
            fund = None
        anaphor = FUND_ANAPHOR.search(view, 0, m.start) if fund is None and context else None
        if anaphor:
            fund = _last_fund(context, anaphor.group(0).split()[-1])
            inner = FUND_ANAPHOR.search(subject)
            if fund and inner and inner.group(0).split()[-1].lower() == fund.split()[-1].lower():
                # 'the cost effectiveness ratio of the programme' → '... of the MEND programme'
                return f"{subject[:inner.start()]}the {fund}{subject[inner.end():]}"
        if fund and anaphor and subject.lower() in fund.lower():
            # 'The fund will make £80 million available over three years for peatland restoration'
            purpose = PURPOSE_AFTER.match(view[m.end:])
            whole = f"{fund} for {purpose.group(1)}" if purpose else fund
            return whole if len(whole.split()) <= 12 else fund
        if fund and subject.split()[0].lower() == fund.split()[-1].lower() and fund.lower() not in subject.lower():
            # 'a new £5 million fund for projects' in 'Centenary fund – ...' → 'Centenary fund for projects'
            whole = f"{fund}{subject[len(subject.split()[0]):]}"
            return whole if len(whole.split()) <= 12 else subject
        if fund and fund.lower() not in subject.lower() and subject.lower() not in fund.lower():
            if len(subject.split()) == 1:
                return f"{fund} {subject}"
            # the fund gives the money to what follows the amount ('The X Fund would provide
            # £560m to local authorities' → 'X Fund for local authorities')
            gives = fund not in view or view.find(fund) < m.start < m.end <= view.find(subject)
            if gives and len(f"{fund} for {subject}".split()) <= 12:
                return f"{fund} for {subject}"
        return subject
    raised = RAISED_TO.search(view[max(0, m.start - 120):m.start])
    if raised:
        found = clean_subject(raised.group(1))
        if found and not GENERIC_OWNER.match(found):
            return found
    changed = _changed_from(view, m)
    if changed:
        return changed
    return clean_subject(named_fund(view, m)) or subject


CHANGED_FROM = re.compile(rf"\b(?:{_CHANGING}|extend|extending|change|changing)s?\s+(?:the\s+|its\s+|their\s+)?"
                          r"((?:[\w\-’']+\s+){0,4}?[\w\-’']+)\s+from\s+(?=£)", re.I)
# what may stand between 'from' and a later amount of the same change: amounts, years, 'to', 'and'
_FROM_TO_CHAIN = re.compile(r"(?:£[\d.,]+\s*(?:billion|million|bn|m|k)?|\s|,|\bto\b|\band\b|\bin\b|\bfrom\b|"
                            r"\d{4}(?:\s?[-/–]\s?\d{2,4})?)*", re.I)


CHANGED_BY = re.compile(rf"\b(?:{_CHANGING}|boost|boosting)"
                        r"s?\s+(?:the\s+|its\s+|their\s+)?((?:[\w\-’']+\s+){0,5}?[\w\-’']+)\s+by\s+"
                        r"(?:(?:around|about|over|almost|nearly|more\s+than|up\s+to|a\s+further|an\s+extra)\s+)?$", re.I)


def _changed_by(view: str, m: MoneyMention) -> str | None:
    """'commits to increase NHS funding in England by £10 billion' → 'NHS funding in England'."""
    by = CHANGED_BY.search(view, max(0, m.start - 120), m.start)
    subject = clean_subject(by.group(1)) if by else None
    if subject and not GENERIC_OWNER.match(subject) and subject.lower() not in ("it", "them", "this"):
        return subject
    return None


def _changed_from(view: str, m: MoneyMention) -> str | None:
    """'The government will increase the higher rate threshold from £42,385 in 2015-16 to
    £43,000 in 2016-17 and to £43,600 in 2017-18': each amount of the change is the threshold's."""
    found = None
    for c in CHANGED_FROM.finditer(view, max(0, m.start - 200), m.start + 1):
        found = c
    if found is None or not _FROM_TO_CHAIN.fullmatch(view, found.end(), m.start):
        return None
    subject = clean_subject(found.group(1))
    return subject if subject and not GENERIC_OWNER.match(subject) else None


PURPOSE_AFTER = re.compile(r"^\s+(?:available\s+)?(?:(?:over|in|during|across)\s+(?:the\s+)?(?:next\s+)?\w+\s+\w+\s+)?"
                           r"(?:for|to)\s+[“\"‘']?([a-z][\w\-’'”\"]*(?:\s+[a-z][\w\-’'”\"]*){0,6}?)(?=\s*[.,;(]|\s*$)")
# 'It ran between 2004 and 2009 and was funded by ...', not 'It is planned that ...' / 'It was clear to ...'
PRONOUN_LEAD = re.compile(r"^\W*(?:It|They)\s+(?!(?:is|was|are|were|will\s+be|would\s+be|has\s+been|had\s+been|may\s+be|"
                          r"could\s+be)\s+(?:\w+\s+)?(?:that|to|whether|how|if)\b)")
FUND_PHRASE = re.compile(r"\b[Tt]he\s+((?:[a-z][\w\-]*\s+){1,4}(?:fund|programme|scheme|initiative))\b")


@lru_cache(maxsize=1024)
def _described_funds(context: str) -> tuple[tuple[int, str], ...]:
    return tuple((m.end(), m.group(1)) for m in FUND_PHRASE.finditer(context) if len(m.group(1).split()) >= 2)


def _last_fund(context: str, noun: str | None = None) -> str | None:
    """The fund or programme named or described nearest the end of ``context`` (what 'it' or
    'the fund' refers back to: 'The local sustainable transport fund is the successor to ...
    The fund will make £560m available'); with ``noun`` ('fund'), one of that kind first."""
    if not context:
        return None
    found = [(end, name) for _, end, name in fund_names(context)] + list(_described_funds(context))
    if noun:
        found = [f for f in found if f[1].split()[-1].lower() == noun.lower()] or found
    return max(found)[1] if found else None


MEASURED = re.compile(
    r"((?:(?:total|average|annual|net|gross|overall|the|their|its)\s+)*(?:[\w\-’']+\s+)?"
    r"(?:spend|spending|expenditure|investment|income|costs?|savings|funding|budget|deficit|profits?|EBITDA|"
    r"allocation|grant|revenue|turnover)"
    r"(?:\s+(?:per|on|in|of|for|by)\s+(?:the\s+)?[\w\-’'/]+(?:\s+[\w\-’'/]+){0,2}){0,3})"
    r"\s+(?:was|is|were|are|of|at|totalled|totaled|stood\s+at|amounted\s+to|amount\s+to|reached)"
    r"(?:\s+(?:around|about|over|nearly|almost|approximately|up\s+to|more\s+than|less\s+than|at\s+least|only|just))?\s*$",
    re.I,
)


def measured_phrase(view: str, m: MoneyMention) -> str | None:
    """The money noun phrase an amount measures, with what qualifies it: 'spend per person in
    Copenhagen was around £40', 'the total income for this expanded sample is £1,537 million'."""
    found = MEASURED.search(view[max(0, m.start - 140):m.start])
    if not found:
        return None
    phrase = re.sub(r"^(?:(?:the|their|its)\s+)+", "", found.group(1).strip(), flags=re.I)
    return clean_subject(phrase) if len(phrase.split()) >= 2 else None


UNIT_AFTER = re.compile(r"^\s*(?:per|for\s+each|for\s+every|each|every)\s+([A-Za-z][A-Za-z\-]*)(?:\s+([A-Za-z]+))?")
TIME_UNITS = {"year", "years", "annum", "month", "months", "quarter", "week", "weeks", "day", "days", "decade"}


def with_unit(subject: str | None, view: str, m: MoneyMention) -> str | None:
    """A rate's subject says what it is per, as a reader writes it: '£10 per head of population
    per year' on 'cycling expenditure' is 'cycling expenditure per head'; '£1,671 per QALY' is
    '... per QALY'. Time units stay in the period ('per year')."""
    if not subject or not m.per_unit or re.search(r"\bper\b", subject, re.I):
        return subject
    found = UNIT_AFTER.match(view[m.end:m.end + 60])  # the unit is letters only: 'QALY250' has a footnote
    if found and (found.group(2) or "").lower() in TIME_UNITS:
        return subject  # 'for each clinical year' is a period
    if not found or found.group(1).lower() in TIME_UNITS or found.group(1).lower() in subject.lower():
        return subject  # 'hourly wage rate' says 'per hour' already
    phrase = f"{subject} per {found.group(1)}"
    return phrase if len(phrase.split()) <= 12 else subject


CAPTION = re.compile(r"^\W*(?:Figure|Fig\.|Table|Chart|Graph|Exhibit|Box)\s+[A-Z]?\d+(?:\.\d+)?[a-z]?\s*[:.–\-]\s*"
                     r"((?:[A-Za-z’'\-]+\s+){0,2}?[A-Za-z’'\-]+(?:\s+[a-z][\w’'\-]*)*)")
CAPTION_LEAD = re.compile(r"^(?:(?:approximate|estimated|indicative|illustrative|total|annual)\s+)*"
                          r"(?:breakdown|distribution|composition|split|summary|analysis|sources?|components?)\s+of\s+",
                          re.I)


def caption_subject(view: str) -> str | None:
    """What the amounts of a chart or table flattened into one text line are: its caption,
    up to the first label in capitals ('Figure 4: Approximate breakdown of medical education
    funding Grant to placement provider ... £64,300' → 'medical education funding')."""
    found = CAPTION.match(view)
    if not found:
        return None
    phrase = CAPTION_LEAD.sub("", found.group(1).strip())
    phrase = re.sub(r"(?:\s+(?:in|of|for|by|to|on|at|and|from|the|a|was|is|were|are))+$", "", phrase, flags=re.I)
    return clean_subject(phrase) if len(phrase.split()) <= 8 else None


ACRONYM = re.compile(r"\\?\(([A-Z][A-Za-z]{1,7})\\?\)")
NAME_BEFORE = re.compile(r"((?:[A-Z][\w’'\-]*\s+(?:(?:of|and|for|the|on|in)\s+)?){1,7})$")
# Acronyms a reader keeps as they are (Whitehall departments, the NHS, regulators everyone knows)
WELL_KNOWN = {"NHS", "DH", "DHSC", "DfT", "DfE", "DWP", "DCMS", "DfID", "MHCLG", "DLUHC", "HMRC", "HMT", "MoJ",
              "MoD", "NAO", "ONS", "GP", "GPs", "UK", "EU", "NICE", "CQC", "OBR", "IFS", "BBC", "LGA", "PAC"}


def acronyms(text: str) -> dict[str, str]:
    """Acronyms the document defines ('Health Education England (HEE)'), by acronym, when
    the capitalised words' initials spell it. One pass over the brackets of the text."""
    out: dict[str, str] = {}
    for m in ACRONYM.finditer(text):
        short = m.group(1)
        if short in out or short in WELL_KNOWN:
            continue
        before = " ".join(text[max(0, m.start() - 160):m.start()].split())
        name = NAME_BEFORE.search(before + " ")
        if not name:
            continue
        words = name.group(1).split()
        capitals = [w for w in words if w[0].isupper()]
        letters = [c for c in short if c.isupper()]
        if len(capitals) >= len(letters) >= 2 and [w[0] for w in capitals[-len(letters):]] == letters:
            start = words.index(capitals[-len(letters)]) if capitals[-len(letters)] in words else 0
            out[short] = " ".join(words[start:])
    return out


def expand_acronyms(subject: str | None, known: dict[str, str]) -> str | None:
    """'HEE ring-fenced training budget' → 'Health Education England ring-fenced training
    budget', where the document defines HEE; well-known ones ('DfT', 'NHS') stay."""
    if not subject or not known:
        return subject
    out = re.sub(r"(?<![\w\-‑])([A-Z][A-Za-z]{1,7})\b(?![\-‑])", lambda m: known.get(m.group(1), m.group(1)), subject)
    return out if len(out.split()) <= 12 else subject


FRONTED_PLACE = re.compile(r"^\W*(?:At|In|Within|Across)\s+((?:[A-Z][\w’'\-]*\s+(?:of\s+)?){0,4}[A-Z][\w’'\-]*)\s*,\s")
NOT_A_PLACE = re.compile(r"\b(?:Figure|Table|Chart|Chapter|Section|Annex|Appendix|Box|Paragraph|Part|Summary|"
                         r"Addition|Particular|Practice|Total|General|Short|Future|Contrast|Response|Brief|Turn|"
                         r"January|February|March|April|May|June|July|August|September|October|November|December)\b")
MEASURE_VERB = re.compile(r"\s+(?:was|were|is|are|totalled|totaled|reached|stood\s+at|amounted\s+to)\s+"
                          r"(?:around\s+|about\s+|over\s+|nearly\s+|almost\s+)?$")
CONJUNCT_END = re.compile(r"\s(?:by|in|of|for|on|at|across|from|among)\s")


def respectively(view: str, first: MoneyMention, second: MoneyMention) -> tuple[str, str] | None:
    """'spending on home care and residential care by the county council was £310 million and
    £185 million respectively': each amount is of its own conjunct, with what the two share
    ('spending on home care by the county council'; 'spending on residential care by the
    county council')."""
    if not re.match(r"^\s*respectively\b", view[second.end:second.end + 20], re.I) \
            or not re.fullmatch(r"\s*(?:and|,)\s*", view[first.end:second.start]):
        return None
    verb = MEASURE_VERB.search(view[:first.start])
    if not verb:
        return None
    clause = view[:verb.start()]
    cut = max(clause.rfind(", "), clause.rfind(" that "), clause.rfind("; "))
    clause = clause[cut + 1:].strip() if cut >= 0 else clause.strip()
    clause = re.sub(r"^that\s+", "", clause)
    if clause.count(" and ") != 1:
        return None
    left, right = clause.split(" and ")
    tail = CONJUNCT_END.search(" " + right)
    own, shared = (right[:tail.start()].strip(), right[tail.start():].strip()) if tail else (right, "")
    # the words the two share come before the left conjunct: up to its last preposition
    # ('spending on | home care and residential care by the council')
    prep = list(re.finditer(r"\s(?:on|for|of|in|to|towards)\s", left))
    head = left[:prep[-1].end()].strip() if prep else ""
    if not head or not own:
        return None
    one = clean_subject(f"{left} {shared}".strip())
    two = clean_subject(f"{head} {own} {shared}".strip())
    return (one, two) if one and two else None


ALTERNATIVE = re.compile(r"^\s*((?:for|in|at|among|across)\s+[^()£]{3,80}?)\s*\)")


def _alternative(first: Figure, second: Figure, subject: str | None) -> str | None:
    """'The total annual fee income for children’s services ... is £1,537 million (£1,373 million
    for the smaller sample in the first report)': the bracketed amount is the same measure for
    another group or time → 'total annual fee income for the smaller sample in the first report'."""
    if not subject or first.view != second.view or not re.fullmatch(r"\s*\(\s*",
                                                                   first.view[first.mention.end:second.mention.start]):
        return None
    found = ALTERNATIVE.match(second.view[second.mention.end:])
    if not found:
        return None
    head = re.split(r"\s(?:for|of|on|in|at|by)\s", subject)[0]
    phrase = f"{head} {found.group(1)}"
    return clean_subject(phrase) if len(phrase.split()) <= 12 else None


ELIDED = re.compile(r"(?:\s+(?:per|a|each)\s+[a-z]+)?\s*,?\s*(?:and|or|while|whereas|but)\s+"
                    r"(?P<prep>for|of|in|on|at)\s+(?P<what>[A-Za-z][\w\- ]{0,40}?)"
                    r"\s+(?:(?:at|around|about|of|is|was|would be|will be|just over|just under)\s+)*$", re.I)


def _elided(first: Figure, second: Figure, subject: str | None) -> str | None:
    """'the minimum price for a unit of beer would be around 21p and for spirits around 28p':
    the second amount repeats the first's measure for another thing, the words left out →
    'minimum price for a unit of spirits'."""
    if not subject or first.view != second.view:
        return None
    found = ELIDED.match(first.view[first.mention.end:second.mention.start])
    if not found:
        return None
    prep, what = found.group("prep").lower(), found.group("what").strip()
    cut = subject.lower().rfind(f" {prep} ")
    if cut < 0:
        return None
    head, tail = subject[:cut], subject[cut + len(prep) + 2:]
    inner = tail.lower().rfind(" of ")
    phrase = f"{head} {prep} {tail[:inner + 4]}{what}" if inner >= 0 else f"{head} {prep} {what}"
    return clean_subject(phrase) if len(phrase.split()) <= 12 else None


PARALLEL = re.compile(r"\b(?:and|or|while|whereas|with|compared|but|against|versus|vs|others?)\b", re.I)


def _parallel(a: Figure, b: Figure) -> bool:
    """Two amounts of one sentence are of the same thing when a few words of contrast join
    them ('more than £40,000 for each clinical year and others £20,140'; '£45.58 (with some
    earning up to £80 per hour)'), not when a preposition ties one to the other ('a bonus of
    £3,000 on £12,000 of savings')."""
    first, second = (a, b) if a.start < b.start else (b, a)
    between = first.view[first.mention.end:second.mention.start] if first.view == second.view else ""
    words = re.findall(r"[A-Za-z]+", between)
    if re.search(r"\b(?:of|in|on|for|by)\s*$", between):
        return False  # 'and a reduction of £3.5 billion': the second amount has its own noun
    return 0 < len(words) <= 6 and bool(PARALLEL.search(between))


TOTALLING = re.compile(r"(?:\btotall?ing|\ba\s+total\s+of|\bin\s+total)\s+(?:of\s+)?(?:around\s+|about\s+|over\s+)?$", re.I)


def final_subjects(figures: list[Figure], subjects: list[str | None], text: str) -> list[str | None]:
    """The last touches a reader would make, over all the figures of a document: amounts of a
    chart flattened into one line are of its caption; acronyms the document defines are
    written out; a rate says what it is per; an amount that names nothing itself
    ('some charging more than £40,000 ... and others £20,140'; 'loans of £9,000 per year,
    totalling £45,000') is of the same thing as the nearest amount of its sentence that does."""
    known = acronyms(text)
    out: list[str | None] = []
    for fig, subject in zip(figures, subjects):
        place = FRONTED_PLACE.match(fig.view)
        if place and subject and not NOT_A_PLACE.search(place.group(1)) and place.group(1) not in subject \
                and len(subject.split()) + len(place.group(1).split()) <= 12:
            subject = f"{place.group(1)} {subject}"  # 'At Buckingham Medical School, students pay £36,000'

        caption = None if fig.table else caption_subject(fig.view)
        if caption:
            label = f"{caption} – {subject}" if subject and subject.lower() not in caption.lower() else caption
            subject = label if len(label.split()) <= 12 else caption
        out.append(subject)
    by_sentence: dict[int, list[int]] = {}
    for i, fig in enumerate(figures):
        by_sentence.setdefault(fig.sentence_start, []).append(i)
    for members in by_sentence.values():
        if not 2 <= len(members) <= 12:
            continue  # one amount, or a table flattened into one line: no neighbours to read
        if len(members) == 2 and figures[members[0]].view == figures[members[1]].view:
            pair = respectively(figures[members[0]].view, figures[members[0]].mention, figures[members[1]].mention)
            if pair:
                out[members[0]], out[members[1]] = pair
                continue
        if any(figures[i].table for i in members):
            continue  # a table's cells are read by their row and column
        for a, b in zip(members, members[1:]):
            found = _alternative(figures[a], figures[b], out[a]) or _elided(figures[a], figures[b], out[a])
            if found:
                out[b] = found
        for i in members:
            fig = figures[i]
            totals = TOTALLING.search(fig.view[max(0, fig.mention.start - 40):fig.mention.start])
            if out[i] is not None and not totals:
                continue
            before = [j for j in members if j < i and out[j] and figures[j].start < fig.start]
            after = [j for j in members if j > i and out[j] and figures[j].start > fig.start and not totals]
            source = before[-1] if before else (after[0] if after else None)
            if source is not None and not totals and not _parallel(fig, figures[source]):
                source = None
            if source is not None and subjects[source] is not None:
                out[i] = out[source]
    stated: dict[float, str] = {}
    for i, fig in enumerate(figures):  # 'Had the £230,000 figure been used': the figure stated before
        definite = re.search(r"\b(?:the|this|that)\s+$", fig.view[max(0, fig.mention.start - 6):fig.mention.start], re.I)
        if out[i] is None and definite and not fig.table and fig.mention.amount in stated:
            out[i] = stated[fig.mention.amount]
        elif out[i] is not None and _distinctive(fig.mention.amount):
            stated.setdefault(fig.mention.amount, out[i])
    return [with_unit(expand_acronyms(subject, known), fig.view, fig.mention) for fig, subject in zip(figures, out)]


def _distinctive(amount: float) -> bool:
    """An amount precise enough that 'the £X' later in the same document is the same figure
    (£230,000, £11,700, £5.3 billion), unlike round ones (£1 million, £500)."""
    mantissa = f"{abs(amount):.6e}".split("e")[0].replace(".", "").rstrip("0")
    return len(mantissa) >= 2

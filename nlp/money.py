"""Pure parsing of money, periods and funding kinds in a sentence (no spaCy, no model).

``find_money`` finds every pound amount ('£5.3 billion', '£5.3bn', '£171m', '£171 mil ion' as
PDF converters drop 'll', '£1,234', ranges '£1–2 billion') and pence ('a minimum price of 50p
per unit', '18 pence per litre'); ``find_periods`` finds fiscal
years (2016/17, 2016-17, 2016–17 → '2016/17'), halves and quarters ('H1 2024/25'), months and
calendar years; ``period_for`` and ``kind_for`` attach the nearest one to an amount.
The cue words that decide a kind live in ``nlp/data/funding_patterns.json``.
"""
from __future__ import annotations

import bisect
import json
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from nlp.dates import ANY_MONTH

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"

MULTIPLIERS = {
    "trillion": 1e12, "tn": 1e12,
    "billion": 1e9, "bn": 1e9, "b": 1e9,
    "million": 1e6, "mn": 1e6, "m": 1e6, "mil": 1e6,
    "thousand": 1e3, "k": 1e3,
}
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# 'bil ion' / 'mil ion' / 'tril ion': a PDF conversion that lost the 'll' ligature.
_MULT = r"tril\s?l?ion|tn|bil\s?l?ion|billon|bn|b(?![a-z])|mil\s?l?ion|mn|m(?![a-z])|thousand|k(?![a-z])"
MONEY = re.compile(
    rf"(?P<cur>£|GBP\s?)\s?(?P<num>{_NUM})(?:\s?(?P<mult>{_MULT}))?"
    rf"(?:\s?(?:–|-|—|to)\s?(?P<num2>{_NUM})\s?(?P<mult2>{_MULT}))?",
    re.I,
)
_RANGE_TOP = re.compile(rf"£\s?(?P<num>{_NUM})\s?(?P<mult>{_MULT})", re.I)
_RANGE_JOIN = re.compile(r"\s?(?:–|-|—|to|and)\s?", re.I)
# '5 million pounds', '2.5bn pounds'
POUNDS_WORD = re.compile(rf"(?P<num>{_NUM})\s?(?P<mult>{_MULT})?\s+pounds\b", re.I)
# '21p', '50p and 60p', '18 pence per litre': prices and rates in pence (minimum unit prices,
# duties, wage rises). Glued 'p' only, so '5 p' (a page?) is not money; '2p.m.', '4pm' and a
# number inside another ('£1.50p', '3.5p' after a decimal point, 'A4p') are not either.
PENCE = re.compile(r"(?<![\w£$€.,/\-])(?P<num>\d{1,3}(?:\.\d+)?)(?P<p>p|\s?[Pp]ence)\b(?!\.?m\b)")
# A glued 'p' is a price only among the words of prices: '17p deletion' (a chromosome arm) is not
PRICE_WORDS = re.compile(r"\b(?:prices?|costs?|per|levy|dut(?:y|ies)|charges?|rates?|rises?|fees?|pay|paid|wages?|"
                         r"tax(?:es)?|units?|litres?|spend|spent|worth|minimum|maximum|increase[sd]?|cut|savings?|"
                         r"pence|pounds?|shares?)\b|£|\d(?:\.\d+)?p\b", re.I)

MONTHS = ANY_MONTH
FISCAL = re.compile(
    r"(?P<prefix>\b(?:H[12]|Q[1-4])\s+)?"
    r"\b(?P<y1>(?:19|20)\d{2})\s?[/\-–—]\s?(?P<y2>(?:19|20)?\d{2})\b(?![/\-–]\d)",
    re.I,
)
# 'It ran between 2004 and 2009', 'from 2015 to 2020': a span of calendar years
YEAR_SPAN = re.compile(r"\b(?:between|from)\s+((?:19|20)\d{2})\s+(?:and|to|until)\s+((?:19|20)\d{2})\b(?![/\-–]\d)", re.I)
FISCAL_RANGE = re.compile(
    r"\b((?:19|20)\d{2})\s?[/\-–—]\s?(\d{2})\s+(?:to|until|through|-|–)\s+((?:19|20)\d{2})\s?[/\-–—]\s?(\d{2})\b"
)
MONTH_YEAR = re.compile(
    rf"(?P<prefix>\b(?:year to date|up to|by|until|since|from|before|in)\s+)?"
    rf"\b(?:(?P<day>\d{{1,2}})\s+)?(?P<month>{MONTHS})\.?,?\s+(?P<year>(?:19|20)\d{{2}})\b(?![/\-–]\d)",
    re.I,
)
YEAR = re.compile(
    r"\b(?P<prep>in|during|for|by|from|since|until|over|of|up to|before|after|throughout)\s+"
    r"(?:(?:the\s+)?(?:calendar\s+|financial\s+)?year\s+)?(?P<year>(?:19|20)\d{2})\b(?![/\-–—]\d|\s?%|\s?per)",
    re.I,
)
KEEP_PREP = {"up to": "up to", "by": "by", "until": "until", "since": "since", "before": "before"}
PER_TIME = {"year", "annum", "month", "quarter", "decade", "years", "months", "annually"}
UNIT_NOUNS = (
    "person|people|head|capita|patient|patients|resident|household|user|client|bed|place|pupil|"
    "student|doctor|nurse|gp|practice|hour|day|week|visit|appointment|admission|case|claimant|"
    "recipient|beneficiary|child|adult|unit|item|contact|episode|procedure|dose|test|course"
)
PER_UNIT = re.compile(
    rf"^\s*(?:(?:per|each|every|for each|for every)\s+(?!(?:year|annum|month|quarter|decade)\b)"
    rf"(?:[a-z\-]+\s+){{0,2}}?[a-z\-]+|(?:a|an)\s+(?:{UNIT_NOUNS})\b)",
    re.I,
)


@dataclass
class MoneyMention:
    """One pound amount inside a text: its surface, value in pounds and character span."""

    surface: str
    amount: float
    start: int
    end: int
    per_unit: bool = False
    upper: float | None = None  # the top of a range ('£1–2 billion')


@dataclass
class Period:
    text: str  # normalised: '2016/17', 'H1 2024/25', 'July 2023', '2017/18 to 2019/20', '2015'
    start: int
    end: int


@dataclass
class FundingPatterns:
    """Cue patterns for funding kinds, compiled from a data file."""

    kinds: dict[str, list[re.Pattern]] = field(default_factory=dict)
    default: str = "other"
    window: int = 140

    @classmethod
    def from_dict(cls, data: dict) -> "FundingPatterns":
        kinds = {k: [re.compile(p, re.I) for p in v] for k, v in data.get("kinds", {}).items()}
        return cls(kinds, data.get("default", "other"), int(data.get("window", 140)))


@lru_cache(maxsize=4)
def load_funding_patterns(path: str | None = None) -> FundingPatterns:
    """Patterns from ``path`` (default ``nlp/data/funding_patterns.json``)."""
    p = Path(path) if path else DATA_DIR / "funding_patterns.json"
    return FundingPatterns.from_dict(json.loads(p.read_text(encoding="utf-8")))


def _multiplier(word: str | None) -> float:
    if not word:
        return 1.0
    w = re.sub(r"\s", "", word.lower())
    w = {"bilion": "billion", "billon": "billion", "milion": "million", "trilion": "trillion"}.get(w, w)
    return MULTIPLIERS.get(w, 1.0)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def parse_amount(surface: str) -> float | None:
    """Pounds in a money surface ('£5.3bn' → 5.3e9, '£171 mil ion' → 1.71e8), else None."""
    found = find_money(surface)
    return found[0].amount if found else None


def find_money(text: str) -> list[MoneyMention]:
    """Every pound amount in ``text``, in order. Percentages and bare numbers are not money."""
    out: list[MoneyMention] = []
    for m in MONEY.finditer(text):
        if m.group("cur") == "£" and text[m.end("cur"):m.end("cur") + 1].isspace() \
                and text[max(0, m.start() - 2):m.start()].strip() == "£":
            continue  # a table's header row of pound signs ('£ £ £ £ 1 Outcomes First …'): no amount
        num = m.group("num")
        end = m.end()
        mult = m.group("mult")
        mult2 = m.group("mult2")
        if m.group("num2") and not mult and not mult2:
            end = m.end("num")  # '£5-10' without a unit: too ambiguous for a range
        num_end = m.end("num")
        # A footnote number glued after a grouped amount: '£230,000.17 This...'
        if "," in num and "." in num:
            after = text[num_end:num_end + 3]
            decimals = num.split(".")[1]
            if not mult and (len(decimals) != 2 or re.match(r"^(\s+[A-Z]|\s*$)", after)):
                num = num.split(".")[0]
                end = min(end, m.start("num") + len(num))
                num_end = end
        try:
            value = _number(num)
        except ValueError:
            continue
        upper = None
        if m.group("num2") and (mult or mult2) and end == m.end():
            factor = _multiplier(mult or mult2)
            value *= factor
            upper = _number(m.group("num2")) * _multiplier(mult2 or mult)
        else:
            if m.group("num2"):
                end = m.end("mult") if mult else num_end
            value *= _multiplier(mult)
        if value <= 0:
            continue
        surface = text[m.start():end].rstrip(" –-")
        end = m.start() + len(surface)
        per_unit = bool(PER_UNIT.match(text[end:end + 40]))
        out.append(MoneyMention(surface, value, m.start(), end, per_unit, upper))
    taken = [(mm.start, mm.end) for mm in out]
    for pattern, per_pound in ((POUNDS_WORD, 1), (PENCE, 100)):
        for m in pattern.finditer(text):
            if any(s <= m.start() < e for s, e in taken):
                continue
            if pattern is PENCE and m.group("p") == "p" and not (
                    PRICE_WORDS.search(text, max(0, m.start() - 60), m.start())
                    or PRICE_WORDS.search(text, m.end(), m.end() + 60)):
                continue
            value = _number(m.group("num")) * _multiplier(m.groupdict().get("mult")) / per_pound
            if value > 0:
                out.append(MoneyMention(m.group(0), value, m.start(), m.end(),
                                        bool(PER_UNIT.match(text[m.end():m.end() + 40]))))
    out.sort(key=lambda mm: mm.start)
    for low, high in zip(out, out[1:]):
        # '£1.8 to £3.6 billion', 'between £2 and £3 million': the unit written once, on the top
        unit = _RANGE_TOP.fullmatch(text, high.start, high.end)
        if unit and unit.group("mult") and re.fullmatch(r"£\s?\d{1,3}(?:\.\d+)?", low.surface) \
                and _RANGE_JOIN.fullmatch(text, low.end, high.start):
            factor = _multiplier(unit.group("mult"))
            if low.amount < _number(unit.group("num")) and factor > 1:
                low.amount *= factor
    return out


def normalise_period(text: str) -> str:
    """'2016-17', '2016–17', '2016/2017' → '2016/17'; other text is returned tidied."""
    text = " ".join(text.split())

    def fy(m: re.Match) -> str:
        y1, y2 = m.group(1), m.group(2)
        if len(y2) == 4:
            if int(y2) - int(y1) != 1:
                return f"{y1}-{y2}"
            y2 = y2[2:]
        return f"{y1}/{y2}"

    return re.sub(r"\b((?:19|20)\d{2})\s?[/\-–—]\s?((?:19|20)?\d{2})\b", fy, text)


def find_periods(text: str) -> list[Period]:
    """Periods stated in ``text``: fiscal years and ranges, halves, months, calendar years."""
    found: list[Period] = []

    def free(s: int, e: int) -> bool:
        return all(e <= p.start or s >= p.end for p in found)

    for m in FISCAL_RANGE.finditer(text):
        first = normalise_period(f"{m.group(1)}/{m.group(2)}")
        last = normalise_period(f"{m.group(3)}/{m.group(4)}")
        found.append(Period(f"{first} to {last}", m.start(), m.end()))
    for m in YEAR_SPAN.finditer(text):
        if 0 < int(m.group(2)) - int(m.group(1)) <= 20 and free(m.start(), m.end()):
            found.append(Period(f"{m.group(1)}-{m.group(2)}", m.start(), m.end()))
    for m in FISCAL.finditer(text):
        y1, y2 = m.group("y1"), m.group("y2")
        if len(y2) == 2 and (int(y2) - int(y1[2:])) % 100 != 1:
            continue  # '2016-18' is not a fiscal year; neither is a page range
        if len(y2) == 4 and not 0 < int(y2) - int(y1) <= 10:
            continue
        if not free(m.start(), m.end()):
            continue
        prefix = m.group("prefix") or ""
        norm = normalise_period(f"{y1}/{y2}")
        if prefix:
            prefix = " ".join(prefix.split())
            norm = f"{prefix} {norm}"
        found.append(Period(norm, m.start(), m.end()))
    for m in MONTH_YEAR.finditer(text):
        if not free(m.start("month"), m.end()):
            continue
        month = m.group("month")
        full = {
            "jan": "January", "feb": "February", "mar": "March", "apr": "April", "jun": "June",
            "jul": "July", "aug": "August", "sep": "September", "sept": "September", "oct": "October",
            "nov": "November", "dec": "December",
        }.get(month.lower(), month.title())
        label = f"{full} {m.group('year')}"
        prefix = " ".join((m.group("prefix") or "").lower().split())
        if prefix in ("year to date", "up to", "by", "until", "since", "before"):
            label = f"{prefix} {label}"
        found.append(Period(label, m.start(), m.end()))
    for m in YEAR.finditer(text):
        if not free(m.start("year"), m.end()):
            continue
        prep = " ".join(m.group("prep").lower().split())
        label = m.group("year")
        if prep in KEEP_PREP:
            label = f"{KEEP_PREP[prep]} {label}"
        found.append(Period(label, m.start("prep"), m.end()))
    found.sort(key=lambda p: p.start)
    return found


CLAUSE_BREAK = re.compile(r",\s+(?:and|but|while|whereas|with|compared)\b|;|\.\s")


RATE_UNIT = re.compile(
    r"^\s*(?P<per>per|a|an|each)\s+(?P<unit>head|person|capita|resident|patient|pupil|QALY|unit|user|household|"
    r"litre|share|prescription|item)(?:\d{1,3}(?![\d,.]*\w))?"  # 'per QALY250 gained': a footnote number glued on
    r"(?:\s+(?:of\s+(?:the\s+)?population|gained))?(?:\s+(?P<per2>per|a|each)\s+(?P<time>year|annum|month|week))?\b",
    re.I,
)
PER_TIME_AFTER = re.compile(r"^\s*(?P<per>per|a)\s+(?P<time>year|annum|month|week)\b", re.I)
OVER_YEARS = re.compile(r"\b(?:over|across|during)\s+(?:the\s+)?(?:next\s+|first\s+|last\s+)?"
                        r"(?:two|three|four|five|six|seven|eight|nine|ten|\d{1,2})\s+years\b", re.I)


def _parens(text: str) -> list[tuple[int, int]]:
    """(open, close) of each bracketed stretch, innermost last among those that nest."""
    out, stack = [], []
    for i, c in enumerate(text):
        if c in "([":
            stack.append(i)
        elif c in ")]" and stack:
            out.append((stack.pop(), i))
    return out


def _enclosing(pairs: list[tuple[int, int]], pos: int) -> tuple[int, int] | None:
    inside = [p for p in pairs if p[0] < pos < p[1]]
    return max(inside) if inside else None


def period_for(text: str, mention: MoneyMention, mentions: list[MoneyMention] | None = None,
               periods: list[Period] | None = None) -> str | None:
    """The period stated nearest to ``mention``: just after it, else just before it.

    A period never jumps over another amount: in 'from £3.5bn in 2022/23 to £3.0bn in
    2023/24' each amount keeps its own year, except where 'respectively' shares one period
    out ('£778m and £1,021m respectively in 2018-19'). A bracketed aside keeps its own
    periods and amounts ('£1.5bn on schemes (those costing over £5m) in 2011/12 to 2014/15').
    A rate keeps its unit ('£10 per person per year', '£1,671 per QALY') and a sum spread
    over years says so ('£560 million over four years').
    """
    mentions = mentions if mentions is not None else find_money(text)
    periods = periods if periods is not None else find_periods(text)
    rate = RATE_UNIT.match(text[mention.end:mention.end + 60])
    if rate:
        unit = "QALY" if rate.group("unit").lower() == "qaly" else rate.group("unit").lower()
        label = f"per {unit}" + (f" per {rate.group('time').lower()}" if rate.group("time") else "")
        found = _stated_period(text, mention, mentions, periods)
        return f"{label} {found}" if found else label
    found = _stated_period(text, mention, mentions, periods)
    if found is None:
        shared = _shared_unit(text, mention, mentions)
        if shared:
            return shared
    per = PER_TIME_AFTER.match(text[mention.end:mention.end + 20])
    if per and found and found.startswith("by "):
        return f"{per.group('per').lower()} {per.group('time').lower()} {found}"  # '£49.9bn a year by 2050'
    if found is None:
        over = OVER_YEARS.search(text, mention.end, min(len(text), mention.end + 60))
        if over and not any(mention.end <= o.start < over.start() for o in mentions):
            return " ".join(over.group(0).lower().split())
    return found


# 'the minimum price for a unit of beer would be around 21p': the unit named before a price
UNIT_BEFORE = re.compile(r"\b(?:for|per)\s+(?:a|an|one|each|every)?\s*(?P<unit>unit|litre|share|item)\s+of\b", re.I)


def _plain(m: MoneyMention) -> str | None:
    """'pence' or 'pounds' for a price without a multiplier ('21p', '£7.20'), else None."""
    if re.fullmatch(r"[\d.]+\s?(?:p|[Pp]ence)", m.surface):
        return "pence"
    return "pounds" if re.fullmatch(r"£\s?[\d,.]+", m.surface) else None


def _shared_unit(text: str, mention: MoneyMention, mentions: list[MoneyMention]) -> str | None:
    """The unit a price shares with the prices compared beside it in one sentence: 'a minimum
    price of 40p per unit would …, while minimum prices of 50p and 60p would …' (all per unit);
    'the price for a unit of beer would be around 21p and for spirits around 28p'. Only plain
    prices of one currency unit and within a factor of ten of each other: a '£5 million' total
    beside '£10 per head' is not per head."""
    plain = _plain(mention)
    if plain is None:
        return None
    unit = UNIT_BEFORE.search(text, 0, mention.start)
    if unit and not re.search(r"[;.]\s", text[unit.end():mention.start]):
        return f"per {unit.group('unit').lower()}"
    for other in mentions:
        if other.start == mention.start or _plain(other) != plain:
            continue
        if not 0.1 <= other.amount / mention.amount <= 10:
            continue
        rate = RATE_UNIT.match(text[other.end:other.end + 60])
        if rate and rate.group("unit").lower() != "qaly" and not rate.group("time"):
            return f"per {rate.group('unit').lower()}"
    return None


# what joins two amounts of one clause: '£10m of DfT funding together with £5m', '£5m on roads and £3m'
COORDINATED = re.compile(r"(?:\s+(?:of|on|for|in)\s+[\w’'\- ]{1,40}?)?,?\s+(?:and|together\s+with|plus|as\s+well\s+as)\s+",
                         re.I)
AFTER_NEAR = 70  # characters from an amount to the period stated after it (an aside's amount not counted)
AFTER_FAR = 90  # ... and how far, when no period is stated just before the amount


def _gap(text: str, start: int, end: int) -> int:
    """Characters between an amount and a period, not counting a bracketed aside with an
    amount of its own: in 'over £1.5 billion on major local authority transport schemes (those
    costing over £5 million) in the period from 2011/12 to 2014/15' the aside is its own."""
    between = text[start:end]
    return len(re.sub(r"\([^()]*£[^()]*\)", "", between)) if "(" in between else len(between)


def _stated_period(text: str, mention: MoneyMention, mentions: list[MoneyMention],
                   periods: list[Period]) -> str | None:
    pairs = _parens(text) if "(" in text or "[" in text else []
    home = _enclosing(pairs, mention.start)
    if pairs:
        mentions = [m for m in mentions if _enclosing(pairs, m.start) == home]
        periods = [p for p in periods if _enclosing(pairs, p.start) == home]
    others = [m for m in mentions if m.start != mention.start]
    shared = re.search(r"respectively", text[mention.end:mention.end + 120], re.I)

    def blocked(a: int, b: int) -> bool:
        if shared and a == mention.end and mention.end + shared.start() < b:
            return False
        between = [o for o in others if a <= o.start < b]
        if b == mention.start and between:
            # 'It ran between 2004 and 2009 and was funded by £10m of DfT funding together with
            # £5m of local funding': amounts joined after the period share it
            chain = between + [mention]
            return not all(COORDINATED.fullmatch(text[o.end:n.start]) for o, n in zip(chain, chain[1:]))
        return bool(between)

    after = [p for p in periods if p.start >= mention.end and _gap(text, mention.end, p.start) <= (
             130 if shared else AFTER_FAR)
             and not blocked(mention.end, p.start) and ";" not in text[mention.end:p.start]]
    before = [p for p in periods if p.end <= mention.start and mention.start - p.end <= 70
              and not blocked(p.end, mention.start)
              and not re.search(r";|\)|\bbut\b|\bwhereas\b|\bwhile\b", text[p.end:mention.start])]
    if before and not shared:
        # 'exceed its previous 2016-17 projection by £1.0 billion and remain on track … by the end
        # of 2017-18': a period stated close before wins over one stated far after
        after = [p for p in after if _gap(text, mention.end, p.start) <= AFTER_NEAR]
    # 'The budget for 2024/25 was £177bn, and for 2025/26 it is £183bn': a period after a
    # clause break belongs to the next clause when this one has its own
    if after and before and CLAUSE_BREAK.search(text[mention.end:after[0].start]):
        return before[-1].text
    if after:
        return after[0].text
    if before:
        return before[-1].text
    return None


Cue = tuple[int, int, str]  # (start, end, kind) of one cue match in a text
OF_KIND = re.compile(r"\s+(?:of|in)\s+(?:[\w\-]+\s+){0,1}$", re.I)


def cue_matches(text: str, patterns: FundingPatterns) -> list[Cue]:
    """Every cue of every kind in ``text``, sorted by start: one scan per regex per text, so a
    sentence with thousands of amounts is scanned once, not once per amount (issue 17)."""
    found = [(m.start(), m.end(), kind) for kind, regexes in patterns.kinds.items()
             for rx in regexes for m in rx.finditer(text)]
    found.sort()
    return found


def kind_for(text: str, mention: MoneyMention, patterns: FundingPatterns | None = None,
             context: str = "", cues: list[Cue] | None = None, context_cues: list[Cue] | None = None) -> str:
    """The funding kind whose cue is nearest to the amount (see funding_patterns.json).

    When the sentence itself has no cue, the end of ``context`` (the previous sentence)
    is searched: 'Spend has reduced ... This has fallen from £7m a month ...'. ``cues`` and
    ``context_cues`` are ``cue_matches`` of the two texts when the caller already has them.
    """
    patterns = patterns or load_funding_patterns()
    found = nearest_cue(text, mention, patterns, cues)
    if found is None and context:
        context_cues = context_cues if context_cues is not None else cue_matches(context, patterns)
        if context_cues:
            return max(context_cues, key=lambda c: (c[1], c[1] - c[0], c[2]))[2]
    return found[1] if found else patterns.default


def nearest_cue(text: str, mention: MoneyMention, patterns: FundingPatterns,
                cues: list[Cue] | None = None) -> tuple[float, str] | None:
    """(distance, kind) of the cue nearest to ``mention``, or None (cues within the window)."""
    lo = max(0, mention.start - patterns.window)
    hi = min(len(text), mention.end + patterns.window)
    if cues is None:
        cues = cue_matches(text[:hi], patterns)
    best: tuple[float, int, str] | None = None
    # cues are sorted by start; none longer than the window matters, so start the look a
    # window before ``lo``
    first = bisect.bisect_left(cues, (lo - patterns.window, -1, ""))
    for start, end, kind in cues[first:]:
        if start >= hi:
            break
        if start < lo or end > hi:
            continue
        if end <= mention.start:
            dist = mention.start - end
        elif start >= mention.end:
            dist = (start - mention.end) * 1.3  # cues before an amount bind tighter
            if OF_KIND.match(text, mention.end, start):
                dist = 0.5  # '£4bn of deficit reduction measures', '£2m in savings': the noun says
        else:
            dist = 0
        key = (dist, -(end - start), kind)
        if best is None or key < best:
            best = key
    return (best[0], best[2]) if best else None


GENERIC_SUBJECTS = {
    "some", "others", "other", "year", "years", "policy", "figure", "savings", "saving", "spend",
    "spending", "cost", "costs", "funding", "total", "amount", "it", "this", "that", "these", "they",
    "which", "source", "further", "total cost", "maximum", "minimum", "average", "sum", "money",
}


AMOUNT_IN_SUBJECT = re.compile(r"£\s?\d|(?<![\w.])\d{1,3}(?:\.\d+)?(?:p|\s?pence)\b")


def clean_subject(subject: str | None) -> str | None:
    """Drop subjects that are periods, numbers, captions or generic words."""
    if not subject:
        return None
    subject = re.split(r"\s*[()]|\.\d|\s+Source\b|\s+X\s", subject)[0]
    other = AMOUNT_IN_SUBJECT.search(subject)
    if other and re.search(r"[A-Za-z]{2}", subject[:other.start()]):
        # 'minimum prices of 50p' read for the 60p beside it: the phrase before the amount
        subject = re.sub(r"\s+(?:of|at|around|about|to|and|or)$", "", subject[:other.start()].rstrip())
    subject = re.sub(r"[\d.,;:]+$", "", subject).strip(" ,;:-–")
    # 'students from low and middle income backgrounds up to': the words that bound the amount
    subject = re.sub(r"\s+(?:of\s+|by\s+)?(?:up\s+to|at\s+least|at\s+most|more\s+than|less\s+than|over|under|"
                     r"around|about|nearly|almost|approximately|some)$", "", subject, flags=re.I)
    if not subject or not re.search(r"[A-Za-z]{2}", subject):
        return None
    if subject.lower() in GENERIC_SUBJECTS or MONTH_YEAR.fullmatch(subject) or FISCAL.search(subject) \
            or re.fullmatch(MONTHS, subject, re.I):
        return None
    if re.match(r"^(?:(?:H[12]|Q[1-4]|X|per|each|in|by|of)\b|\d)", subject) or len(subject) < 3:
        return None
    if re.search(r"\b(?:it|they|this|that|these|those|which|who)$", subject, re.I):
        return None
    subject = re.sub(r"^(?:an?|the)\s+(?=\w)", "", subject, flags=re.I)  # 'an investment' → 'investment'
    if len(subject.split()) > 12:  # a phrase, not a sentence (parse.MAX_WORDS)
        return None
    return subject


SUBJECT_STOP = re.compile(
    r"\s(?:in|by|over|during|from|to|per|a|an|each|which|that|who|and|but|compared|than|since|"
    r"until|at|with|while|whereas|as|between|this|of)\b|[,;:.()\[\]\d%£]",
    re.I,
)
NAME = re.compile(r"^\s+((?:[A-Z][\w’'&\-]*|of|and|for|the)(?:\s+(?:[A-Z][\w’'&\-]*|of|and|for|the)){0,6})")
FUND_WORDS = re.compile(
    r"\b(fund|funds|programme|program|grant|budget|scheme|settlement|package|allocation|initiative|"
    r"pot|plan|plans|investment|deal|contract|tariff|support)\b",
    re.I,
)
DETERMINERS = re.compile(r"^(?:the|a|an|its|their|our|this|these|those|some|total|around|about|over|"
                         r"nearly|almost|approximately|additional|extra|further|another|new)\s+", re.I)


def _trim_np(words: str) -> str | None:
    text = words.strip(" ,;:-–")
    while True:
        new = DETERMINERS.sub("", text)
        if new == text:
            break
        text = new
    text = text.strip()
    return text or None


def subject_for(text: str, mention: MoneyMention) -> str | None:
    """See ``_subject_for``; the result is cleaned of periods and generic words."""
    return clean_subject(_subject_for(text, mention))


POSSESSOR = re.compile(r"((?:[A-Z][\w&\-]*\s+){0,5}[A-Z][\w&\-]*)[’']s\s+((?:[\w\-]+\s+){0,2})$")


def adjacent_name(text: str, mention: MoneyMention) -> str | None:
    """A capitalised name right after the amount ('£5.3 billion Better Care Fund') or owning
    it ('the Better Care Fund’s £5.3bn', 'Buckingham’s £162,000')."""
    m = NAME.match(text[mention.end:])
    if m and m.group(1)[0].isupper():
        name = re.sub(r"\s+(?:of|and|for|the)$", "", m.group(1).strip())
        if len(name) > 2 and not re.fullmatch(r"(?:In|By|For|The|This|It|A|An|Of|And)", name) \
                and not MONTH_YEAR.match(name) and not re.match(MONTHS + r"\b", name):
            return name
    m = POSSESSOR.search(text[max(0, mention.start - 80):mention.start])
    if m:
        name = re.sub(r"^(?:(?:The|This|That|Its|A|An|In|By|Using|With|For|From|Of|And)\s+|[A-Z][a-z]+ing\s+)+", "", m.group(1))
        if name and not re.fullmatch(r"(?:The|This|It|Its|A|An)", name):
            owned = m.group(2).split()
            if len(owned) == 2 and owned[1] == "of" and owned[0].isalpha() and owned[0].islower():
                return f"{name}’s {owned[0]}"  # 'the Department’s estimation of £230,000'
            return name
    return None


def _subject_for(text: str, mention: MoneyMention) -> str | None:
    """What the money is for or of, by surface patterns (the parser refines this later).

    '£5.3 billion Better Care Fund' → 'Better Care Fund'; 'spent £1.3 billion on agency
    doctors' → 'agency doctors'; 'a training budget of £4.8 billion' → 'training budget'.
    """
    after = text[mention.end:]
    name = adjacent_name(text, mention)
    if name:
        return name
    m = re.match(r"^\s+(?:(?:a|per|each)\s+\w+\s+)?(?:of\s+)?((?:[\w\-’']+\s+){0,2}"
                 r"(?:funding|savings?|spend(?:ing)?|investment|budget|fund|grant|deficit|costs?))\b",
                 after, re.I)
    if m and not re.match(r"(?:in|by|per|a|of|for|to|on|at|from|with)\b", m.group(1), re.I):
        word = m.group(1)
        rest = after[m.end():]
        m2 = re.match(r"^\s+(?:(?:set aside|earmarked|allocated|provided|available)\s+)?(?:for|on|to)\s+(.{3,80})", rest, re.I)
        if m2:
            cut = SUBJECT_STOP.search(" " + m2.group(1))
            phrase = m2.group(1)[: max(0, cut.start() - 1)] if cut else m2.group(1)
            np = _trim_np(phrase)
            if np:
                return np
        np = _trim_np(word)
        if np and np.lower() not in ("savings", "saving", "funding", "spending", "spend", "costs", "cost"):
            return np
    m = re.match(r"^\s+(?:(?:a|per)\s+(?:year|month|week|day|annum)\s+)?(?:on|for|towards|to fund|to)\s+(.{3,90})",
                 after, re.I)
    if m:
        cut = SUBJECT_STOP.search(" " + m.group(1))
        phrase = m.group(1)[: max(0, cut.start() - 1)] if cut else m.group(1)
        np = _trim_np(phrase)
        if np and len(np.split()) <= 8:
            return np
    before = text[:mention.start]
    m = re.search(r"((?:[\w\-’']+\s+){1,5}?)(?:of|totalling|totaling|worth|at|was|is|were)\s+"
                  r"(?:around|about|over|nearly|almost|approximately|up to|more than|less than|at least)?\s*$",
                  before, re.I)
    if m:
        words = m.group(1).split()
        # keep the noun phrase tail: stop at a verb-like or function word from the right
        kept: list[str] = []
        for w in reversed(words):
            if w.lower() in ("the", "a", "an", "of", "and", "in", "has", "have", "had", "is", "was",
                             "were", "are", "be", "been", "to", "for", "with", "by", "on", "at", "that",
                             "which", "cost", "total", "its", "their"):
                if w.lower() in ("cost",) and not kept:
                    kept.append(w)
                    continue
                break
            kept.append(w)
        np = _trim_np(" ".join(reversed(kept)))
        if np and FUND_WORDS.search(np) or (np and len(np.split()) >= 2):
            return np
    return None


NAMED_FUND = re.compile(
    r"\b((?:[A-Z][\w’'&\-]*\s+(?:(?:and|for|of|the)\s+)?){0,5}"
    r"(?:Fund|Programme|Program|Grant|Scheme|Budget|Initiative|Deal|Settlement|Pot|Plans?|Partnerships?))\b"
)


# 'the Sustainable Travel Towns programme': a name in capitals with a lower-case head
NAMED_FUND_LOWER = re.compile(
    r"\b((?:[A-Z][\w’'&\-]*\s+(?:(?:and|for|of|the)\s+)?){1,5}(?:fund|programme|program|scheme|initiative|grant))\b"
)


@lru_cache(maxsize=4096)
def fund_names(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, name) of every named fund or programme in ``text``; cached, since the
    windows of a long run of amounts repeat the same text."""
    out = []
    for m in [*NAMED_FUND.finditer(text), *NAMED_FUND_LOWER.finditer(text)]:
        name = re.sub(r"^(?:The|This|Its|A|An)\s+", "", m.group(1).strip())
        if len(name.split()) >= 2:
            out.append((m.start(), m.end(), name))
    return tuple(out)


def named_fund(text: str, mention: MoneyMention | None = None) -> str | None:
    """The named fund or programme in ``text`` nearest to ``mention`` ('the Better Care Fund',
    'the Sustainable Travel Towns programme')."""
    best: tuple[int, str] | None = None
    for start, end, name in fund_names(text):
        dist = 0 if mention is None else min(abs(start - mention.end), abs(mention.start - end))
        if best is None or dist < best[0]:
            best = (dist, name)
    return best[1] if best else None

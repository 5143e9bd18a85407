"""Property tests: money and period parsing, and extraction, never fail on odd text."""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp.extract import extract, sentences
from nlp.meta import recover_metadata
from nlp.models import SourceDocument
from nlp.money import find_money, find_periods, kind_for, normalise_period, parse_amount, period_for, subject_for
from nlp.pipeline import build_pipeline

# Text that looks a little like a report: money, years, list markers, odd unicode and blanks.
PIECES = st.sampled_from([
    "£", "£5.3", "£5.3bn", "£171 mil ion", "£1,234", "£1–2 billion", "£1bn–£2bn", " per person", " a year",
    "2016/17", "2016-17", "2016–17", "2017–18 to 2019–20", "H1 2024/25", "July 2023", " in 2019", "%", "per cent",
    "Recommendation 1: ", "Recommendation: ", "1. ", "(a) ", "a ", "• ", "The Department should ", "We recommend that ",
    "This recommendation is accepted in full.", "Target implementation date: April 2018", "barrier", "lack of",
    "Better Care Fund", " ", "\n", "\n\n", ".", ",", ";", ":", "\u00a0", "\u200b", "\ufeff", "\x00", "🙂", "é", "–",
])
REPORTISH = st.lists(st.one_of(PIECES, st.text(max_size=30)), max_size=60).map("".join)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(REPORTISH)
def test_money_mentions_are_well_formed(text: str) -> None:
    for m in find_money(text):
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start:m.end] == m.surface
        assert m.amount > 0 and math.isfinite(m.amount)
        assert m.upper is None or (math.isfinite(m.upper) and m.upper > 0)
        period_for(text, m)
        kind_for(text, m)
        subject_for(text, m)


@FAST
@given(REPORTISH)
def test_periods_are_well_formed(text: str) -> None:
    for p in find_periods(text):
        assert 0 <= p.start < p.end <= len(text)
        assert p.text and p.text == " ".join(p.text.split())


@FAST
@given(st.integers(min_value=1900, max_value=2098), st.sampled_from(["/", "-", "–", "—"]))
def test_fiscal_years_normalise_to_one_form(year: int, dash: str) -> None:
    short = f"{year}{dash}{(year + 1) % 100:02d}"
    assert normalise_period(short) == f"{year}/{(year + 1) % 100:02d}"
    assert normalise_period(normalise_period(short)) == normalise_period(short)


@FAST
@given(st.decimals(min_value="0.01", max_value="999.99", places=2),
       st.sampled_from([("billion", 1e9), ("bn", 1e9), ("million", 1e6), ("m", 1e6), ("mil ion", 1e6), ("", 1.0)]))
def test_written_amounts_parse_to_pounds(number, unit) -> None:
    word, factor = unit
    surface = f"£{number}{' ' if word and len(word) > 2 else ''}{word}"
    assert parse_amount(surface) == pytest.approx(float(number) * factor)


@FAST
@given(st.text(alphabet="0123456789.,%", max_size=20))
def test_numbers_without_a_pound_sign_are_not_money(text: str) -> None:
    assert find_money(text) == []


_RULES = build_pipeline(use_parser=False, barriers=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(REPORTISH, min_size=1, max_size=4), st.booleans())
def test_rules_never_fail_on_arbitrary_pages(pages: list[str], paged: bool) -> None:
    doc = SourceDocument("x.pdf" if paged else "x.md", "pdf" if paged else "markdown", pages, paged)
    result = extract(doc, nlp=_RULES)
    n = len(pages)
    for item in [*result.funding, *result.recommendations, *result.responses]:
        assert item.page is None if not paged else 1 <= item.page <= n
    for s in sentences(doc):
        assert 0 <= s.start <= s.end <= len(doc.text)
    recover_metadata(doc)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(REPORTISH, min_size=1, max_size=3))
def test_full_pipeline_never_fails_on_arbitrary_text(pages: list[str]) -> None:
    result = extract(SourceDocument("x.pdf", "pdf", pages, True))
    assert all(0.0 <= b.score <= 1.0 for b in result.barriers)
    assert result.to_json()["document"]["pages"] == len(pages)


@pytest.mark.parametrize("pages", [[""], ["", "", ""], ["£" * 5000], ["a" * 100_000], ["• " * 5000],
                                   ["(" * 2000 + "£5m" + ")" * 2000], ["1. " + "word " * 20_000]])
def test_degenerate_pages(pages: list[str]) -> None:
    result = extract(SourceDocument("x.pdf", "pdf", pages, True))
    assert result.pages == len(pages)

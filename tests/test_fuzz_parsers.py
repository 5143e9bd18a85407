"""The small parsers every document and every visitor's query pass through hold their promises
on arbitrary text (hypothesis): money, fiscal years, dates, the search query language, passage
cutting by page, and GOV.UK JSON of any shape.

``tests/test_nlp_properties.py`` already covers money mentions being well formed, written
amounts, fiscal-year spellings and whole extraction; this file adds round trips and invariants
those do not state.
"""
from __future__ import annotations

import json
import re
import sqlite3
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kb.index.passages import MAX_WORDS, split_passages
from kb.search.query import MAX_QUERY_CHARS, WORD, parse_query
from nlp.meta import recover_published
from nlp.models import SourceDocument
from nlp.money import find_money, find_periods, normalise_period, parse_amount
from nlp.dates import normalise_date
from nlp.text import DocumentError, load_govuk_json

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
# Text with the characters parsers trip on: quotes, dashes, pound signs, digits, odd unicode.
NASTY = st.lists(st.one_of(st.sampled_from(list('"-–—£$%.,/:()*^~\'’ \n\t\x00\u200b') + ["NOT", "AND", "NEAR"]),
                           st.characters()), max_size=60).map("".join)


# --- money ------------------------------------------------------------------------------------

@FAST
@given(st.integers(min_value=1, max_value=10**12))
def test_grouped_pounds_round_trip(n: int) -> None:
    text = f"The board spent £{n:,} on care."
    (mention,) = find_money(text)
    assert mention.amount == n
    assert parse_amount(mention.surface) == n


@FAST
@given(st.integers(min_value=1, max_value=999), st.integers(min_value=1, max_value=999),
       st.sampled_from([("billion", 1e9), ("million", 1e6)]))
def test_ranges_keep_both_ends_in_order(a: int, b: int, unit) -> None:
    low, high = sorted((a, b))
    assume(low < high)
    word, factor = unit
    (mention,) = find_money(f"It will cost £{low}–{high} {word} a year.")
    assert mention.amount == pytest.approx(low * factor)
    assert mention.upper == pytest.approx(high * factor)


@FAST
@given(NASTY, NASTY)
def test_money_found_in_a_sentence_is_found_again_in_its_own_surface(before: str, after: str) -> None:
    text = f"{before} £42 million {after}"
    for m in find_money(text):
        again = find_money(m.surface)
        assert again and again[0].amount == pytest.approx(m.amount)


# --- periods ----------------------------------------------------------------------------------

@FAST
@given(NASTY)
def test_normalising_a_period_is_idempotent(text: str) -> None:
    once = normalise_period(text)
    assert normalise_period(once) == once
    assert once == " ".join(once.split())


@FAST
@given(st.integers(min_value=1900, max_value=2098), NASTY, NASTY)
def test_a_fiscal_year_in_any_sentence_is_found(year: int, before: str, after: str) -> None:
    assume(not re.search(r"\d$", before) and not re.match(r"^[\d/\-–—]", after))
    fy = f"{year}-{(year + 1) % 100:02d}"
    text = f"{before} in {fy}, {after}"
    periods = find_periods(text)
    assert any(f"{year}/{(year + 1) % 100:02d}" in p.text for p in periods), periods


# --- dates ------------------------------------------------------------------------------------

@FAST
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)), st.booleans(), NASTY)
def test_dates_round_trip_through_iso_and_english(d: date, short: bool, tail: str) -> None:
    assert normalise_date(d.isoformat() + "T10:00:00Z") == d.isoformat()
    month = MONTHS[d.month - 1][:3] if short else MONTHS[d.month - 1]
    assert normalise_date(f"Published {d.day} {month} {d.year}") == d.isoformat()


@FAST
@given(NASTY)
def test_normalise_date_returns_a_real_date_or_nothing(text: str) -> None:
    out = normalise_date(text)
    assert out is None or date.fromisoformat(out).isoformat() == out


@FAST
@given(st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99))
def test_impossible_iso_dates_are_refused(y: int, m: int, d: int) -> None:
    text = f"{y:04d}-{m:02d}-{d:02d}"
    try:
        real = date(y, m, d).isoformat()
    except ValueError:
        real = None
    assert normalise_date(text) == real


@FAST
@given(st.lists(NASTY, min_size=1, max_size=4), st.booleans())
def test_recovered_publication_dates_are_real_dates(pages: list[str], paged: bool) -> None:
    doc = SourceDocument("x.pdf" if paged else "x.md", "pdf" if paged else "markdown", pages, paged)
    out = recover_published(doc)
    assert out is None or re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", out)
    if out and len(out) == 10:
        date.fromisoformat(out)


@FAST
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31)), NASTY)
def test_a_labelled_publication_date_is_recovered(d: date, body: str) -> None:
    text = f"Published: {d.day} {MONTHS[d.month - 1]} {d.year}\n\n{body}"
    assert recover_published(SourceDocument("x.md", "markdown", [text], False)) == d.isoformat()


# --- the search query language ----------------------------------------------------------------

FTS = sqlite3.connect(":memory:")
FTS.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='porter unicode61')")
FTS.execute("INSERT INTO t(text) VALUES ('information governance blocks sharing of records')")


@FAST
@given(NASTY)
def test_any_query_becomes_a_valid_fts5_expression(text: str) -> None:
    query = parse_query(text)
    expr = query.fts()
    assert (expr is None) == query.empty
    if expr is not None:
        FTS.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,)).fetchall()  # never a syntax error


@FAST
@given(NASTY)
def test_parsed_words_are_words_of_the_query(text: str) -> None:
    query = parse_query(text)
    for word in query.terms:
        assert WORD.fullmatch(word) and word in text
    for excluded in query.excluded:  # -word, or -"a phrase" kept whole
        assert all(WORD.fullmatch(w) and w in text for w in excluded.split())
    for phrase in query.phrases:
        assert all(WORD.fullmatch(w) for w in phrase.split())
    assert len(query.semantic_text()) <= MAX_QUERY_CHARS


WORDS = st.lists(st.from_regex(r"[a-z][a-z0-9]{0,9}", fullmatch=True), min_size=1, max_size=8)


@FAST
@given(WORDS, WORDS, WORDS)
def test_words_phrases_and_exclusions_round_trip(terms, phrase, excluded) -> None:
    text = " ".join(terms) + ' "' + " ".join(phrase) + '" ' + " ".join("-" + w for w in excluded)
    query = parse_query(text)
    assert query.terms == terms
    assert query.phrases == [" ".join(phrase)]
    assert query.excluded == excluded
    assert parse_query(query.semantic_text()).terms == phrase + terms


# --- passages and pages -----------------------------------------------------------------------

PAGE = st.lists(st.one_of(st.from_regex(r"[A-Za-z]{1,12}[.!?]?", fullmatch=True),
                          st.sampled_from(["\n", "\n\n", " ", "\n \n"])), max_size=500).map(" ".join)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PAGE, min_size=0, max_size=5), st.booleans())
def test_passages_keep_every_word_on_its_own_page(pages: list[str], paged: bool) -> None:
    passages = split_passages("f" * 64, pages, paged)
    assert [p.seq for p in passages] == list(range(len(passages)))
    assert len({p.id for p in passages}) == len(passages)
    for p in passages:
        assert p.text.strip() and len(p.text.split()) <= MAX_WORDS
        assert (p.page is None) == (not paged)
    if paged:
        for number, page in enumerate(pages, 1):
            words = [w for p in passages if p.page == number for w in p.text.split()]
            assert words == page.split(), "a page's words, all of them, in order, and no other page's"
        assert [p.page for p in passages] == sorted(p.page for p in passages)
    else:
        assert [w for p in passages for w in p.text.split()] == [w for page in pages for w in page.split()]
    assert [(p.id, p.text) for p in split_passages("f" * 64, pages, paged)] == [(p.id, p.text) for p in passages]


# --- GOV.UK JSON of any shape -----------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["base_path", "details", "body", "title", "description", "links", "organisations",
                         "documents", "summary", "first_published_at", "content", "content_type"]),
        children, max_size=4),
    max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES)
def test_govuk_json_of_any_shape_loads_or_says_why(tmp_path_factory, item) -> None:
    path = tmp_path_factory.mktemp("json") / "item.json"
    path.write_text(json.dumps(item))
    try:
        doc = load_govuk_json(path)
    except DocumentError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert doc.title is None or isinstance(doc.title, str)
    assert doc.published is None or date.fromisoformat(doc.published)
    assert len(doc.pages) == 1 and isinstance(doc.pages[0], str)

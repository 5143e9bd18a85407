"""A researcher types words, "exact phrases" and -exclusions into the search box."""
import pytest

from kb.search.query import MAX_QUERY_CHARS, parse_query


@pytest.mark.parametrize("text, terms, phrases, excluded", [
    ("information governance", ["information", "governance"], [], []),
    ('"information governance" workforce', ["workforce"], ["information governance"], []),
    ("better care fund -pooled", ["better", "care", "fund"], [], ["pooled"]),
    ('-"payment by results" incentives', ["incentives"], [], ["payment by results"]),
    ('"unclosed quote words', ["unclosed", "quote", "words"], [], []),
    ("", [], [], []),
    ("---", [], [], []),
])
def test_query_syntax(text, terms, phrases, excluded):
    q = parse_query(text)
    assert (q.terms, q.phrases, q.excluded) == (terms, phrases, excluded)


def test_fts_expression_requires_phrases_and_ranks_words():
    q = parse_query('"information sharing" barriers -digital')
    assert q.fts() == '"information sharing" AND ("barriers") NOT "digital"'


def test_stopwords_alone_still_search():
    assert parse_query("the of").fts() == '("the" OR "of")'


def test_overlong_query_is_cut_not_rejected():
    q = parse_query("word " * 1000)
    assert len(" ".join(q.terms)) <= MAX_QUERY_CHARS


def test_quotes_inside_terms_cannot_break_fts():
    q = parse_query('a"b OR c) NEAR(')
    assert '""' not in (q.fts() or "")

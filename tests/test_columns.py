"""A journal article whose two columns a converter read across the page, line by line.

The fixture (`tests/fixtures/columns/interleaved-review.md`, our own words) imitates a
systematic review converted to Markdown that way: the lines of the body column alternate with
a box of key messages and the journal's margin notes, and words broken at a line end
('evid-') go on two lines further down ('ence'). Joined back into sentences, those lines are
word salad in the vocabulary of obstacles; a researcher must not find them among the barriers.
"""
from __future__ import annotations

from pathlib import Path

from nlp.columns import crosses, interleaved
from nlp.extract import extract
from nlp.layout import build_layout
from nlp.models import SourceDocument
from nlp.segment import sentence_spans
from nlp.text import load_document

FIXTURE = Path(__file__).parent / "fixtures" / "columns" / "interleaved-review.md"


def _sentences(layout) -> dict[str, bool]:
    """Each sentence's opening words → whether it joins lines of different columns."""
    return {layout.text[s.start:s.end][:40]: crosses(layout.suspect_joins, s.start, s.end)
            for s in sentence_spans(layout)}


def test_sentences_that_join_lines_of_different_columns_are_marked() -> None:
    found = _sentences(build_layout(load_document(FIXTURE)))
    assert found["Many of the studies described the ways p"] is True  # '… to- Box 1 Key messages gether …'
    assert found["The reviewers judged most of the evid- S"] is True
    # a whole line is a whole sentence, and a mended broken word is no join of columns
    assert found["Local partners told us that shared budge"] is False
    assert found["Together, because funders wanted to demo"] is False


def test_ordinary_hyphenation_is_not_read_as_interleaved_columns() -> None:
    """A report that breaks words at line ends and goes on at the next line, as print does."""
    lines = ["The councils said that the agree-", "ments took a year to settle, and the", "fund-",
             "ing arrived late. Staff in the part-", "nership could not see each other's rec-",
             "ords, and the evalu-", "ation was cut. Agreements, funding, partnership, records and",
             "evaluation were the themes."]
    assert not interleaved(lines)
    layout = build_layout(SourceDocument("report.pdf", "pdf", ["\n".join(lines)], True))
    assert layout.suspect_joins == []


def test_the_barrier_classifier_does_not_read_word_salad_and_says_so() -> None:
    result = extract(load_document(FIXTURE))
    assert any("side-by-side columns" in note for note in result.notes)
    quoted = " ".join(b.sentence for b in result.barriers)
    assert "Box 1" not in quoted and "Downloaded from" not in quoted and "See the supplementary" not in quoted
    assert "ence they gathered" not in quoted  # the tail of 'the evid-', two lines up
    # a sentence printed whole on one line is read as before
    assert any(b.sentence.startswith("Local partners told us that shared budgets") for b in result.barriers)


def test_a_question_is_not_read_as_a_barrier_but_a_statement_quoting_one_is() -> None:
    """'Why does joint commissioning stall?' asks; it states no obstacle (every question in the
    labelled pool was read as no barrier). A statement that ends by quoting a question is read."""
    text = ("Why does joint commissioning keep stalling in so many places?\n\n"
            "Managers told us that councils and hospitals still could not share care records, and "
            "nobody would answer the question “who owns the data?”\n")
    quoted = [b.sentence for b in extract(SourceDocument("notes.md", "markdown", [text], False)).barriers]
    assert not any(s.startswith("Why does") for s in quoted)
    assert any(s.startswith("Managers told us") for s in quoted), quoted

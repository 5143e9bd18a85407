"""Sentence splitting over PDF-like page text: line breaks, headers, footnotes, lists."""
from __future__ import annotations

import pytest

from nlp.extract import sentences
from nlp.layout import build_layout
from nlp.models import SourceDocument
from nlp.segment import split_text, without_inner_marks


def pdf(*pages: str) -> SourceDocument:
    return SourceDocument("report.pdf", "pdf", list(pages), True)


def texts(doc: SourceDocument) -> list[str]:
    return [s.text for s in sentences(doc)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The fund grew. It then shrank.", ["The fund grew.", "It then shrank."]),
        ("Dr. Smith and Mr. Jones met e.g. twice. Then they left.",
         ["Dr. Smith and Mr. Jones met e.g. twice.", "Then they left."]),
        ("Costs rose by 2.5 per cent. Spend rose too.", ["Costs rose by 2.5 per cent.", "Spend rose too."]),
        # A footnote mark glued to the full stop is the document's reference, not the sentence's words.
        ("Staff left the NHS.11 Talented people were turned away.",
         ["Staff left the NHS.", "Talented people were turned away."]),
        ("Nobody asked the carers.”7 The board did not meet.", ["Nobody asked the carers.”", "The board did not meet."]),
        ("It ended with a lack of trust between partners.37", ["It ended with a lack of trust between partners."]),
        # After a figure the digits are the figure's: 'rose to 4.5' is not 'rose to 4.' and a mark.
        ("Waiting rose to 4.5 Some boards missed it.", ["Waiting rose to 4.5", "Some boards missed it."]),
        ("Spending reached £4.2 billion in 2019.12", ["Spending reached £4.2 billion in 2019.12"]),
        ("He said “it failed.” The report agreed.", ["He said “it failed.”", "The report agreed."]),
        ("J. K. Smith wrote it. See para. 4 for more.", ["J. K. Smith wrote it.", "See para. 4 for more."]),
    ],
)
def test_split_text(text: str, expected: list[str]) -> None:
    assert [text[a:b] for a, b in split_text(text)] == expected


def test_hard_line_breaks_inside_a_sentence_are_joined() -> None:
    doc = pdf("Local bodies were unsure about the legal\nrequirements for sharing information.\n"
              "This held back integration across the\ncountry.")
    assert texts(doc) == ["Local bodies were unsure about the legal requirements for sharing information.",
                          "This held back integration across the country."]


def test_a_hyphen_at_a_line_break_is_kept_without_a_space() -> None:
    doc = pdf("The plan set up a whole-\nsystem approach to care.")
    assert texts(doc) == ["The plan set up a whole-system approach to care."]


def test_running_headers_and_page_numbers_are_dropped() -> None:
    header = "Health and social care integration Summary"
    areas = ["Leeds", "Bristol", "Norfolk", "Cornwall", "Kent", "Durham"]
    pages = [f"{header}\nIn {area} the council and the NHS pooled budgets.\nThe {area} board met {i + 2} times.\n{i + 1}"
             for i, area in enumerate(areas)]
    got = texts(pdf(*pages))
    assert got[:2] == ["In Leeds the council and the NHS pooled budgets.", "The Leeds board met 2 times."]
    assert all(header not in s for s in got)


def test_a_sentence_running_over_a_page_break_is_one_sentence_on_its_first_page() -> None:
    doc = pdf("Introduction\nThe Department has not set out how it will measure\n",
              "the benefits of integration by 2020.\nIt accepted this.")
    got = sentences(doc)
    assert got[1].text == "The Department has not set out how it will measure the benefits of integration by 2020."
    assert got[1].page == 1 and got[2].page == 2


def test_footnotes_at_the_bottom_of_a_pdf_page_are_removed() -> None:
    doc = pdf("The scheme failed to deliver savings.12 Councils agreed.\n"
              "Other councils disagreed with the findings of the review.\n"
              "12 National Audit Office, Health and social care integration, 2017.")
    assert not any("National Audit Office" in s for s in texts(doc))


def test_numbered_items_start_new_sentences_even_across_lines() -> None:
    doc = pdf("The Department should:\na set out how it will measure\nprogress; and\n"
              "b publish an evaluation by\nMarch 2018.")
    got = texts(doc)
    assert got == ["The Department should:", "a set out how it will measure progress; and",
                   "b publish an evaluation by March 2018."]


def test_headings_are_sentences_of_their_own() -> None:
    doc = pdf("Reduced bill for agency staff\nHigh vacancy rates have resulted in excessive agency spend.")
    assert texts(doc) == ["Reduced bill for agency staff", "High vacancy rates have resulted in excessive agency spend."]


def test_offsets_point_into_the_source_text() -> None:
    doc = SourceDocument("a.txt", "text", ["Title\n\nThe fund grew.\n\nIt then shrank."], False)
    for s in sentences(doc):
        assert doc.text[s.start:s.end] == s.text
        assert s.page is None


def test_markdown_line_breaks_inside_a_sentence_are_joined() -> None:
    doc = SourceDocument("a.md", "markdown", ["High vacancy rates persist. In 2015/16, the NHS spent \n\n"
                                              "£1.3 billion on agency doctors.13 This is a lot."], False)
    assert "In 2015/16, the NHS spent £1.3 billion on agency doctors." in texts(doc)


def test_table_of_contents_pages_are_skipped() -> None:
    toc = "Contents\n" + "\n".join(f"Chapter {i} title of the chapter .......... {i * 10}" for i in range(1, 8))
    layout = build_layout(pdf(toc, "Body text starts here and goes on."))
    assert "Chapter 1" not in layout.text


@pytest.mark.parametrize("sentence, quoted", [
    ("regulate everyday behaviour;34 a lack of research", "regulate everyday behaviour; a lack of research"),
    ("measures alone,128 confirming the view", "measures alone, confirming the view"),
    ("any effect whatsoever”,140 we find", "any effect whatsoever”, we find"),
    ("fees (due to stop in 2018/19),109 but fees vary", "fees (due to stop in 2018/19), but fees vary"),
    ("in 2019,12 councils reported", "in 2019,12 councils reported"),  # after a figure: a number
    ("paragraphs 3,4 and 5", "paragraphs 3,4 and 5"),
    ("the ratio 3:1 in each area", "the ratio 3:1 in each area"),
    ("Barnet;12 Camden", "Barnet;12 Camden"),  # before a capital: perhaps a list, left alone
])
def test_footnote_numbers_inside_a_sentence_are_left_out_of_its_quote(sentence: str, quoted: str) -> None:
    assert without_inner_marks(sentence) == quoted

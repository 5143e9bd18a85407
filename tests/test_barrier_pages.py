"""A barrier sentence that runs over a page break is cited on the page that holds most of it.

A researcher who follows "p. 22" to check a sentence should find it there. Committee reports
and inquiry volumes set long sentences that open in the last line of one page and run on down
the next, and the labellers of real reports put such a sentence on the page of the words that
state the point. The pages below are our own words, set out as a PDF text layer gives them: a
running header, a page number, a sentence broken at the foot of a page.
"""
from __future__ import annotations

from kb.index.ingest import _tag_themes
from kb.index.passages import split_passages
from nlp.extract import extract
from nlp.layout import build_layout
from nlp.models import SourceDocument

OPENING = "There are two reasons why"


def _page(number: int, body: str, notes: str = "") -> str:
    return f"{number} JOINING UP CARE\n{body}\n{notes}".rstrip() + "\n"


def _report() -> SourceDocument:
    """Six pages; paragraph 4.4 opens in the last two lines of page 2, above its footnotes,
    and runs on down page 3 under the running header."""
    filler = ("Witnesses described the same delays in every region we visited, and the councils "
              "we spoke to said the pattern had held for several years.")
    pages = [
        _page(1, f"4.1. The committee heard evidence from hospitals, councils and care providers.\n{filler}"),
        _page(2, "4.2. The committee met in March.\n4.3. The committee visited three hospitals.12\n"
                 f"4.4. {OPENING} discharge plans are not always agreed in time13 \n(see paragraphs 4.9–4.16 below):",
              "12 Q 45.\n13 Written evidence from a council (JUC 12)."),
        _page(3, "ward staff cannot see the council's care records, and the council's social \n"
                 "workers cannot see the hospital's, so every assessment is started again by \n"
                 f"each of them.\n4.5. {filler}"),
        _page(4, f"4.6. {filler}"),
        _page(5, f"4.7. {filler}"),
        _page(6, "4.8. The committee thanks everyone who gave evidence."),
    ]
    return SourceDocument("committee-report.pdf", "pdf", pages, True)


def test_a_sentence_over_a_page_break_is_cited_where_most_of_it_is_printed() -> None:
    found = [b for b in extract(_report()).barriers if "care records" in b.sentence]
    assert found, "the obstacle over the page break was not found"
    assert found[0].sentence.startswith(OPENING)  # one sentence, joined across the break
    assert found[0].page == 3


def test_the_page_of_a_span_is_the_one_holding_most_of_its_characters() -> None:
    layout = build_layout(_report())
    text = layout.text
    start = text.index(OPENING)
    end = text.index("each of them.") + len("each of them.")
    assert layout.page_at(start) == 2  # where it opens
    assert layout.main_page(start, end) == 3
    assert layout.main_page(start, start + len(OPENING)) == 2  # all on page 2
    later = text.index("The committee thanks")
    assert layout.main_page(later, later + 20) == 6


def test_the_theme_filter_still_finds_the_passage_that_opens_the_sentence() -> None:
    doc = _report()
    ex = extract(doc)
    passages = split_passages("sha", doc.pages, True)
    _tag_themes(passages, ex)
    crossing = next(b for b in ex.barriers if OPENING in b.sentence)
    opening = next(p for p in passages if OPENING in p.text)
    assert crossing.page == 3 and opening.page == 2
    assert set(crossing.themes) <= set(opening.themes.strip("|").split("|"))  # tagged where it opens

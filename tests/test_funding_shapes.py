"""Funding figures a researcher can rely on: the right kind, subject and period for the shapes
real reports use, figures in tables, and bounded work on a hostile text (issues 16 and 17).

Every text here is our own, written to imitate the layouts of Budget documents, committee
reports and statistical tables (a Markdown table as converters write it, a PDF table page
after page).
"""
from __future__ import annotations

import pytest

from demosite.site import PAGE_BREAK, render_pdf
from nlp.extract import extract
from nlp.funding import FundingLimits
from nlp.models import SourceDocument
from nlp.money import find_money, kind_for, period_for
from nlp.pipeline import build_pipeline
from nlp.text import load_document


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(barriers=False, use_parser=False)


def figures(nlp, text: str):
    return extract(SourceDocument("note.md", "markdown", [text], False), nlp=nlp).funding


@pytest.mark.parametrize("text, kind", [
    # a rate, a tax or a threshold is not money handed to anyone
    ("Cars with a list price above £40,000 pay a supplement of £310 per year on top of the standard rate.", "other"),
    ("The personal allowance will rise to £11,500 next month.", "other"),
    ("The higher rate threshold will increase to £45,000 in April.", "other"),
    ("The net debt of the providers' private equity owners is £894 million.", "other"),
    # borrowing is the deficit; measures that bring it down save money
    ("Public sector net borrowing is forecast to fall to £16.8 billion by 2021-22.", "deficit"),
    ("The Chancellor announced £4 billion of deficit reduction measures in June.", "saving"),
    # a sum that names its programme is an allocation
    ("The Department confirmed a £400m programme to support the uptake of electric vans.", "allocation"),
    # revenue as a kind of funding (beside capital) is money given, tax revenue is income
    ("The fund will provide capital as well as revenue funding (£120 million capital, £180 million revenue).",
     "allocation"),
    ("Council tax revenue of £41 billion was collected last year.", "other"),
])
def test_the_kind_follows_what_the_money_is(text: str, kind: str) -> None:
    assert kind_for(text, find_money(text)[-1]) == kind


@pytest.mark.parametrize("text, periods", [
    ("Towns in the programme spent £10 per person per year on walking schemes.", ["per person per year"]),
    ("The cost per quality-adjusted life year was £1,671 per QALY gained.", ["per QALY"]),
    ("The fund will make £560 million available over four years.", ["over four years"]),
    ("Obesity will cost the economy £49.9 billion a year by 2050.", ["a year by 2050"]),
    ("Spending on homes and fostering was £778 million and £1,021 million respectively in 2018-19.",
     ["2018/19", "2018/19"]),
    ("The Department will spend over £1.5 billion on major schemes (those costing over £5 million) "
     "in the period 2011-12 to 2014-15.", ["2011/12 to 2014/15", None]),
    # an aside with its own amount does not push the period out of reach
    ("We have set aside over £2.4 billion for large regional rail upgrades (those costing over £50 million) "
     "in the period from 2021/22 to 2024/25.", ["2021/22 to 2024/25", None]),
    # a period stated at the end of a long clause still belongs to its amount ...
    ("Councils also spent £412 million on residential placements in secure children's homes run by "
     "independent providers in 2019-20 from their social care budgets.", ["2019/20"]),
    # a span of calendar years, shared by the amounts joined after it
    ("The pilot ran between 2016 and 2019 and was paid for by £8 million of national funding together "
     "with £3 million from the councils.", ["2016-2019", "2016-2019"]),
    # a footnote number glued to the unit of a rate
    ("The cost per quality-adjusted life year was £2,340 per QALY118 gained.", ["per QALY"]),
    # ... unless one is stated just before it
    ("Receipts are expected to beat the 2019-20 forecast by £2.2 billion and stay on course to return the "
     "remaining shares to private hands by the end of 2021-22.", ["2019/20"]),
])
def test_the_period_is_the_one_the_sentence_gives_each_amount(text: str, periods: list) -> None:
    assert [period_for(text, m) for m in find_money(text)] == periods


@pytest.mark.parametrize("text, subject", [
    ("Average spend per person in Northmoor was around £38 per head.", "Average spend per person in Northmoor"),
    ("The government has pledged to raise the personal allowance to £12,500 by 2020.", "personal allowance"),
    ("The government will run a further round of the New Stations Fund with up to £20 million available.",
     "New Stations Fund"),
])
def test_the_subject_is_what_the_money_is_not_who_acts(nlp, text: str, subject: str) -> None:
    assert figures(nlp, text)[0].subject == subject


MARKDOWN_TABLE = """# Council spending on adult social care

Table 3: Net current expenditure on adult social care, by council

| Council | 2021/22 | 2022/23 | 2023/24 |
|---|---|---|---|
| Northmoor | £41,200,000 | £43,950,000 | £46,010,000 |
| Eastfield | £28,700,500 | £29,100,000 | £31,300,250 |
| Riverside and Vale | £12,004,000 | £12,560,000 | £13,900,000 |

Source: council revenue outturn returns.
"""


def test_every_cell_of_a_markdown_table_is_a_figure_with_its_row_and_column(nlp) -> None:
    found = figures(nlp, MARKDOWN_TABLE)
    assert len(found) == 9
    assert [(f.subject, f.period) for f in found[:3]] == [
        ("Northmoor", "2021/22"), ("Northmoor", "2022/23"), ("Northmoor", "2023/24")]
    assert found[-1].subject == "Riverside and Vale" and found[-1].amount_gbp == 13_900_000
    assert {f.kind for f in found} == {"spend"}  # the caption says it is expenditure


def test_a_large_markdown_table_gives_its_figures(nlp) -> None:
    rows = [f"| Authority {i} | £{1000 + i:,} | £{2000 + i:,} | £{3000 + i:,} |" for i in range(1500)]
    text = "Table 1: Grant allocations\n\n| Authority | 2022/23 | 2023/24 | 2024/25 |\n|---|---|---|---|\n" \
        + "\n".join(rows) + "\n"
    found = figures(nlp, text)
    assert len(found) == 4500
    assert (found[-1].subject, found[-1].period, found[-1].kind) == ("Authority 1499", "2024/25", "allocation")


def test_rows_of_a_pdf_table_are_not_taken_for_running_headers(tmp_path) -> None:
    """Each page of the table starts and ends with rows whose digits differ but 'normalise
    alike'; they are figures, not page furniture (the title line and page number are)."""
    pages = []
    for p in range(6):
        rows = [f"Area {chr(65 + p)}{r} £{(p + 1) * 1000 + r * 37:,} £{(p + 2) * 2000 + r * 53:,}" for r in range(12)]
        pages.append("Annex B: grant allocations by area\n\n" + "\n".join(rows) + f"\n\nPage {p + 1}")
    path = tmp_path / "annex.pdf"
    path.write_bytes(render_pdf("title: Grant annex\n---\n" + f"\n{PAGE_BREAK}\n".join(pages)))
    found = extract(load_document(path), nlp=build_pipeline(barriers=False, use_parser=False)).funding
    assert len(found) == 6 * 12 * 2
    assert found[0].page == 1 and found[-1].page == 6


def test_a_megabyte_of_repeated_amounts_is_bounded_and_says_so() -> None:
    """One line of '£5.3 billion' repeated for 1 MB (the hostile file of issue 17): the funding
    component keeps its per-document cap of figures and reports that it stopped."""
    nlp = build_pipeline(barriers=False)
    nlp.get_pipe("refrain_funding").limits = FundingLimits(max_items=3000, max_parsed=50)
    text = "The programme costs £5.3 billion " * (1_000_000 // 33)
    result = extract(SourceDocument("hostile.txt", "text", [text], False), nlp=nlp)
    assert len(result.funding) == 3000
    # (the sentence splitter cuts a 1,200-character 'sentence' at a space, now and then
    # between '£5.3' and 'billion')
    assert {f.amount_gbp for f in result.funding} <= {5.3e9, 5.3}
    assert any("max_items" in note and "not extracted" in note for note in result.notes)


def test_a_figure_a_document_repeats_is_listed_once_and_totals_never_mix_kinds(tmp_path) -> None:
    """A report states its £5.3 billion fund in the summary, a chapter and the conclusion: the
    funding list shows one figure stated three times, and totals are kind by kind."""
    from kb.analysis.browse import FundingQuery, funding_by_kind, funding_figures
    from kb.store.db import Store

    store = Store(tmp_path / "kb.sqlite")
    with store.conn:
        store.conn.execute("INSERT INTO documents(id, sha256, url, source, year, ingested_at) "
                           "VALUES ('d1', 'x', 'file:///r.pdf', 'local', 2024, '2024-01-01')")
        rows = [(5.3e9, "Better Care Fund", "2024/25", "allocation", "Summary: the £5.3bn Better Care Fund.", 1),
                (5.3e9, "better care fund", "2024/25", "allocation", "Chapter 2 on the £5.3 billion fund.", 9),
                (5.3e9, "Better Care Fund", "2024/25", "allocation", "In conclusion, the £5.3bn fund.", 40),
                (5.3e9, "Better Care Fund", "2025/26", "allocation", "Next year £5.3bn again.", 41),
                (1.2e9, "agency staff", "2024/25", "saving", "Savings of £1.2bn on agency staff.", 12)]
        store.conn.executemany("INSERT INTO funding(doc_id, amount_gbp, mention, subject, period, kind, sentence, "
                               "page) VALUES ('d1', ?, '£', ?, ?, ?, ?, ?)", rows)
    listed = funding_figures(store)
    assert [(f.amount_gbp, f.period, f.mentions) for f in listed] == [
        (5.3e9, "2024/25", 3), (5.3e9, "2025/26", 1), (1.2e9, "2024/25", 1)]
    assert listed[0].page == 1  # the first mention stands for the figure
    assert [(t.kind, t.count, t.total_gbp) for t in funding_by_kind(store, FundingQuery())] == [
        ("allocation", 2, 10.6e9), ("saving", 1, 1.2e9)]
    assert len(funding_figures(store, FundingQuery(distinct=False))) == 5


# --- prices in pence --------------------------------------------------------------------------
# Committee reports and Budget documents state prices, duties and wage rises in pence: a
# minimum unit price for alcohol, a levy per litre, a rise of so many pence an hour.

@pytest.mark.parametrize("text, found", [
    ("A floor price of 45p per unit was modelled.", [("45p", 0.45)]),
    ("Options of 55p and 65p were compared.", [("55p", 0.55), ("65p", 0.65)]),
    ("The levy on the sweetest drinks is 22 pence per litre.", [("22 pence", 0.22)]),
    ("Shares were sold at 330p each.", [("330p", 3.3)]),
    ("A rise of 70p on the hourly rate.", [("70p", 0.7)]),  # exactly 0.7, no float residue
])
def test_prices_in_pence_are_money(text: str, found: list) -> None:
    assert [(m.surface, m.amount) for m in find_money(text)] == found


@pytest.mark.parametrize("text", [
    "The meeting closed at 4pm and resumed at 2p.m. the next day.",
    "Print the leaflet on A4p paper, see p 5 and pp 6-7.",
    "The charge was £1.50p in old money.",  # one amount, not two
])
def test_times_pages_and_glued_letters_are_not_pence(text: str) -> None:
    assert all(not m.surface.endswith("p") for m in find_money(text))


@pytest.mark.parametrize("text, periods", [
    # prices compared in one sentence share the unit one of them states
    ("A floor price of 45p per unit would cut drinking by 3%, while floors of 55p and 65p would cut it "
     "by 8% and 12%.", ["per unit", "per unit", "per unit"]),
    # the unit named before the price
    ("The floor means the price for a unit of cider would be about 19p and for wine about 31p.",
     ["per unit", "per unit"]),
    ("The levy is 22 pence per litre for the sweetest drinks and 16 pence for the rest.",
     ["per litre", "per litre"]),
    # a total beside a rate is not a rate
    ("Towns spent £12 per head, a total of £3 million in 2019.", ["per head", "2019"]),
])
def test_prices_compared_in_one_sentence_share_their_unit(text: str, periods: list) -> None:
    assert [period_for(text, m) for m in find_money(text)] == periods


def test_a_price_in_pence_ends_its_sentence(nlp) -> None:
    """'p.' is also 'page': after a number it is a price, and the next sentence's year is not its period."""
    found = figures(nlp, "The floor means a unit of cider would cost about 19p. The guidance published "
                         "in 2012 proposed a higher floor.")
    assert [(f.mention, f.amount_gbp, f.period) for f in found] == [("19p", 0.19, None)]


def test_a_price_shown_in_pence() -> None:
    from webapp.present import money
    assert [money(0.21), money(0.0935), money(3.3), money(5.3e9)] == ["21p", "9.35p", "£3.30", "£5.3 billion"]


def test_a_number_glued_to_p_is_a_price_only_among_the_words_of_prices() -> None:
    """Health documents write chromosome arms the way Budgets write prices."""
    assert find_money("Patients with a 17p deletion respond poorly to the first-line treatment.") == []
    assert [m.surface for m in find_money("The duty on a pint rose by 2p.")] == ["2p"]


def test_the_cap_counts_prices_in_pence_it_did_not_read() -> None:
    nlp = build_pipeline(barriers=False, use_parser=False)
    nlp.get_pipe("refrain_funding").limits = FundingLimits(max_items=300, max_parsed=10)
    text = "The duty on a pint rose by 5p per unit this year. " * 1000
    result = extract(SourceDocument("duties.txt", "text", [text], False), nlp=nlp)
    assert len(result.funding) == 300
    assert any("700 more not extracted" in note for note in result.notes), result.notes


def test_a_figure_stated_only_in_a_footnote_is_found_on_its_page(tmp_path) -> None:
    """Committee reports put figures in footnotes ('2 A 2007 Foresight report … estimated that …
    obesity-related diseases will cost society £49.9 billion a year by 2050'). The footnote zone
    stays out of the running text; its figures are read, cited on the footnote's page."""
    pages = [
        "Chapter 2: Delayed discharges\n\n"
        "Councils and hospitals told us that delays in leaving hospital were rising in every region.3 "
        "The committee heard that the cause was a shortage of home care staff.4\n\n"
        "3 The Department estimated in 2019 that delayed discharges cost the NHS £820 million a year.\n"
        "4 Oral evidence, 12 March 2024, Q 41.",
        "Chapter 3: What should change\n\nWe recommend that the Department publish a workforce plan.",
    ]
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf("title: Delayed discharges\n---\n" + f"\n{PAGE_BREAK}\n".join(pages)))
    result = extract(load_document(path), nlp=build_pipeline(barriers=False))
    assert [(f.mention, f.page) for f in result.funding] == [("£820 million", 1)]
    assert result.funding[0].sentence.startswith("The Department estimated in 2019")
    from nlp.layout import build_layout
    assert "£820 million" not in build_layout(load_document(path)).text  # the zone is not running text


def test_an_nao_summary_paragraph_at_the_foot_of_a_page_is_not_a_footnote(tmp_path) -> None:
    """NAO summaries number their paragraphs ('3 From the outset …'); a decimal in the page
    ('£5.3 billion') is not a footnote mark, so paragraph 3 at the foot of the page stays text."""
    from nlp.layout import build_layout
    page = ("Summary\n\n"
            "1 In the 2013 Spending Round the government announced a pooled budget of £5.3 billion.\n\n"
            "2 Local areas had to agree one plan for their share of the money.\n\n"
            "3 From the outset the Department assumed that the fund would save the NHS £1 billion in 2015-16.")
    path = tmp_path / "nao.pdf"
    path.write_bytes(render_pdf("title: Planning the fund\n---\n" + page + f"\n{PAGE_BREAK}\nAppendix\n\nMethods."))
    layout = build_layout(load_document(path))
    assert "From the outset the Department assumed" in layout.text and layout.footnotes == []


def test_a_header_row_of_pound_signs_is_not_an_amount() -> None:
    assert find_money("Total debt: latest accounts £ £ £ £ 1 Outcomes First (152,075,000)") == []
    assert [m.amount for m in find_money("It cost £ 5 million.")] == [5e6]

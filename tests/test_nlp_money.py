"""Money, period and funding-kind parsing on our own small sentences."""
from __future__ import annotations

import pytest

from nlp.money import (clean_subject, find_money, find_periods, kind_for, normalise_period, parse_amount,
                       period_for, subject_for)


@pytest.mark.parametrize(
    "surface, amount",
    [
        ("£5.3 billion", 5.3e9),
        ("£5.3bn", 5.3e9),
        ("£171m", 171e6),
        ("£171 mil ion", 171e6),  # PDF conversion dropped the 'll'
        ("£3.0 bil ion", 3.0e9),
        ("£1,234", 1234.0),
        ("£45.58", 45.58),
        ("£1billion", 1e9),
        ("£12k", 12_000.0),
        ("£2 trillion", 2e12),
        ("£ 40,000", 40_000.0),
    ],
)
def test_parse_amount(surface: str, amount: float) -> None:
    assert parse_amount(surface) == pytest.approx(amount)


@pytest.mark.parametrize(
    "text",
    [
        "Demand will rise by 36 per cent to 12.2 billion care hours.",
        "About 83% of trusts reported a deficit.",
        "The app freed up 2 mil ion hours of staff time.",
        "Costs are reported in £m in the table below.",
    ],
)
def test_not_money(text: str) -> None:
    assert find_money(text) == []


def test_every_amount_in_a_sentence_is_found_in_order() -> None:
    text = "Spend fell from £3.5bn in 2022/23 to £3.0bn in 2023/24, and £1.2bn in H1 2024/25."
    assert [m.amount for m in find_money(text)] == [3.5e9, 3.0e9, 1.2e9]


def test_range_with_one_pound_sign_is_one_mention() -> None:
    [m] = find_money("The programme will cost £1–2 billion.")
    assert m.amount == 1e9 and m.upper == 2e9 and m.surface == "£1–2 billion"


def test_range_with_two_pound_signs_is_two_mentions() -> None:
    assert [m.amount for m in find_money("estimates of £1bn–£2bn")] == [1e9, 2e9]


def test_footnote_glued_to_an_amount_is_not_a_decimal() -> None:
    [a, b] = find_money("a cost of £162,000,16 compared with a target of £230,000.17 This suggests")
    assert (a.amount, b.amount) == (162_000, 230_000)


@pytest.mark.parametrize(
    "text, per_unit",
    [
        ("Councils spend £45 per person on prevention.", True),
        ("Agency doctors earn up to £80 per hour.", True),
        ("The tariff pays £300 a head.", True),
        ("Training costs £140 million per year.", False),
        ("Spend fell to £7 million a month.", False),
    ],
)
def test_per_unit(text: str, per_unit: bool) -> None:
    assert find_money(text)[0].per_unit is per_unit


@pytest.mark.parametrize(
    "raw, normalised",
    [("2016-17", "2016/17"), ("2016–17", "2016/17"), ("2016/17", "2016/17"), ("2016/2017", "2016/17")],
)
def test_normalise_period(raw: str, normalised: str) -> None:
    assert normalise_period(raw) == normalised


@pytest.mark.parametrize(
    "text, period",
    [
        ("In 2015/16, the NHS spent £1.3 billion on agency doctors.", "2015/16"),
        ("The fund received £2.1 billion in 2016-17.", "2016/17"),
        ("There is £2 billion over 2017–18 to 2019–20 for social care.", "2017/18 to 2019/20"),
        ("Spend is currently £1.2 billion for H1 2024/25.", "H1 2024/25"),
        ("It fell to £1 million a month in August 2024.", "August 2024"),
        ("The scheme saved £171 million year to date July 2024.", "year to date July 2024"),
        ("The council spent £4 million in 2019 on reablement.", "2019"),
        ("The Better Care Fund is worth £5.3 billion.", None),
        ("HEE pays fees (due to stop in 2018/19), but some charge more than £40,000 a year.", None),
    ],
)
def test_period_for(text: str, period: str | None) -> None:
    [mention] = find_money(text)
    assert period_for(text, mention) == period


def test_each_amount_keeps_its_own_period() -> None:
    text = "Spend has reduced from £3.5 billion in 2022/23 to £3.0 billion in 2023/24."
    assert [period_for(text, m) for m in find_money(text)] == ["2022/23", "2023/24"]


def test_find_periods_ignores_page_ranges_and_percentages() -> None:
    assert [p.text for p in find_periods("See pages 2016-18; 20% in 2019.")] == ["2019"]


@pytest.mark.parametrize(
    "text, kind",
    [
        ("The £5.3 billion Better Care Fund pools NHS and council money.", "allocation"),
        ("A ring-fenced training budget of £4.8 billion was set.", "allocation"),
        ("In 2015/16, the NHS spent £1.3 billion on agency doctors.", "spend"),
        ("The medicines programme has saved £171 million this year.", "saving"),
        ("It could realise over £0.5 billion in savings.", "saving"),
        ("Trusts ended the year with a combined deficit of £2.5 billion.", "deficit"),
        ("Training a doctor costs £230,000.", "cost"),
        ("Students pay £36,000 per year for their tuition.", "cost"),
        ("Students have loans of £9,000 per year.", "other"),
        ("Agency doctors can earn £11,700 more than permanent staff.", "other"),
    ],
)
def test_kind_for(text: str, kind: str) -> None:
    [mention] = find_money(text)
    assert kind_for(text, mention) == kind


def test_kind_falls_back_to_the_previous_sentence() -> None:
    previous = "Agency spending has fallen sharply."
    text = "It went from £7 million a month in July 2023 to £1 million a month in August 2024."
    assert kind_for(text, find_money(text)[0], context=previous) == "spend"


@pytest.mark.parametrize(
    "text, subject",
    [
        ("The NAO was critical of the £5.3 billion Better Care Fund, intended to help.", "Better Care Fund"),
        ("In 2015/16, the NHS spent £1.3 billion on agency doctors.", "agency doctors"),
        ("HEE has a ring-fenced training budget of £4.8 billion.", "ring-fenced training budget"),
    ],
)
def test_subject_for(text: str, subject: str) -> None:
    [mention] = find_money(text)
    assert subject_for(text, mention) == subject


@pytest.mark.parametrize("subject", ["H", "July 2023", "2024/25", "savings", "some", "12"])
def test_generic_subjects_are_dropped(subject: str) -> None:
    assert clean_subject(subject) is None


def test_a_period_after_a_clause_break_belongs_to_the_next_amount() -> None:
    text = "The NHS budget for 2024/25 was £177bn, and for 2025/26 it is £183bn."
    assert [period_for(text, m) for m in find_money(text)] == ["2024/25", "2025/26"]


@pytest.mark.parametrize(
    "text, subject",
    [
        # who pays, the money noun of the verb, and what it went on
        ("The Government invest around £1.3 billion per year in training medical students.",
         "Government investment in training medical students"),
        ("The Government spends £1.3 billion on agency doctors each year.", "Government spending on agency doctors"),
        ("The Research Programme spent £34 million in 2009-10.", "Research Programme spending"),
        ("Obesity-related diseases would cost society £49.9 billion a year by 2050.", "cost to society of Obesity-related diseases"),
        ("In Copenhagen £40 per person per year was invested in infrastructure.", "investment in infrastructure per person"),
        # an amount of savings is the savings of whoever the sentence says delivers them
        ("Broader opportunities such as the national energy framework are due to deliver £14 million savings this year.",
         "Broader opportunities savings"),
        # a money noun's amount keeps what the money is for, written after the amount
        ("One estimate suggested an investment of £20 per person per year in “smarter choice” measures.",
         "investment in smarter choice measures per person"),
        # a named fund owns what it gives and the kinds of money it splits into
        ("The Local Sustainable Travel Fund would provide £560 million to local authorities over four years.",
         "Local Sustainable Travel Fund for local authorities"),
        ("The Local Transport Fund will provide capital and revenue funding (£210 million capital).",
         "Local Transport Fund capital"),
        # whose savings: the clause subject with its place, through Markdown emphasis
        ("Changes at** **NHS England have already generated nearly £500 million of savings.",
         "Changes at NHS England savings"),
        # an amount in brackets is the value of the noun phrase before it
        ("Agency pay was two and a half times the hourly wage rate for staff on permanent contracts (£18.26 per hour).",
         "hourly wage rate for staff on permanent contracts"),
        ("The NHS App is estimated to have achieved benefits equivalent to £249 million in 2023/24.",
         "NHS App benefits"),
        ("HEE is responsible for a ring-fenced training budget of £4.8 billion.", "HEE ring-fenced training budget"),
        ("The £500 million Adult Social Care Discharge Fund was allocated in November.",
         "Adult Social Care Discharge Fund"),
        ("Using the Better Care Fund’s £5.3 billion, areas pooled money.", "Better Care Fund"),
    ],
)
def test_funding_subjects_in_context(text: str, subject: str) -> None:
    from nlp.extract import extract
    from nlp.models import SourceDocument

    [f] = extract(SourceDocument("x.md", "markdown", [text], False)).funding
    assert f.subject == subject


def test_a_bare_spend_takes_its_qualifier_from_the_previous_sentence() -> None:
    from nlp.extract import extract
    from nlp.models import SourceDocument

    text = ("Productivity improved through continued reductions in agency spending. Spend has reduced from "
            "£3.5 billion in 2022/23 to £3.0 billion in 2023/24.")
    result = extract(SourceDocument("x.md", "markdown", [text], False))
    assert [f.subject for f in result.funding] == ["agency spending", "agency spending"]


def test_its_refers_back_to_the_fund_named_in_the_previous_sentence() -> None:
    """The grammatical subject ('local areas') pools the money; the fund owns it."""
    from nlp.extract import extract
    from nlp.models import SourceDocument

    text = ("The Better Care Fund is the main national vehicle for joining up services. In 2015-16, its first "
            "year, local areas pooled £5.3 billion.")
    [f] = extract(SourceDocument("x.md", "markdown", [text], False)).funding
    assert (f.subject, f.amount_gbp, f.period) == ("Better Care Fund", 5.3e9, "2015/16")


def test_a_range_written_with_two_pound_signs_takes_its_unit_from_the_top() -> None:
    """'(£1.8 to £3.6 billion in today's prices)': the low end is £1.8 billion, not £1.80; a
    misspelt 'billon' is still a billion; a plain range of two sums stays as written."""
    assert [m.amount for m in find_money("a gain of £1.8 to £3.6 billion in today's prices")] == [1.8e9, 3.6e9]
    assert [m.amount for m in find_money("between £2 and £3 million a year")] == [2e6, 3e6]
    assert [m.amount for m in find_money("a real terms increase of £8 billon")] == [8e9]
    assert [m.amount for m in find_money("from £83,000 to £85,000")] == [83000, 85000]
    assert [m.amount for m in find_money("between £500 and £1 million")] == [500, 1e6]

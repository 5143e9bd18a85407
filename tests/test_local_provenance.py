"""A researcher ingests a folder of files saved from the web: who published each, and when?

The files have no publisher's page beside them. A web page printed to Markdown still shows its
publication reference and its figures on the publisher's site; a plain-text summary links to its
own page; a team says which body it works in; a strategy's back cover names its board. A data
appendix that only *cites* a body's datasets has no publisher, and says so by leaving it empty.
Every fixture is in our own words, laid out as the real files are.
"""
from __future__ import annotations

from nlp.cover import document_metadata
from nlp.models import SourceDocument


def markdown(text: str, name: str = "page.md") -> SourceDocument:
    return SourceDocument(path=name, format="markdown", pages=[text], paged=False)


WEB_PRINT = """Date published: 4 February, 2025

Date last updated: 6 February, 2025

**Community rehabilitation guidance 2025/26**

Publication \\(/publication\\)

**Content**

Introduction

**Introduction**

1. Systems should agree how community teams will share records with councils.

**How the teams fit together**

\\(https://www.england.nhs.uk/wp-content/uploads/2025/02/how-the-teams-fit-together.png\\)

2. The Department of Health and Social Care \\(https://www.gov.uk/government/organisations/department-of-health-and-social-care\\) sets the mandate.

Date published: 4 February, 2025

▲Back to top
"""


def test_a_printed_web_page_is_published_by_the_site_that_hosts_its_figures():
    meta = document_metadata(markdown(WEB_PRINT))
    assert meta["publisher"] == "NHS England"
    assert meta["published"] == "2025-02-04"
    assert meta["title"] == "Community rehabilitation guidance 2025/26"


def test_a_publication_reference_names_the_body_that_issues_it():
    text = ("Classification: Official\n\n**Winter discharge planning **\n\n**letter **\n\n"
            "Publication reference: PRN01999\n\nDear colleagues, systems should plan discharge early.\n")
    assert document_metadata(markdown(text))["publisher"] == "NHS England"
    # A board paper's reference is not in the PRN scheme: it counts when the paper names its board's body.
    board = ("**Elective recovery**\n\nAgenda item: 7\n\nThe NHS England board is asked to note progress.\n\n"
             "Publication reference: Public Board paper \\(BM/25/11\\(Pu\\)\n")
    assert document_metadata(markdown(board))["publisher"] == "NHS England"


def test_a_plain_text_summary_is_published_by_the_site_of_its_own_full_version():
    text = ("**The Healthy Bradwell Plan **\n\n**2024 - 2029 **\n\n**Summary Document **\n\nPlain text version\n\n"
            "**Introduction **\n\nThe full version is available online here: "
            "https://www.healthandcarebradwell.org/publications/healthy-bradwell-plan/\n\n"
            "The Bradwell Health and Care Partnership brings together the council, the NHS and the voluntary sector.\n\n"
            "Read the national guidance at https://www.england.nhs.uk/publication/community-care/ for more.\n")
    meta = document_metadata(markdown(text))
    assert meta["publisher"] == "Bradwell Health and Care Partnership"
    assert meta["published"] == "2024"  # the plan's first year, on the cover under its title
    assert meta["title"] == "The Healthy Bradwell Plan"


def test_a_team_that_says_which_body_it_works_in_names_the_publisher():
    text = ("Introduction\n============\n\n<p>\nThese measures were developed by the <strong>Population Insight (PI)"
            "</strong> team within the <strong>Strategy</strong> directorate of NHS England and Nhs Improvement.\n</p>\n")
    assert document_metadata(markdown(text))["publisher"] == "NHS England and NHS Improvement"


def test_a_back_cover_naming_a_board_is_the_publisher():
    text = ("**The Bradwell Health **\n\n**and Wellbeing Strategy **\n\n**2024-2031**\n\n"
            "Our ambition is a healthy city for all ages.\n\n54\n\n55\n\nBradwell** **\n\n"
            "**Health and Wellbeing **\n\nBoard\n")
    meta = document_metadata(markdown(text))
    assert meta["publisher"] == "Bradwell Health and Wellbeing Board"
    assert meta["published"] == "2024"


def test_a_body_only_cited_is_not_the_publisher_and_nothing_is_invented():
    text = ("# Technical appendix\n\n## Data sources\nWe used the [discharge dataset]"
            "(https://www.england.nhs.uk/statistics/statistical-work-areas/discharge-delays-acute-data/) from NHS England "
            "and the [finance return](https://digital.nhs.uk/data-and-information/publications/statistical/finance) "
            "from NHS England. Publication of these figures is monthly.\n")
    meta = document_metadata(markdown(text, "technical-appendix.md"))
    assert meta["publisher"] is None and meta["published"] is None
    # a reference list citing a department is not that department's document either
    refs = ("**A plan for care**\n\nWe will act.\n\n9 Department of Health and Social Care. ‘Carers count’ 2021. "
            "https://www.gov.uk/government/news/carers-count \\(viewed on 19 June 2025\\)\n")
    assert document_metadata(markdown(refs))["publisher"] is None


def test_a_pdf_with_no_printed_date_is_dated_by_its_creation_date():
    doc = SourceDocument(path="appendix.pdf", format="pdf", paged=True,
                         pages=["Technical appendix\nData sources\nWe used the community data.\n"],
                         meta={"pdf": {"author": "A Person", "creationdate": "D:20240314085912+00'00'"}})
    meta = document_metadata(doc)
    assert meta["published"] == "2024-03-14"
    assert meta["publisher"] is None  # a person's name in the PDF's author field is not a publisher


def test_a_link_to_a_neighbouring_publication_or_a_financial_year_is_no_evidence():
    text = ("**A workforce strategy for social care**\n\n**2024/2025**\n\nWe build on the NHS plan "
            "(https://www.england.nhs.uk/publication/nhs-long-term-workforce-plan/) and on our councils' work.\n")
    meta = document_metadata(markdown(text))
    assert meta["publisher"] is None  # the link names one of the title's words, not most of them
    assert meta["published"] is None  # an annual report for 2024/2025 comes out after it

"""Every supported format becomes page-aware text; a bad file is one clear reason, no traceback."""
import json

import pytest
from fpdf import FPDF

from nlp.dates import normalise_date
from nlp.text import DocumentError, load_document


def make_pdf(path, pages, title="A test report"):
    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def test_pdf_pages_keep_their_numbers_and_title(tmp_path):
    path = make_pdf(tmp_path / "r.pdf", ["Cover page. HC 1011 SESSION 2016-17 8 FEBRUARY 2017",
                                         "Information governance is a barrier to integration."])
    doc = load_document(path)
    assert doc.format == "pdf" and doc.paged
    assert len(doc.pages) == 2
    assert "Information governance" in doc.pages[1]
    assert doc.title == "A test report"
    assert doc.page_number(1) == 2


def test_html_takes_title_date_and_main_text(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("""<html><head><title>Site title</title>
        <meta property="article:published_time" content="2018-07-18T09:00:00+01:00"></head>
        <body><nav>Menu Home</nav><main><h1>The health and social care interface</h1>
        <p>Workforce shortages in social care are a barrier.</p><script>alert(1)</script></main></body></html>""")
    doc = load_document(path)
    assert doc.title == "The health and social care interface"
    assert doc.published == "2018-07-18"
    assert "Workforce shortages" in doc.text
    assert "Menu" not in doc.text and "alert" not in doc.text
    assert not doc.paged and doc.page_number(0) is None


def test_markdown_title_and_escapes(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("# Integration note\n\nThe \\£5.3 billion **Better Care Fund** \\(BCF\\).\n")
    doc = load_document(path)
    assert doc.title == "Integration note"
    assert "The £5.3 billion Better Care Fund (BCF)." in doc.text


RMARKDOWN = """Introduction
============

<!--html_preserve-->
<h2>
Why these measures
</h2>
<p>
Councils told us that <strong>incompatible case-management systems</strong> mean
staff re-key the same referral twice &amp; that <em>nobody</em> owns the
shared record.<br/>
Fewer than <5% of homes have a digital record; when a > b the list is cut.
</p>
<ul>
<li>
Emergency readmissions within 30 days<br/>
</li>
<li>
Delayed transfers of care
</li>
</ul>
<script>var tracker = "do not index me";</script>
<!--/html_preserve-->

| Measure | 2021/22 |
|:--------|--------:|
| Readmissions | £4.5m |

Outcomes
--------

Plain prose &mdash; with an entity.
"""


def test_html_inside_markdown_reads_as_its_text(tmp_path):
    """R Markdown output carries raw HTML blocks. A researcher quoting a sentence from it, or
    reading it as a search hit, must see the words a browser shows, not the markup."""
    path = tmp_path / "metrics.md"
    path.write_text(RMARKDOWN, encoding="utf-8")
    text = load_document(path).text
    assert "<" not in text.replace("<5%", "").replace("a > b", "")  # no tag and no comment survive
    assert ("Councils told us that incompatible case-management systems mean\nstaff re-key the same "
            "referral twice & that nobody owns the\nshared record.") in text
    assert "Fewer than <5% of homes" in text and "when a > b the list is cut" in text  # not tags
    assert "Emergency readmissions within 30 days\n\nDelayed transfers of care" in text  # one item a paragraph
    assert "tracker" not in text and "html_preserve" not in text
    assert "=====" not in text and "-----\n" not in text and "Outcomes\n" in text
    assert "|:--------|--------:|" in text  # the alignment row marks a table for the funding reader
    assert "Plain prose \u2014 with an entity." in text


def test_markup_written_as_text_in_markdown_stays_text(tmp_path):
    """An author who writes '&lt;b&gt;' means the reader to see '<b>': it is stored as text
    (and escaped by every page that shows it), while a real tag in a heading is dropped."""
    path = tmp_path / "notes.md"
    path.write_text("# Notes on <script>alert(1)</script> care &amp; health\n\n"
                    "The &lt;b&gt; tag and &lt;script&gt; are quoted here as text.\n", encoding="utf-8")
    doc = load_document(path)
    assert doc.title == "Notes on care & health"
    assert "The <b> tag and <script> are quoted here as text." in doc.text


def test_a_huge_unclosed_comment_in_markdown_costs_one_pass(tmp_path):
    path = tmp_path / "hostile.md"
    path.write_text("Care text. " + "<!-- open " * 200_000 + "<p>end", encoding="utf-8")
    assert load_document(path).text.startswith("Care text.")  # the open comment runs to the end


def test_govuk_content_item(tmp_path):
    item = {"base_path": "/government/publications/x", "title": "Integration and innovation",
            "document_type": "policy_paper", "first_published_at": "2021-02-11T12:00:00.000+00:00",
            "description": "White paper.", "details": {"body": "<p>Data sharing <b>rules</b> are unclear.</p>"},
            "links": {"organisations": [{"title": "Department of Health and Social Care"}]}}
    path = tmp_path / "item.json"
    path.write_text(json.dumps(item))
    doc = load_document(path)
    assert doc.title == "Integration and innovation"
    assert doc.published == "2021-02-11"
    assert "Data sharing rules are unclear." in doc.text
    assert doc.meta["organisations"] == ["Department of Health and Social Care"]


@pytest.mark.parametrize("name, content, reason", [
    ("empty.pdf", b"", "empty file"),
    ("junk.pdf", b"%PDF-1.4 this is not really a pdf", "broken PDF"),
    ("bad.json", b"{not json", "invalid JSON"),
    ("other.json", b'{"hello": "world"}', "not a GOV.UK content item"),
    ("blank.html", b"<html><body>   </body></html>", "no text"),
])
def test_bad_files_give_one_clear_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError, match=reason):
        load_document(path)


def test_missing_file_is_a_document_error(tmp_path):
    with pytest.raises(DocumentError, match="cannot read"):
        load_document(tmp_path / "nope.pdf")


@pytest.mark.parametrize("value, iso", [
    ("2017-02-08T00:00:00Z", "2017-02-08"),
    ("8 February 2017", "2017-02-08"),
    ("HC 1011 SESSION 2016-17 8 FEBRUARY 2017", "2017-02-08"),
    ("25 Oct 2017", "2017-10-25"),
    ("4 Sept 2019", "2019-09-04"),
    ("31 February 2017", None),
    ("no date here", None),
])
def test_dates(value, iso):
    assert normalise_date(value) == iso

"""Hostile but real-looking document shapes, generated at any size (issue 17).

Each is a shape publishers really serve, in our own words: a statistical release pasted
as one line of figures, a 3,000-page PDF volume, a GOV.UK index page of links, a Markdown
data table, a GOV.UK content item whose body is a whole annual report, a PDF table of
pound figures. ``bench/hostile.py --ingest`` times a ``kb ingest`` of each at full size;
``tests/test_bounded_documents.py`` ingests small ones under small caps.
"""
from __future__ import annotations

import json
from pathlib import Path

TRUSTS = ["Northfield", "Ashby Vale", "Kingsmere", "Harrow Cross", "Bramley", "Eastwick", "Old Quay", "Fenby"]
SERVICES = ["community nursing", "intermediate care", "home care", "reablement", "mental health liaison",
            "discharge to assess", "respiratory outreach", "falls response"]

FULL_SIZES = {"pound_line": 5.6, "long_pdf": 3000, "links_html": 200_000, "markdown_table": 1.0,
              "govuk_json": 10.0, "pound_table_pdf": 10_000}


def pound_line(path: Path, mb: float) -> Path:
    """One line of repeated "£5.3 billion " (a figure column pasted without line breaks)."""
    phrase = "£5.3 billion "
    path.write_text(phrase * int(mb * 1_000_000 // len(phrase.encode())), encoding="utf-8")
    return path


def _paragraph(n: int) -> str:
    t, s = TRUSTS[n % len(TRUSTS)], SERVICES[(n // 3) % len(SERVICES)]
    return (f"{n}.{n % 9 + 1} The {t} partnership told us that {s} was stretched in the winter of "
            f"{2015 + n % 9}. Staff shortages meant that patients waited longer than they should for a "
            f"package of care, and the board could not plan beyond one year because funding arrived late. "
            f"Witnesses said the {s} team relied on agency staff for {10 + n % 40} per cent of its shifts.")


def long_pdf(path: Path, pages: int) -> Path:
    """A public-inquiry-sized volume: a running header, numbered paragraphs, a page footer."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=10)
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.set_xy(10, 8)
        pdf.cell(0, 5, "Inquiry into Community Care Volume 1")
        pdf.set_xy(10, 20)
        pdf.multi_cell(0, 5, "\n\n".join(_paragraph(page * 3 + k) for k in range(3)))
        pdf.set_xy(10, 285)
        pdf.cell(0, 5, str(page), align="C")
    pdf.output(str(path))
    return path


def links_html(path: Path, links: int) -> Path:
    """A GOV.UK-style index page: one list of ``links`` links to publications."""
    items = "".join(f'<li><a href="/government/statistics/care-{i}">Care data {i}, '
                    f'{TRUSTS[i % len(TRUSTS)]}</a></li>' for i in range(links))
    path.write_text(f"<html><head><title>All publications</title></head><body><main><h1>All publications</h1>"
                    f"<ul>{items}</ul></main></body></html>", encoding="utf-8")
    return path


def markdown_table(path: Path, mb: float) -> Path:
    """A data annex as one Markdown table: local authority, year, spend, delayed days."""
    rows = ["# Annex B: Spending by area", "", "| Area | Year | Spend | Delayed days | Notes |",
            "|---|---|---|---|---|"]
    size, i = 0, 0
    while size < mb * 1_000_000:
        row = (f"| {TRUSTS[i % 8]} {i // 8} | {2014 + i % 10}-{15 + i % 10} | £{(i % 97) + 1}.{i % 10}m | "
               f"{1000 + i * 7 % 5000} | provisional |")
        rows.append(row)
        size += len(row.encode()) + 1
        i += 1
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def govuk_json(path: Path, mb: float) -> Path:
    """A GOV.UK content item whose HTML body is a whole report (headings, paragraphs, figures)."""
    parts, size, n = [], 0, 0
    while size < mb * 1_000_000:
        if n % 20 == 0:
            part = f"<h2>Chapter {n // 20 + 1}: {SERVICES[(n // 20) % len(SERVICES)].capitalize()}</h2>"
        else:
            part = f"<p>{_paragraph(n)} The programme cost £{n % 50 + 1}.{n % 10} million in {2016 + n % 8}.</p>"
        parts.append(part)
        size += len(part.encode())
        n += 1
    item = {"base_path": "/government/publications/community-care-annual-report",
            "title": "Community care annual report", "document_type": "independent_report",
            "first_published_at": "2024-03-01T09:30:00Z", "description": "The annual report of the programme.",
            "details": {"body": "".join(parts)}, "links": {"organisations": [{"title": "Department of Health"}]}}
    path.write_text(json.dumps(item), encoding="utf-8")
    return path


def pound_table_pdf(path: Path, figures: int) -> Path:
    """A statistical release table: rows of trusts with five £ columns, 50 rows a page."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=8)
    rows = (figures + 4) // 5
    for r in range(rows):
        if r % 50 == 0:
            pdf.add_page()
            pdf.set_xy(10, 10)
            pdf.cell(0, 5, "Table 4: Spending by trust, £ million, 2019-20 to 2023-24")
            pdf.set_xy(10, 18)
        cells = [f"{TRUSTS[r % 8]} NHS Trust {r}"] + [f"£{(r * 7 + k * 13) % 900 + 10}.{k}m" for k in range(5)]
        for k, cell in enumerate(cells):
            pdf.cell(60 if k == 0 else 25, 5, cell)
        pdf.ln(5)
    pdf.output(str(path))
    return path


MAKERS = {"pound_line": (pound_line, "txt"), "long_pdf": (long_pdf, "pdf"), "links_html": (links_html, "html"),
          "markdown_table": (markdown_table, "md"), "govuk_json": (govuk_json, "json"),
          "pound_table_pdf": (pound_table_pdf, "pdf")}


def make(name: str, folder: Path, size: float | None = None) -> Path:
    """The shape ``name`` at ``size`` (its full size by default) as ``folder/<name>.<ext>``."""
    maker, ext = MAKERS[name]
    folder.mkdir(parents=True, exist_ok=True)
    size = FULL_SIZES[name] if size is None else size
    return maker(folder / f"{name}.{ext}", int(size) if isinstance(FULL_SIZES[name], int) else size)

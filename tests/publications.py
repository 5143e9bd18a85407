"""Fixtures of real publication layouts, written in our own words, rendered to PDF with fpdf2.

Each ``tests/fixtures/publications/*.txt`` holds the text layer of a small publication, page
by page (``<<<PAGE>>>`` breaks the pages), as the real ones print it: covers, running headers
and footers, words hyphenated across lines, tags split over lines. ``as_pdf`` renders one to a
PDF so tests read it through the same text extraction as a real file.
"""
from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from nlp.layout import build_layout
from nlp.models import SourceDocument
from nlp.segment import sentence_spans
from nlp.text import load_document

FIXTURES = Path(__file__).parent / "fixtures" / "publications"


def pages_of(name: str) -> list[str]:
    text = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")
    return [p.strip("\n") for p in text.split("<<<PAGE>>>")]


def as_pdf(name: str, folder: Path) -> Path:
    """The fixture rendered one line per line, one page per page."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_font("helvetica", size=10)
    for page in pages_of(name):
        pdf.add_page()
        y = 15
        for line in page.splitlines():
            pdf.set_xy(15, y)
            pdf.cell(180, 5, line.encode("latin-1", "replace").decode("latin-1"))
            y += 5.5
    out = folder / f"{name}.pdf"
    pdf.output(str(out))
    return out


def loaded(name: str, folder: Path) -> SourceDocument:
    return load_document(as_pdf(name, folder))


def layout_of(doc: SourceDocument):
    layout = build_layout(doc)
    return layout, sentence_spans(layout)

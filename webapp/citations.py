"""Citations a reference manager can import: RIS (Zotero, EndNote, Mendeley) and BibTeX.

One ``Cited`` per document (a document page's export) or per passage (a result list's
export, which carries the page: the printed number as ``SP``/``pages``, the PDF index in a
note). Document text is data here, never markup: RIS is line-based (line breaks in a value
are flattened), and BibTeX's special characters are escaped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from kb.search.engine import cite_page
from webapp.present import paper_number


@dataclass(frozen=True)
class Cited:
    doc_id: str
    title: str | None
    publisher: str | None
    published: str | None
    url: str  # the publisher's address, or the stored copy in Refrain for a local file
    doc_type: str | None = None
    identifiers: dict | None = None
    page: int | None = None  # PDF page index (1-based)
    page_label: str | None = None  # the number printed on it


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def _number(ids: dict | None) -> str | None:
    return paper_number(ids)


def _note(c: Cited) -> str | None:
    return cite_page(c.page, c.page_label) if c.page else None


def ris(items: list[Cited]) -> str:
    """RIS records, one per item (TY RPRT: every document Refrain holds is a report or paper)."""
    out = []
    for c in items:
        lines = [("TY", "RPRT"), ("TI", _one_line(c.title) or "Untitled document")]
        if c.publisher:
            lines += [("AU", _one_line(c.publisher)), ("PB", _one_line(c.publisher))]
        if c.published:
            lines.append(("PY", c.published[:4]))
            parts = (c.published[:10].split("-") + ["", ""])[:3]  # RIS dates: 'YYYY/MM/DD/', parts may be empty
            lines.append(("DA", "/".join(parts) + "/"))
        if _number(c.identifiers):
            lines.append(("M1", _number(c.identifiers)))
        if c.page:
            lines.append(("SP", c.page_label or str(c.page)))
            lines.append(("N1", _note(c)))
        lines += [("UR", c.url), ("ID", c.doc_id), ("ER", "")]
        out.append("\r\n".join(f"{tag}  - {_one_line(value)}" for tag, value in lines))
    return "\r\n".join(out) + "\r\n"


_BIB_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
                "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _bib(value: str | None) -> str:
    return "".join(_BIB_SPECIAL.get(ch, ch) for ch in _one_line(value))


def bibtex(items: list[Cited]) -> str:
    """BibTeX ``@techreport`` entries, keyed by publisher, year and document (and page)."""
    out, seen = [], set()
    for c in items:
        word = re.sub(r"[^A-Za-z]", "", (c.publisher or "refrain").split()[0] if c.publisher else "refrain") or "refrain"
        key = f"{word.lower()}{(c.published or 'nd')[:4]}{c.doc_id[:6]}" + (f"p{c.page}" if c.page else "")
        while key in seen:
            key += "x"
        seen.add(key)
        fields = [("title", "{" + _bib(c.title or "Untitled document") + "}")]
        if c.publisher:
            fields += [("author", "{" + _bib(c.publisher) + "}"), ("institution", _bib(c.publisher))]
        if c.published:
            fields.append(("year", c.published[:4]))
            if len(c.published) >= 7:
                fields.append(("month", str(int(c.published[5:7]))))
        if _number(c.identifiers):
            fields.append(("number", _bib(_number(c.identifiers))))
        if c.page:
            fields += [("pages", _bib(c.page_label or str(c.page))), ("note", _bib(_note(c)))]
        fields.append(("url", _bib(c.url)))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        out.append(f"@techreport{{{key},\n{body}\n}}")
    return "\n\n".join(out) + "\n"

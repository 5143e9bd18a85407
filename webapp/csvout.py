"""CSV exports (search hits, funding figures, recurrence groups), safe to open in a spreadsheet.

A cell that starts with ``= + - @`` (or a tab or carriage return) is a formula to Excel and
LibreOffice; document text is not trusted, so such a cell gets a leading apostrophe, the
OWASP-recommended guard. Numbers we wrote ourselves (amounts, pages, years) are left as numbers.
"""
from __future__ import annotations

import csv
import io
from typing import Iterable

from flask import Response

from kb.analysis.models import FundingFigure

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(header: list[str], rows: Iterable[Iterable]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable], chunk: int = 500) -> Response:
    """A download: ``text/csv`` with a UTF-8 BOM so spreadsheets read '£' right, streamed
    ``chunk`` rows at a time, so a download of any size holds only one chunk in memory."""
    def body():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        out.write("\ufeff")
        writer.writerow(header)
        for n, row in enumerate(rows, 1):
            writer.writerow([safe_cell(v) for v in row])
            if n % chunk == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    response = Response(body(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


SEARCH_COLUMNS = ["rank", "title", "publisher", "source", "published", "page", "doc_type", "themes", "text",
                  "url", "doc_id", "passage_id", "score"]


def search_rows(hits, first: int = 1):
    for rank, h in enumerate(hits, first):
        yield [rank, h.title, h.publisher, h.source, h.published, h.page, h.doc_type, ";".join(h.themes), h.text,
               h.url, h.doc_id, h.passage_id, round(h.score, 6)]


FUNDING_COLUMNS = ["amount_gbp", "mention", "per_unit", "subject", "period", "kind", "title", "published", "year",
                   "page", "source", "sentence", "url", "doc_id"]


def funding_rows(figures: Iterable[FundingFigure]):
    """One row per figure: the ``FUNDING_COLUMNS`` fields of each ``FundingFigure``."""
    for f in figures:
        yield [getattr(f, column) for column in FUNDING_COLUMNS]


RECURRENCE_COLUMNS = ["group_id", "kind", "label", "first_seen", "last_seen", "years", "occurrences",
                      "occurrence", "published", "title", "page", "text", "responses", "doc_id", "item_id"]


def recurrence_rows(groups):
    """One row per occurrence (a group's facts repeated), so a spreadsheet can sort and filter."""
    for g in groups:
        for n, o in enumerate(g["occurrences"], 1):
            responses = "; ".join(f"{r['stance']}" + (f" (target {r['target_date']})" if r.get("target_date") else "")
                                  for r in o.get("responses", []))
            yield [g["id"], g["kind"], g["label"], g["first_seen"], g["last_seen"],
                   " ".join(str(y) for y in g["years"]), g["count"], n, o["published"], o["title"], o["page"],
                   o["text"], responses, o["doc_id"], o.get("recommendation_id") or o.get("finding_id")]

"""Read-only aggregates for browsing: barrier themes over the years, and funding figures.

Plain SQL over the store's connection, returning read models (``kb.analysis.models``) that the
web app renders, exports and serialises with ``to_json()``. Nothing here writes; every function
takes a ``Store``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator, NamedTuple

from kb.analysis.models import (BarrierOverview, BarrierThemeDetail, FundingFigure, FundingKindTotal, FundingYear, ThemeDocument,
                                ThemeOverview, ThemeSentence, YearCount)
from kb.vocabulary import FUNDING_KINDS, THEMES
from kb.search.engine import Filters
from kb.store.db import Store

FUNDING_SORTS = ("amount", "year", "subject", "kind", "document")
_FUNDING_ORDER_SQL = {
    "amount": "f.amount_gbp",
    "year": "d.year",
    "subject": "LOWER(COALESCE(f.subject, ''))",
    "kind": "f.kind",
    "document": "LOWER(COALESCE(d.title, ''))",
}


def _themes_of(row) -> list[str]:
    """A barrier sentence's themes: it counts once under each (as in search facets)."""
    try:
        themes = json.loads(row["themes"] or "[]")
    except (json.JSONDecodeError, TypeError):
        themes = []
    return sorted(set(themes or [row["theme"]]))


def _barrier_rows(store: Store) -> list:
    return store.conn.execute(
        """SELECT b.id, b.doc_id, b.theme, b.themes, b.sentence, b.page, b.score, b.group_id,
                  d.title, d.published, d.year, d.source, d.url, d.publisher
           FROM barriers b JOIN documents d ON d.id = b.doc_id""").fetchall()


def year_span(store: Store) -> list[int]:
    """Every year from the first to the last dated document: the common axis of the charts."""
    lo, hi = store.conn.execute("SELECT MIN(year), MAX(year) FROM documents").fetchone()
    return list(range(lo, hi + 1)) if lo is not None else []


def _per_year(doc_ids: dict[int, list[str]], years: list[int]) -> list[YearCount]:
    """Each year's sentences and distinct documents, from the document id of every sentence."""
    return [YearCount(y, len(doc_ids.get(y, ())), len(set(doc_ids.get(y, ())))) for y in years]


def barrier_overview(store: Store) -> BarrierOverview:
    """Every theme's barrier count per year (``years`` is the shared axis; undated sentences
    are counted in ``undated``), with totals and how many documents raise it."""
    years = year_span(store)
    def empty(t: str) -> dict:
        return {"theme": t, "total": 0, "undated": 0, "documents": set(), "by_year": {}}

    themes = {t: empty(t) for t in THEMES}
    for row in _barrier_rows(store):
        for t in _themes_of(row):
            if t not in themes:  # a theme added to the taxonomy file
                themes[t] = empty(t)
            entry = themes[t]
            entry["total"] += 1
            entry["documents"].add(row["doc_id"])
            if row["year"] is None:
                entry["undated"] += 1
            else:
                entry["by_year"].setdefault(row["year"], []).append(row["doc_id"])
    out = [ThemeOverview(theme=e["theme"], total=e["total"], documents=len(e["documents"]), undated=e["undated"],
                         by_year=_per_year(e["by_year"], years)) for e in themes.values()]
    out.sort(key=lambda e: (-e.total, e.theme))
    return BarrierOverview(years=years, themes=out)


def barrier_theme(store: Store, theme: str, sentences: int = 10, documents: int = 10) -> BarrierThemeDetail:
    """One theme: its count per year, its strongest evidence sentences and the documents that
    raise it most often. The strongest evidence is the sentences filed mainly under the theme,
    highest barrier score first, then those that only touch on it (one per sentence text): a
    barrier score says how surely a sentence states an obstacle, not that it is this one."""
    years = year_span(store)
    by_year: dict[int, list[str]] = {}
    undated = 0
    matching = [r for r in _barrier_rows(store) if theme in _themes_of(r)]
    docs: dict[str, list] = {}  # doc_id -> [its first row, count]
    for r in matching:
        if r["year"] is None:
            undated += 1
        else:
            by_year.setdefault(r["year"], []).append(r["doc_id"])
        docs.setdefault(r["doc_id"], [r, 0])[1] += 1
    seen: set[str] = set()
    strongest = []
    for r in sorted(matching, key=lambda r: (r["theme"] != theme, -r["score"], r["published"] or "", r["id"])):
        key = " ".join(r["sentence"].lower().split())
        if key in seen:
            continue
        seen.add(key)
        strongest.append(ThemeSentence(
            barrier_id=r["id"], sentence=r["sentence"], score=round(r["score"], 4), themes=_themes_of(r),
            doc_id=r["doc_id"], title=r["title"], published=r["published"], page=r["page"], source=r["source"],
            url=r["url"], publisher=r["publisher"], group_id=r["group_id"], main_theme=r["theme"]))
        if len(strongest) >= sentences:
            break
    top_docs = [ThemeDocument(doc_id=r["doc_id"], title=r["title"], published=r["published"], source=r["source"],
                              url=r["url"], count=count) for r, count in docs.values()]
    top_docs = sorted(top_docs, key=lambda d: (-d.count, d.published or "", d.doc_id))[:documents]
    return BarrierThemeDetail(theme=theme, total=len(matching), documents=len(docs), undated=undated,
                              by_year=_per_year(by_year, years), sentences=strongest,
                              top_documents=top_docs)


@dataclass(frozen=True)
class FundingQuery:
    """Which funding figures, in which order: every field optional."""
    kind: str | None = None
    source: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    q: str | None = None  # words that must appear in the subject or the sentence
    doc_id: str | None = None
    sort: str = "amount"
    order: str = "desc"
    distinct: bool = True  # one row per figure: a document's repeats of it are its mentions

    def where(self) -> tuple[str, list]:
        # Source and years filter documents exactly as search does.
        documents, args = Filters(source=self.source, year_from=self.year_from, year_to=self.year_to).sql()
        clauses = [documents]
        if self.distinct:
            clauses.append(f"f.id IN (SELECT MIN(g.id) FROM funding g {'WHERE g.doc_id = ?' if self.doc_id else ''} "
                           f"GROUP BY {FIGURE_KEY.format(t='g')})")
            args.extend([self.doc_id] if self.doc_id else [])
        if self.kind:
            clauses.append("f.kind = ?")
            args.append(self.kind)
        if self.doc_id:
            clauses.append("f.doc_id = ?")
            args.append(self.doc_id)
        for word in (self.q or "").split():
            clauses.append("(LOWER(COALESCE(f.subject, '')) LIKE ? ESCAPE '\\' OR LOWER(f.sentence) LIKE ? ESCAPE '\\')")
            pattern = "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            args += [pattern, pattern]
        return " AND ".join(clauses), args


def funding_figures(store: Store, query: FundingQuery = FundingQuery()) -> list[FundingFigure]:
    """Every funding figure matching ``query``, sorted (ties broken by year, then id)."""
    return list(iter_funding_figures(store, query))


def iter_funding_figures(store: Store, query: FundingQuery = FundingQuery(), offset: int = 0,
                         limit: int = -1) -> Iterator[FundingFigure]:
    """``funding_figures`` one at a time (a streamed CSV holds one chunk, not 357,142 figures);
    ``offset``/``limit`` for one page. The order is found on ids alone, then only the rows
    wanted are read, so SQLite never sorts whole sentences."""
    if query.sort not in FUNDING_SORTS:
        raise ValueError(f"unknown sort {query.sort!r}; expected one of {', '.join(FUNDING_SORTS)}")
    where, args = query.where()
    rows = store.conn.execute(
        f"""WITH chosen AS (SELECT f.id AS fid, ROW_NUMBER() OVER (ORDER BY {_funding_order(query)}) AS n
                            FROM funding f JOIN documents d ON d.id = f.doc_id WHERE {where}
                            ORDER BY n LIMIT ? OFFSET ?)
            SELECT f.id, f.amount_gbp, f.mention, f.subject, f.period, f.kind, f.per_unit, f.sentence, f.page,
                   f.doc_id, d.title, d.published, d.year, d.source, d.url, d.publisher
            FROM chosen JOIN funding f ON f.id = chosen.fid JOIN documents d ON d.id = f.doc_id
            ORDER BY chosen.n""", [*args, limit, offset])
    counts: dict[str, dict] = {}  # doc_id -> figure key -> mentions, read once per document shown
    for r in rows:
        mentions = 1
        if query.distinct:
            if r["doc_id"] not in counts:
                counts[r["doc_id"]] = {tuple(c[:3]): c[3] for c in store.conn.execute(
                    f"SELECT {_KEY_VALUES}, COUNT(*) FROM funding g WHERE g.doc_id = ? GROUP BY {_KEY_VALUES}",
                    (r["doc_id"],))}
            mentions = counts[r["doc_id"]].get(
                (r["amount_gbp"], (r["subject"] or "").lower(), r["period"] or ""), 1)
        yield FundingFigure(**dict(r, per_unit=bool(r["per_unit"])), mentions=mentions)


# What makes two rows of a document one figure: the amount, the subject and the period (short
# keys: grouping by whole sentences took minutes on a document of 357,142 figures).
FIGURE_KEY = "{t}.doc_id, {t}.amount_gbp, LOWER(COALESCE({t}.subject, '')), COALESCE({t}.period, '')"
_KEY_VALUES = "g.amount_gbp, LOWER(COALESCE(g.subject, '')), COALESCE(g.period, '')"


def _funding_order(query: FundingQuery) -> str:
    direction = "DESC" if query.order == "desc" else "ASC"
    return f"{_FUNDING_ORDER_SQL[query.sort]} {direction} NULLS LAST, d.year, f.id"


class _YearAmount(NamedTuple):
    year: int | None
    per_unit: bool
    amount_gbp: float


def funding_slice(store: Store, query: FundingQuery, offset: int, limit: int
                  ) -> tuple[int, list[FundingFigure], list[FundingYear]]:
    """(how many figures match, ``limit`` of them from ``offset`` in ``query``'s order, totals
    by year of all of them): one page without every figure in memory (357,142 figures of one
    hostile document once took the server to 1.7 GB)."""
    where, args = query.where()
    total = store.conn.execute(
        f"SELECT COUNT(*) FROM funding f JOIN documents d ON d.id = f.doc_id WHERE {where}", args).fetchone()[0]
    page = list(iter_funding_figures(store, query, offset, limit))
    years = (_YearAmount(r[0], bool(r[1]), r[2]) for r in store.conn.execute(  # the same order: the same sums
        f"""SELECT d.year, f.per_unit, f.amount_gbp FROM funding f JOIN documents d ON d.id = f.doc_id
            WHERE {where} ORDER BY {_funding_order(query)}""", args))
    return total, page, funding_by_year(years)


def funding_by_year(figures: Iterable[FundingFigure]) -> list[FundingYear]:
    """Totals and counts per document year of ``figures`` (per-unit amounts, like '£3,000 per
    person', are counted but not added up); every year between the first and last appears."""
    totals: dict[int, list] = {}  # year -> [total_gbp, count]
    for f in figures:
        if f.year is None:
            continue
        t = totals.setdefault(f.year, [0.0, 0])
        t[1] += 1
        if not f.per_unit:
            t[0] += f.amount_gbp
    if not totals:
        return []
    lo, hi = min(totals), max(totals)
    return [FundingYear(y, *totals.get(y, (0.0, 0))) for y in range(lo, hi + 1)]


def funding_by_kind(store: Store, query: FundingQuery) -> list[FundingKindTotal]:
    """Count and total of the figures matching ``query``, kind by kind, and by year within each
    kind: the page charts each kind on its own instead of adding different kinds together."""
    where, args = query.where()
    rows = store.conn.execute(
        f"""SELECT f.kind, d.year, COUNT(*), SUM(CASE WHEN f.per_unit THEN 0 ELSE f.amount_gbp END),
                   SUM(CASE WHEN f.per_unit THEN 1 ELSE 0 END)
            FROM funding f JOIN documents d ON d.id = f.doc_id WHERE {where}
            GROUP BY f.kind, d.year""", args).fetchall()
    kinds: dict[str, list] = {}
    for kind, year, count, total, per_unit in rows:
        k = kinds.setdefault(kind, [0, 0.0, 0, {}])
        k[0] += count
        k[1] += total or 0.0
        k[2] += per_unit
        if year is not None:
            k[3][year] = (total or 0.0, count)
    order = [k for k in FUNDING_KINDS if k in kinds] + sorted(set(kinds) - set(FUNDING_KINDS))
    out = []
    for kind in order:
        count, total, per_unit, years = kinds[kind]
        by_year = [FundingYear(y, *years.get(y, (0.0, 0))) for y in range(min(years), max(years) + 1)] if years else []
        out.append(FundingKindTotal(kind, count, total, per_unit, by_year))
    return out


def funding_kinds(store: Store) -> list[str]:
    """Kinds present in the knowledge base, in the configured order."""
    present = {r[0] for r in store.conn.execute("SELECT DISTINCT kind FROM funding")}
    return [k for k in FUNDING_KINDS if k in present] + sorted(present - set(FUNDING_KINDS))


def known_gaps(store: Store) -> dict:
    """What the data is missing, for the about page: undated and untitled documents, sources
    with no documents, documents where nothing was extracted, and recorded failures."""
    conn = store.conn
    undated = conn.execute("SELECT COUNT(*) FROM documents WHERE year IS NULL").fetchone()[0]
    untitled = conn.execute("SELECT COUNT(*) FROM documents WHERE title IS NULL OR title = ''").fetchone()[0]
    nothing = conn.execute(
        """SELECT COUNT(*) FROM documents d WHERE
             NOT EXISTS (SELECT 1 FROM barriers b WHERE b.doc_id = d.id) AND
             NOT EXISTS (SELECT 1 FROM recommendations r WHERE r.doc_id = d.id) AND
             NOT EXISTS (SELECT 1 FROM funding f WHERE f.doc_id = d.id) AND
             NOT EXISTS (SELECT 1 FROM responses s WHERE s.doc_id = d.id)""").fetchone()[0]
    unlinked = conn.execute("SELECT COUNT(*) FROM responses WHERE recommendation_id IS NULL").fetchone()[0]
    failures = conn.execute("SELECT COUNT(*) FROM failures").fetchone()[0]
    return {"undated_documents": undated, "untitled_documents": untitled, "documents_with_nothing_extracted": nothing,
            "unlinked_responses": unlinked, "failed_files": failures}

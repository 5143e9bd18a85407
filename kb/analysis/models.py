"""Typed read models: what kb's analysis hands to the pages, the CSV writers and the API.

Each is a frozen dataclass whose fields, in order, are its JSON object (``to_json()``); the
web app's OpenAPI document describes its responses from these same fields, so a field added
here is served, exported and documented at once. Field names and order are the JSON contract:
never rename or reorder one.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


def _json(value: Any) -> Any:
    if isinstance(value, ReadModel):
        return value.to_json()
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


class ReadModel:
    """Base of the read models: ``to_json()`` writes every field not marked ``json=False``."""

    def to_json(self) -> dict:
        return {f.name: _json(getattr(self, f.name)) for f in fields(self)  # type: ignore[arg-type]
                if f.metadata.get("json", True)}


def internal(**kwargs: Any) -> Any:
    """A field the pages use but the JSON leaves out."""
    return field(metadata={"json": False}, **kwargs)


# --- barriers ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class YearCount(ReadModel):
    """A year's barrier sentences (``count``) and the documents they come from: one long
    inquiry volume can hold more sentences on a theme than a decade of short reports."""
    year: int
    count: int
    documents: int = 0


@dataclass(frozen=True)
class ThemeOverview(ReadModel):
    """One theme's barrier sentences: in all, in how many documents, undated, and per year."""
    theme: str
    total: int
    documents: int
    undated: int
    by_year: list[YearCount]


@dataclass(frozen=True)
class BarrierOverview(ReadModel):
    """Every theme over the common axis ``years`` (first to last dated document)."""
    years: list[int]
    themes: list[ThemeOverview]


@dataclass(frozen=True)
class ThemeSentence(ReadModel):
    """One of a theme's strongest evidence sentences, with the document it comes from;
    ``main_theme`` is the theme the classifier found likeliest for it."""
    barrier_id: int
    sentence: str
    score: float
    themes: list[str]
    doc_id: str
    title: str | None
    published: str | None
    page: int | None
    source: str | None
    url: str | None
    publisher: str | None
    group_id: str | None
    main_theme: str | None = None


@dataclass(frozen=True)
class ThemeDocument(ReadModel):
    """A document raising a theme, and how many of its sentences do."""
    doc_id: str
    title: str | None
    published: str | None
    source: str | None
    url: str | None
    count: int


@dataclass(frozen=True)
class BarrierThemeDetail(ReadModel):
    theme: str
    total: int
    documents: int
    undated: int
    by_year: list[YearCount]
    sentences: list[ThemeSentence]
    top_documents: list[ThemeDocument]


# --- funding ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FundingFigure(ReadModel):
    """An extracted funding figure with its document's facts (a row of the funding table)."""
    id: int
    amount_gbp: float
    mention: str
    subject: str | None
    period: str | None
    kind: str
    per_unit: bool
    sentence: str
    page: int | None
    doc_id: str
    title: str | None
    published: str | None
    year: int | None
    source: str | None
    url: str | None
    publisher: str | None
    mentions: int = 1  # how often the document states this figure (same amount, subject and period)


@dataclass(frozen=True)
class FundingYear(ReadModel):
    """Figures of one document year: how many, and the total of those not per unit."""
    year: int
    total_gbp: float
    count: int


@dataclass(frozen=True)
class FundingKindTotal(ReadModel):
    """Figures of one kind: how many, their total (per-unit amounts not added) and the same by
    year. Totals are only ever of one kind: an allocation plus a saving is no sum at all."""
    kind: str
    count: int
    total_gbp: float
    per_unit: int  # figures counted but not added ('£10 per person')
    by_year: list[FundingYear]


# --- one document -----------------------------------------------------------------------------

@dataclass(frozen=True)
class BarrierItem(ReadModel):
    id: int
    theme: str
    themes: list[str]
    sentence: str
    page: int | None
    score: float


@dataclass(frozen=True)
class LinkedResponse(ReadModel):
    """A government response linked to a recommendation."""
    doc_id: str
    title: str | None
    published: str | None
    stance: str
    target_date: str | None
    text: str
    page: int | None
    responds_to: str | None
    link_method: str | None
    responder: str | None  # the body that answers, when it is not the government
    stance_evidence: str | None  # the sentence that decided the stance
    implementation: str | None  # implemented | in_progress | not_started | superseded, where said


@dataclass(frozen=True)
class RecommendationItem(ReadModel):
    id: str
    seq: int
    label: str | None
    text: str
    actor: str | None
    deadline: str | None
    page: int | None
    group_id: str | None
    responses: list[LinkedResponse]  # the government's answers to it


@dataclass(frozen=True)
class FundingItem(ReadModel):
    id: int
    amount_gbp: float
    mention: str
    subject: str | None
    period: str | None
    kind: str
    sentence: str
    page: int | None
    per_unit: bool


@dataclass(frozen=True)
class ResponseItem(ReadModel):
    id: int
    responds_to: str | None
    stance: str
    text: str
    target_date: str | None
    page: int | None
    responder: str | None
    stance_evidence: str | None
    implementation: str | None


@dataclass(frozen=True)
class PageText(ReadModel):
    page: int
    text: str
    truncated: bool = False  # cut at kb.analysis.documents.PAGE_TEXT_MAX characters
    label: str | None = None  # the number printed on the page (nlp.page_labels)


@dataclass(frozen=True)
class DocumentDetail(ReadModel):
    """A stored document's metadata and every item extracted from it; ``page_texts`` (its
    text page by page) is for the document page, not the JSON."""
    id: str
    title: str | None
    url: str | None
    source: str | None
    published: str | None
    year: int | None
    doc_type: str | None
    publisher: str | None
    format: str | None
    pages: int | None
    identifiers: dict
    ingested_at: str | None
    barriers: list[BarrierItem]
    recommendations: list[RecommendationItem]
    funding: list[FundingItem]
    responses: list[ResponseItem]
    # One part of the items (``?part=N``): ``per_part`` of each kind; ``totals`` of each kind in all.
    totals: dict = field(default_factory=dict)
    part: int = 1
    parts: int = 1
    per_part: int = 0
    page_texts: list[PageText] = internal(default_factory=list)
    # {"67": "49"}: the number printed on each PDF page that has one (nlp.page_labels)
    page_labels: dict = field(default_factory=dict)

    def cite_page(self, page: int | None) -> str:
        """'p. 49 (PDF p. 67)' for one of this document's pages."""
        from nlp.page_labels import cite_page

        return cite_page(page, self.page_labels.get(str(page))) if page else ""


@dataclass(frozen=True)
class DocumentSummary(ReadModel):
    """One row of the document list (``/documents``, ``/api/documents``)."""
    id: str
    title: str | None
    publisher: str | None
    source: str
    doc_type: str | None
    published: str | None
    year: int | None
    format: str | None
    pages: int | None
    url: str | None
    identifiers: dict
    counts: dict  # {"barriers", "recommendations", "funding", "responses"}


@dataclass(frozen=True)
class DocumentList(ReadModel):
    """One page of the document list with the choices its filters offer."""
    total: int
    page: int
    pages: int
    k: int
    sort: str
    order: str
    filters: dict
    results: list[DocumentSummary]
    sources: list[dict]  # [{"source", "count"}]: only sources that have documents
    doc_types: list[dict]  # [{"doc_type", "count"}]
    years: list[dict]  # [{"year", "count"}]


@dataclass(frozen=True)
class GroupResponse(ReadModel):
    """A government response linked to a recurrence group's recommendation."""
    id: int
    recommendation_id: str
    doc_id: str
    title: str | None
    published: str | None
    stance: str
    target_date: str | None
    page: int | None


# --- shapes of the recurrence and lifecycle lists (``kb recurrences|lifecycle --json``) --------
# Built as dicts by kb.analysis.recurrence and kb.analysis.lifecycle; these name their fields
# for the API's description.

@dataclass(frozen=True)
class Occurrence(ReadModel):
    """One time a recurring recommendation (``recommendation_id``) or finding (``finding_id``)
    was made."""
    doc_id: str
    title: str | None
    published: str | None
    page: int | None
    text: str
    source: str | None
    url: str | None
    responses: list[LinkedResponse]
    recommendation_id: str | None = None
    finding_id: str | None = None
    label: str | None = None  # a recommendation's printed label
    restates: str | None = None  # the earlier recommendation it restates, when it says so
    theme: str | None = None  # a finding's barrier theme


@dataclass(frozen=True)
class RecurrenceGroup(ReadModel):
    id: str
    kind: str
    label: str
    years: list[int]
    key_phrases: list[str]  # the rare terms its members share
    why: str  # why its members were grouped, in words
    first_seen: int | None
    last_seen: int | None
    count: int
    occurrences: list[Occurrence]


@dataclass(frozen=True)
class LifecycleRecommendation(ReadModel):
    doc_id: str
    title: str | None
    published: str | None
    label: str | None
    text: str
    page: int | None
    actor: str | None
    deadline: str | None
    source: str | None
    url: str | None
    recommendation_id: str


@dataclass(frozen=True)
class LifecycleEntry(ReadModel):
    """A recommendation with the government responses linked to it."""
    recommendation: LifecycleRecommendation
    responses: list[LinkedResponse]
    group_id: str | None

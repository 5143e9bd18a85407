"""The typed records that cross stage boundaries: a loaded document in, extractions out.

No spaCy ``Doc`` or loose dict leaves ``nlp/``; ``kb/`` stores exactly these fields.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class SourceDocument:
    """Text of one file, page by page, before any analysis.

    ``pages`` holds one string per PDF page; unpaged formats (HTML, Markdown, text, JSON)
    have a single entry and ``paged`` False, so their extractions carry ``page=None``.
    """

    path: str
    format: str  # pdf | html | markdown | text | govuk-json
    pages: list[str]
    paged: bool
    title: str | None = None
    published: str | None = None  # ISO date YYYY-MM-DD (or YYYY-MM / YYYY when that is all we know)
    meta: dict = field(default_factory=dict)

    def page_number(self, index: int) -> int | None:
        return index + 1 if self.paged else None

    @property
    def text(self) -> str:
        return "\n\n".join(self.pages)


@dataclass
class Barrier:
    theme: str
    sentence: str
    page: int | None
    score: float
    themes: list[str] = field(default_factory=list)


@dataclass
class Recommendation:
    text: str
    actor: str | None
    deadline: str | None
    label: str | None
    page: int | None


@dataclass
class Funding:
    amount_gbp: float
    mention: str
    subject: str | None
    period: str | None
    kind: str
    sentence: str
    page: int | None
    per_unit: bool = False


@dataclass
class Response:
    responds_to: str | None
    stance: str
    text: str
    target_date: str | None
    page: int | None
    responder: str | None = None
    stance_evidence: str | None = None
    implementation: str | None = None
    quoted: str | None = None


@dataclass
class ExtractedDocument:
    title: str | None
    published: str | None
    pages: int
    barriers: list[Barrier] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    funding: list[Funding] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    publisher: str | None = None  # read from the cover ('House of Commons Health and Social Care Committee')
    identifiers: dict = field(default_factory=dict)  # hc_number, hl_paper, command_paper_number, session, departments (NAO)
    doc_type: str | None = None  # committee_report | government_response, when the cover says
    notes: list[str] = field(default_factory=list)  # limits hit while extracting (e.g. the funding cap)

    def to_json(self) -> dict:
        """The ``kb extract --json`` contract."""
        return {
            "document": {"title": self.title, "published": self.published, "pages": self.pages,
                         "publisher": self.publisher, "identifiers": self.identifiers, "doc_type": self.doc_type},
            "barriers": [asdict(b) for b in self.barriers],
            "recommendations": [asdict(r) for r in self.recommendations],
            "funding": [asdict(f) for f in self.funding],
            "responses": [asdict(r) for r in self.responses],
            "notes": list(self.notes),
        }

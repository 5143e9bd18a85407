"""The crawl topic: what to ask each publisher for, kept as data so users can point elsewhere.

``crawler/data/topic.json`` is the default (health and social care integration); a crawl
reads another file when the Scrapy setting ``REFRAIN_TOPIC`` (or spider argument ``topic``)
names one. Spiders hold selectors; which queries, organisations and series they start from
lives here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_TOPIC = Path(__file__).resolve().parent / "data" / "topic.json"


@dataclass(frozen=True)
class GovukTopic:
    queries: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    document_types: tuple[str, ...] = ()
    page_size: int = 50


@dataclass(frozen=True)
class NaoTopic:
    listing_paths: tuple[str, ...] = ("/reports/",)
    search_terms: tuple[str, ...] = ()
    # Lower-case fragments a report title must contain one of; empty keeps every report.
    title_keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class NhsDigitalTopic:
    series: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParliamentTopic:
    committee_id: int = 127
    search_terms: tuple[str, ...] = ()
    page_size: int = 30
    treasury_minutes_collection: str | None = None


@dataclass(frozen=True)
class Topic:
    name: str
    date_from: str | None = None
    description: str = ""
    govuk: GovukTopic = field(default_factory=GovukTopic)
    nao: NaoTopic = field(default_factory=NaoTopic)
    nhs_digital: NhsDigitalTopic = field(default_factory=NhsDigitalTopic)
    parliament: ParliamentTopic = field(default_factory=ParliamentTopic)


def load_topic(path: str | Path | None = None) -> Topic:
    """Read a topic file (default: the packaged health and social care integration topic)."""
    data = json.loads(Path(path or DEFAULT_TOPIC).read_text(encoding="utf-8"))
    return Topic(
        name=data["name"],
        date_from=data.get("date_from"),
        description=data.get("description", ""),
        govuk=_section(GovukTopic, data.get("govuk")),
        nao=_section(NaoTopic, data.get("nao")),
        nhs_digital=_section(NhsDigitalTopic, data.get("nhs_digital")),
        parliament=_section(ParliamentTopic, data.get("parliament")),
    )


def _section(cls, values: dict | None):
    """Build one publisher's section, turning JSON lists into tuples (the topic is frozen)."""
    known = {name for name in cls.__dataclass_fields__}
    kwargs = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in (values or {}).items()
        if key in known
    }
    return cls(**kwargs)

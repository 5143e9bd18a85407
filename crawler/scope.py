"""Where a spider may go and what it keeps: host rewriting, ``since`` and publishers' dates.

Every spider knows its publisher's real hosts. ``base_url`` replaces all of them with one
origin, because the demo site serves every publisher's paths in one URL space; ``since``
drops documents published before a date. Both behave the same in every spider, so the logic
lives here once, as plain functions testable without Scrapy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit, urlunsplit

# The crawler keeps its own month table (nlp.dates holds the one every other stage uses):
# the import contract (.importlinter) forbids crawler -> nlp, so it cannot share it.
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\b")
_MONTH_DAY_YEAR = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_DMY_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_SESSION = re.compile(r"(\d{4})\s*(?:[-\u2013\u2014/]|to)\s*(\d{2,4})\b")


def parse_date(text: str | None) -> str | None:
    """Read a publisher's date ("2017-02-08T00:00:00Z", "8 February 2017", "25 Oct 2017",
    "Published: 8 February 2017", "08/02/2017") as ``YYYY-MM-DD``; None if there is none."""
    if not text:
        return None
    text = str(text)
    for pattern, order in (
        (_ISO, "ymd"),
        (_DAY_MONTH_YEAR, "dmy"),
        (_MONTH_DAY_YEAR, "mdy"),
        (_DMY_NUMERIC, "dmy"),
    ):
        for match in pattern.finditer(text):
            parts = dict(zip(order, match.groups()))
            month = parts["m"]
            month_number = int(month) if month.isdigit() else _MONTHS.get(month.lower())
            if month_number is None:
                continue
            try:
                return date(int(parts["y"]), month_number, int(parts["d"])).isoformat()
            except ValueError:
                continue
    return None


def parse_since(value: str | date | None) -> str | None:
    """Validate a ``since`` argument: ``YYYY-MM-DD`` (or a date) or nothing."""
    if value in (None, ""):
        return None
    if isinstance(value, (date, datetime)):
        return value.strftime("%Y-%m-%d")
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValueError(f"since must be a date as YYYY-MM-DD, not {value!r}") from None


def parse_session(text: str | None) -> str | None:
    """A parliamentary session as ``2016-17`` from "Session 2016–17", "2016-2017", "cm201617"."""
    if not text:
        return None
    match = _SESSION.search(text)
    if match:
        start, end = match.groups()
    else:
        compact = re.search(r"(?:cm|ld)?(\d{4})(\d{2})\b", text)
        if not compact:
            return None
        start, end = compact.groups()
    span = (int(end[-2:]) - int(start)) % 100
    if not 1 <= span <= 3:  # sessions last a year, sometimes two (2017-19)
        return None
    return f"{start}-{end[-2:]}"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Scope:
    """One spider's reach: its publisher's real origins, an optional replacement origin, and
    the earliest publication date it keeps.

    ``since`` is the user's argument; ``date_from`` the topic's floor, used when no ``since``
    is given.
    """

    hosts: tuple[str, ...]
    base_url: str | None = None
    since: str | None = None
    date_from: str | None = None

    def __post_init__(self) -> None:
        if self.base_url:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"base_url must be an http(s) URL, not {self.base_url!r}")
            object.__setattr__(self, "base_url", f"{parts.scheme}://{parts.netloc}")
        object.__setattr__(self, "since", parse_since(self.since))
        object.__setattr__(self, "date_from", parse_since(self.date_from))

    @property
    def earliest(self) -> str | None:
        """The date before which documents are dropped."""
        return self.since or self.date_from

    @property
    def allowed_domains(self) -> list[str]:
        """Scrapy's offsite filter: the base URL's host alone, or the real hosts."""
        if self.base_url:
            return [urlsplit(self.base_url).hostname]
        return sorted({urlsplit(host).hostname for host in self.hosts})

    @property
    def is_loopback(self) -> bool:
        return is_loopback(self.base_url)

    def url(self, path: str, host: str | None = None) -> str:
        """An absolute URL for a path on one of the real hosts (default: the first)."""
        if not path.startswith("/"):
            path = "/" + path
        return (self.base_url or host or self.hosts[0]) + path

    def rebase(self, url: str) -> str:
        """Move a URL on one of the real hosts onto the base URL; other URLs pass unchanged
        (and the offsite filter then drops them)."""
        if not self.base_url:
            return url
        parts = urlsplit(url)
        real = {urlsplit(host).hostname for host in self.hosts}
        if parts.hostname not in real:
            return url
        base = urlsplit(self.base_url)
        return urlunsplit((base.scheme, base.netloc, parts.path or "/", parts.query, ""))

    def keeps(self, published: str | None) -> bool:
        """True unless the document is known to be published before the earliest date."""
        return not (published and self.earliest and published < self.earliest)


def is_loopback(url: str | None) -> bool:
    """Whether a URL points at this machine (the demo site), where politeness can relax."""
    host = urlsplit(url).hostname if url else None
    return host in ("127.0.0.1", "localhost", "::1") or bool(host and host.startswith("127."))

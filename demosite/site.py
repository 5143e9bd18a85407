"""The demo website: built from ``samples/`` and served on 127.0.0.1 for the real spiders.

The demo imitates four publishers in one URL space (see ``samples/README.md``). Its PDFs are
rendered from text sources so the repository holds no binaries, and they are rendered
byte-for-byte deterministically, because every later stage is keyed by content hash: a rebuilt
site must give the same hashes, or a second ``kb demo`` would look like new documents.
"""
from __future__ import annotations

import contextlib
import email.utils
import hashlib
import io
import json
import logging
import mimetypes
import re
import shutil
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from fpdf import FPDF, XPos, YPos

from kb.config import SAMPLES_DIR
from demosite.siteapi import APIS

log = logging.getLogger(__name__)

PDF_SOURCE_SUFFIX = ".pdf.txt"
FIXED_CREATION_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)
PAGE_BREAK = "\f"

# The core PDF fonts only cover Windows-1252; these stand-ins keep the meaning of the few
# characters outside it that report prose tends to use.
_STAND_INS = {
    "\u2212": "-",  # minus sign
    "\u2011": "-",  # non-breaking hyphen
    "\u2010": "-",  # hyphen
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2192": "->",
    "\u2190": "<-",
    "\u2248": "~",
    "\u2260": "!=",
    "\u2032": "'",
    "\u2033": '"',
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u2713": "v",
}


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def build_site(dest: Path, samples: Path = SAMPLES_DIR) -> Path:
    """Copy ``samples/site`` to ``dest`` and render every PDF source into it; returns ``dest``.

    Files are only rewritten when their source is newer, so rebuilding into the same folder is
    close to free; rendering is deterministic, so a fresh build gives the same bytes.
    """
    dest = Path(dest)
    samples = Path(samples)
    site, pdf_src = samples / "site", samples / "pdf-src"
    dest.mkdir(parents=True, exist_ok=True)
    if site.is_dir():
        for src in sorted(p for p in site.rglob("*") if p.is_file()):
            target = dest / src.relative_to(site)
            if _is_stale(target, src):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target)
    if pdf_src.is_dir():
        for src in sorted(pdf_src.rglob("*" + PDF_SOURCE_SUFFIX)):
            target = dest / str(src.relative_to(pdf_src))[: -len(".txt")]
            if _is_stale(target, src):
                target.parent.mkdir(parents=True, exist_ok=True)
                _write_atomically(target, render_pdf(src.read_text(encoding="utf-8")))
    return dest


def _is_stale(target: Path, src: Path) -> bool:
    return not target.exists() or target.stat().st_mtime < src.stat().st_mtime


def _write_atomically(target: Path, data: bytes) -> None:
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)


@dataclass
class PdfSource:
    """A parsed ``.pdf.txt`` source: metadata from the header block, then pages of blocks."""

    title: str = ""
    author: str = ""
    pages: list[list[str]] = field(default_factory=list)
    # Printed page numbers, as a real report's running header or footer shows them:
    # ``labels: , , i, ii, 1, 2`` (one per PDF page; empty: nothing printed, as on a cover),
    # ``running_header: BEHAVIOUR CHANGE {label}`` / ``running_footer: {label}``.
    labels: list[str] = field(default_factory=list)
    running_header: str = ""
    running_footer: str = ""


def parse_pdf_source(text: str) -> PdfSource:
    """Split a PDF text source into header metadata and pages of paragraphs/headings.

    The header block is optional: it is only read when a ``---`` line closes it.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    source = PdfSource()
    if "---" in (line.strip() for line in lines):
        end = next(i for i, line in enumerate(lines) if line.strip() == "---")
        header = lines[:end]
        if all(":" in line or not line.strip() for line in header):
            for line in header:
                key, _, value = line.partition(":")
                if key.strip().lower() == "title":
                    source.title = value.strip()
                elif key.strip().lower() == "author":
                    source.author = value.strip()
                elif key.strip().lower() == "labels":
                    source.labels = [v.strip() for v in value.split(",")]
                elif key.strip().lower() in ("running_header", "running_footer"):
                    setattr(source, key.strip().lower(), value.strip())
            lines = lines[end + 1 :]
    page: list[str] = []
    paragraph: list[str] = []

    def end_paragraph() -> None:
        if paragraph:
            page.append("\n".join(paragraph))
            paragraph.clear()

    for line in lines:
        if line.strip(" \t\r") == PAGE_BREAK:  # (str.strip() would eat the form feed)
            end_paragraph()
            source.pages.append(page)
            page = []
        elif not line.strip():
            end_paragraph()
        elif line.startswith("# "):
            end_paragraph()
            page.append(line)
        else:
            paragraph.append(line.rstrip())
    end_paragraph()
    if page or not source.pages:
        source.pages.append(page)
    return source


def render_pdf(text: str) -> bytes:
    """Render a PDF text source to PDF bytes with fpdf2's core Helvetica, deterministically.

    A fixed creation date (fpdf2 derives the file ID from content and that date) makes the
    output a pure function of the text.
    """
    source = parse_pdf_source(text)
    pdf = _LabelledPDF(source, format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_creation_date(FIXED_CREATION_DATE)
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    if source.title:
        pdf.set_title(_encodable(source.title))
    if source.author:
        pdf.set_author(_encodable(source.author))
    for blocks in source.pages:
        pdf.add_page()
        for block in blocks:
            if block.startswith("# "):
                pdf.set_font("helvetica", style="B", size=14)
                pdf.multi_cell(0, 7, _encodable(block[2:].strip()), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(2)
            else:
                pdf.set_font("helvetica", size=11)
                pdf.multi_cell(0, 5.5, _encodable(_flow(block)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(3)
    return bytes(pdf.output())


class _LabelledPDF(FPDF):
    """fpdf2 with a running header and footer carrying each page's printed number."""

    def __init__(self, source: PdfSource, **kwargs):
        super().__init__(**kwargs)
        self.source = source

    def _label(self) -> str:
        labels = self.source.labels
        return labels[self.page_no() - 1] if self.page_no() <= len(labels) else ""

    def _running(self, template: str, y: float) -> None:
        label = self._label()
        if not template or not label:
            return
        self.set_xy(self.l_margin, y)
        self.set_font("helvetica", size=9)
        self.cell(0, 5, _encodable(template.replace("{label}", label)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def header(self) -> None:
        self._running(self.source.running_header, 8)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self._running(self.source.running_footer, self.h - 12)


_LIST_MARKER = re.compile(r"^\s*(?:[-*\u2022]|\(?\w{1,3}[.)])\s")


def _flow(block: str) -> str:
    """Join a hard-wrapped prose paragraph into one line so multi_cell can re-wrap it.

    Blocks of short lines (a cover page, an address) and lists keep their line breaks.
    """
    lines = block.split("\n")
    if len(lines) == 1 or any(_LIST_MARKER.match(line) for line in lines[1:]):
        return block
    if all(len(line) >= 60 for line in lines[:-1]):
        return " ".join(line.strip() for line in lines)
    return block


def _encodable(text: str) -> str:
    """Replace characters that Windows-1252 (the core fonts' encoding) cannot hold."""
    out = []
    for char in text:
        char = _STAND_INS.get(char, char)
        try:
            char.encode("windows-1252")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFKD", char)
            char = "".join(c for c in decomposed if c.encode("windows-1252", "ignore")) or "?"
        out.append(char)
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------------

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".csv": "text/csv; charset=utf-8",
}


def resolve_path(root: Path, url_path: str) -> Path | None:
    """Map a request path to a file under ``root`` by the README's rules, or None (404).

    In order: the exact file; the path plus ``.json``; plus ``.pdf``; plus ``.html``; then
    ``index.html`` inside the directory. The query string is ignored.
    """
    root = root.resolve()
    relative = unquote(urlsplit(url_path).path).strip("/")
    base = (root / relative).resolve()
    if base != root and root not in base.parents:
        return None  # "..": nothing outside the site is served
    candidates = [base / "index.html"]
    if relative:
        candidates[:0] = [base] + [base.with_name(base.name + ext) for ext in (".json", ".pdf", ".html")]
    return next((c for c in candidates if c.is_file()), None)


def content_type_for(path: Path) -> str:
    return _CONTENT_TYPES.get(path.suffix.lower()) or (
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


class _DemoHandler(SimpleHTTPRequestHandler):
    """Serves the built site by :func:`resolve_path`; logs requests at DEBUG, not to stderr."""

    server_version = "RefrainDemo/0.1"

    def __init__(self, *args, root: Path, **kwargs):
        self.root = root
        super().__init__(*args, directory=str(root), **kwargs)

    def send_head(self):  # noqa: D102 - the stdlib hook that both GET and HEAD go through
        path = resolve_path(self.root, self.path)
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND, "Not found")
            return None
        parts = urlsplit(self.path)
        api = APIS.get(parts.path)
        if api is not None:
            status, answer = api(json.loads(path.read_bytes()), parse_qs(parts.query, keep_blank_values=True))
            body = json.dumps(answer, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        # Validators as a real web server sends them, so re-crawls can ask "changed?".
        stat = path.stat()
        etag = _etag(path, stat.st_mtime_ns, stat.st_size)
        last_modified = email.utils.formatdate(int(stat.st_mtime), usegmt=True)
        if _not_modified(self.headers, etag, int(stat.st_mtime)):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            return None
        data = path.open("rb")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type_for(path))
        self.send_header("Content-Length", str(stat.st_size))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.end_headers()
        return data

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        log.debug("demo site: " + format, *args)


_ETAGS: dict[tuple[str, int, int], str] = {}


def _etag(path: Path, mtime_ns: int, size: int) -> str:
    """A strong ETag from the file's bytes (a rebuilt but identical file keeps its ETag)."""
    key = (str(path), mtime_ns, size)
    if key not in _ETAGS:
        _ETAGS[key] = '"' + hashlib.sha256(path.read_bytes()).hexdigest()[:32] + '"'
    return _ETAGS[key]


def _not_modified(headers, etag: str, mtime: int) -> bool:
    """RFC 9110: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match:
        return etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
    since = headers.get("If-Modified-Since")
    if since:
        try:
            return mtime <= email.utils.parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


@contextlib.contextmanager
def serve_site(root: Path, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the built site in a daemon thread; yields its base URL, shuts it down on exit.

    ``port=0`` picks a free port, so tests and ``kb demo`` never collide.
    """
    handler = partial(_DemoHandler, root=Path(root).resolve())
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    # A short poll interval makes shutdown quick (the default half second adds up in tests).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-site", daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

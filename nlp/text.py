"""Format handlers: turn a file into page-aware plain text (``SourceDocument``).

Each handler is a plain function of a path, testable without Scrapy or a store. A file
that cannot be read raises ``DocumentError`` with a one-line reason; nothing else escapes.
"""
from __future__ import annotations

import codecs
import json
import logging
import re
from pathlib import Path

from nlp.dates import normalise_date
from nlp.models import SourceDocument

log = logging.getLogger(__name__)

MAX_TEXT_BYTES = 200 * 1024 * 1024


class DocumentError(Exception):
    """A file that cannot be turned into text; the message is the user-facing reason."""


BLOCK_TAGS = {
    "p", "div", "section", "article", "li", "ul", "ol", "table", "tr", "br", "h1", "h2", "h3",
    "h4", "h5", "h6", "blockquote", "dd", "dt", "dl", "header", "footer", "main", "aside",
    "figure", "figcaption", "pre", "hr", "td", "th",
}
DROP_TAGS = ("script", "style", "noscript", "nav", "template", "svg", "form", "button")


def detect_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if head.startswith(b"%PDF") or suffix == ".pdf":
        return "pdf"
    if suffix == ".json":
        return "govuk-json"
    if suffix in (".html", ".htm", ".xhtml"):
        return "html"
    if suffix in (".md", ".markdown"):
        return "markdown"
    stripped = head.lstrip()[:200].lower()
    if stripped.startswith(b"<!doctype html") or stripped.startswith(b"<html"):
        return "html"
    if stripped.startswith(b"{"):
        return "govuk-json"
    return "text"


def load_document(path: str | Path, fmt: str | None = None) -> SourceDocument:
    """Read any supported file into a ``SourceDocument``; raise ``DocumentError`` otherwise."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from None
    if size == 0:
        raise DocumentError("empty file (0 bytes)")
    if size > MAX_TEXT_BYTES:
        raise DocumentError(f"file too large ({size} bytes)")
    fmt = fmt or detect_format(path, head)
    loader = LOADERS.get(fmt)
    if loader is None:
        raise DocumentError(f"unsupported format {fmt!r}")
    doc = loader(path)
    if not doc.text.strip():
        if fmt == "pdf":
            raise DocumentError("no text layer (a scanned or image-only PDF?)")
        raise DocumentError(f"no text found (empty {fmt} document)")
    return doc


# --- PDF ---------------------------------------------------------------------------------

def pdf_pages(path: str | Path) -> list[str]:
    return load_pdf(Path(path)).pages


def load_pdf(path: Path) -> SourceDocument:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise DocumentError("encrypted PDF (password required)") from None
        raise DocumentError(f"broken PDF: {reason}") from None
    try:
        pages, labels = [], []
        for index in range(len(pdf)):
            labels.append(_page_label(pdf, index))
            page = pdf[index]
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            textpage.close()
            page.close()
            pages.append(clean_pdf_text(text))
        meta = {}
        try:
            meta = {k.lower(): v for k, v in pdf.get_metadata_dict().items() if v}
        except Exception:  # metadata is optional; a bad info dict must not lose the text
            pass
    except pdfium.PdfiumError as exc:
        raise DocumentError(f"broken PDF: {exc}") from None
    finally:
        pdf.close()
    title = (meta.get("title") or "").strip() or None
    extra = {"page_labels": labels} if any(labels) else {}
    return SourceDocument(str(path), "pdf", pages, True, title=title, meta={"pdf": meta, **extra})


def _page_label(pdf, index: int) -> str | None:
    """The page's /PageLabels entry ('ix', '49'), None when the PDF has none (see nlp.page_labels)."""
    try:
        return pdf.get_page_label(index) or None
    except Exception:  # a malformed label tree must not lose the text
        return None


def clean_pdf_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = text.replace("\ufffe", "").replace("\u00ad", "")
    # pdfium reports a hyphen at a line break as U+0002; join the word back together.
    text = re.sub(r"(\w)[\x02]\n(\w)", r"\1\2", text)
    return text.replace("\x02", "-")


# --- HTML --------------------------------------------------------------------------------

def html_to_text(markup: str | bytes) -> str:
    """Visible text with block elements on their own lines (paragraphs kept apart)."""
    root = _parse_html(markup)
    if root is None:
        return ""
    return _root_text(root)


def _parse_html(markup: str | bytes):
    import lxml.html
    from lxml import etree

    if isinstance(markup, bytes):
        markup = decode_bytes(markup)
    if not markup.strip():
        return None
    parser = lxml.html.HTMLParser()
    try:
        root = lxml.html.document_fromstring(markup, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    if any("Excessive depth" in e.message for e in parser.error_log):
        # libxml2 stops at 256 levels and silently drops the rest: say so rather than
        # storing a page that lost its text.
        raise DocumentError("HTML nested too deeply to parse (more than 256 levels)")
    return root


def _root_text(root) -> str:
    for bad in root.xpath("|".join(f"//{t}" for t in DROP_TAGS)):
        bad.drop_tree()
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in BLOCK_TAGS:
            el.tail = "\n\n" + (el.tail or "")
            if el.tag in ("br", "td", "th"):
                el.tail = (" " if el.tag != "br" else "\n") + (el.tail or "").lstrip("\n")
    text = root.text_content()
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def decode_bytes(data: bytes) -> str:
    """UTF-8, with any byte that is not valid UTF-8 read as Windows-1252: files pasted
    together from a UTF-8 and a Windows source keep both halves legible (no mojibake)."""
    return data.decode("utf-8", errors=_CP1252_FALLBACK)


def _cp1252_fallback(exc: UnicodeDecodeError) -> tuple[str, int]:
    bad = exc.object[exc.start:exc.end]
    return bad.decode("cp1252", errors="replace"), exc.end


_CP1252_FALLBACK = "refrain-cp1252-fallback"
codecs.register_error(_CP1252_FALLBACK, _cp1252_fallback)


def load_html(path: Path) -> SourceDocument:
    raw = path.read_bytes()
    root = _parse_html(raw)
    if root is None:
        raise DocumentError("malformed or empty HTML")
    title = _first_text(root, ["//h1", "//title"])
    published = _html_date(root)
    main = root.xpath("//main") or root.xpath("//article") or [root]
    text = _root_text(main[0])
    return SourceDocument(str(path), "html", [text], False, title=title, published=published)


def _first_text(root, xpaths: list[str]) -> str | None:
    for xp in xpaths:
        for el in root.xpath(xp):
            text = " ".join(el.text_content().split())
            if text:
                return text
    return None


def _html_date(root) -> str | None:
    for xp in (
        "//meta[@property='article:published_time']/@content",
        "//meta[@name='dcterms.date']/@content",
        "//meta[@name='DC.date']/@content",
        "//time/@datetime",
    ):
        for value in root.xpath(xp):
            date = normalise_date(value)
            if date:
                return date
    return None


# --- Markdown and text -------------------------------------------------------------------

def load_markdown(path: Path) -> SourceDocument:
    text = decode_bytes(path.read_bytes())
    title = None
    for line in text.splitlines():
        m = re.match(r"^#{1,2}\s+(.+?)\s*#*\s*$", line)
        if m:
            title = " ".join(_strip_md(_md_html(m.group(1))).split())
            break
    return SourceDocument(str(path), "markdown", [_strip_md(_md_blocks(_md_html(text)))], False, title=title)


# Markdown may carry HTML, and R Markdown's output is full of it ("<!--html_preserve-->" blocks
# of <p>, <li>, <strong>): a renderer shows their text, so should a quote or a search hit.
_MD_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]{0,9})\b[^<>]{0,2000}?/?>")
_MD_HTML_TAGS = BLOCK_TAGS | {
    "a", "abbr", "b", "big", "caption", "center", "cite", "code", "col", "colgroup", "del", "details",
    "em", "font", "i", "img", "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strike",
    "strong", "sub", "summary", "sup", "tbody", "tfoot", "thead", "tt", "u", "var",
}
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,30}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
# A setext heading's underline or a rule: layout, not words. (A table's alignment row stays:
# it is how the funding reader knows a table, nlp/funding.py.)
_MD_UNDERLINE = re.compile(r"^[ \t]*(?:=+|-{3,}|\*{3,}|_{3,})[ \t]*$", re.M)


def _md_html(text: str) -> str:
    """The text of the HTML inside a Markdown file: comments and script or style bodies
    dropped, block elements (paragraphs, list items, headings, rows) on their own paragraphs,
    inline ones unwrapped, entities read. Text without a tag or entity passes unchanged."""
    if "<" not in text and "&" not in text:
        return text
    original = text
    text = _without_spans(text, "<!--", "-->")
    for tag in ("script", "style"):
        text = _without_spans(text, f"<{tag}", f"</{tag}>")

    def tag(m: re.Match) -> str:
        name = m.group(1).lower()
        if name not in _MD_HTML_TAGS:
            return m.group(0)  # "<5%" never matches; "<y and z>" is not a tag we know
        if name == "br":
            return "\n"
        if name in ("td", "th"):
            return " "
        return "\n\n" if name in BLOCK_TAGS else ""

    text = _MD_TAG.sub(tag, text)
    if "&" in text:
        import html

        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    return text if text == original else re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text)


def _without_spans(text: str, start: str, end: str) -> str:
    """``text`` less every ``start``…``end`` span (case-insensitive), in one pass: a span
    left open runs to the end of the text, as a browser reads it."""
    low = text.lower()
    if start not in low:
        return text
    out, at = [], 0
    while (begin := low.find(start, at)) >= 0:
        out.append(text[at:begin])
        close = low.find(end, begin + len(start))
        at = len(text) if close < 0 else close + len(end)
        out.append("\n\n")
    out.append(text[at:])
    return "".join(out)


def _md_blocks(text: str) -> str:
    """A setext underline or a rule goes; the heading above it stays its own line."""
    return _MD_UNDERLINE.sub("", text)


def _strip_md(text: str) -> str:
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links keep their words
    text = re.sub(r"^#{1,6}\s*", "", text, flags=re.M)
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!&$£])", r"\1", text)  # markdown escapes
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    return text


def load_text(path: Path) -> SourceDocument:
    text = decode_bytes(path.read_bytes())
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), None)
    title = first if first and len(first) < 200 else None
    return SourceDocument(str(path), "text", [text], False, title=title)


# --- GOV.UK content item JSON -------------------------------------------------------------

def load_govuk_json(path: Path) -> SourceDocument:
    try:
        item = json.loads(decode_bytes(path.read_bytes()))
    except json.JSONDecodeError as exc:
        raise DocumentError(f"invalid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(item, dict) or not ("details" in item or "base_path" in item):
        raise DocumentError("JSON is not a GOV.UK content item (no base_path/details)")
    details = item.get("details") if isinstance(item.get("details"), dict) else {}
    parts = []
    if isinstance(item.get("description"), str):
        parts.append(item["description"])
    body = details.get("body")
    if isinstance(body, list):  # multi-part bodies: [{"content_type": "text/html", "content": ...}]
        body = next((b.get("content") for b in body if isinstance(b, dict) and "html" in str(b.get("content_type"))), None)
    if isinstance(body, str):
        parts.append(html_to_text(body))
    for key in ("summary", "introduction"):
        if isinstance(details.get(key), str):
            parts.append(html_to_text(details[key]))
    blocks = details.get("documents")
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, str):
            parts.append(html_to_text(block))
    text = "\n\n".join(p for p in parts if p and p.strip())
    links = item.get("links") if isinstance(item.get("links"), dict) else {}
    orgs = [o.get("title") for o in links.get("organisations") or [] if isinstance(o, dict)]
    published = normalise_date(str(item.get("first_published_at") or item.get("public_updated_at") or ""))
    meta = {
        "base_path": item.get("base_path"),
        "document_type": item.get("document_type"),
        "organisations": [o for o in orgs if o],
        "public_updated_at": item.get("public_updated_at"),
    }
    title = item.get("title") if isinstance(item.get("title"), str) else None
    return SourceDocument(str(path), "govuk-json", [text], False, title=title,
                          published=published, meta=meta)


LOADERS = {
    "pdf": load_pdf,
    "html": load_html,
    "markdown": load_markdown,
    "text": load_text,
    "govuk-json": load_govuk_json,
}
